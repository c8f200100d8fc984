/**
 * Cutting in-flight requests in any order (issue 11): the driver's in-flight FIFO is ordered by send
 * time, and a cut (request timeout, gracefulStop, abort) of an old request while newer ones have already
 * finished used to crash the sweep (TypeError) and lose every record not yet written. Each test below
 * makes the oldest requests hang while newer ones finish, and then counts the records.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { runLoad, warmUp } from '../../src/load/driver.ts';
import { directScenario } from '../../src/load/scenario.ts';
import type { RequestRecord } from '../../src/contracts/raw.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-cuts-'));
const readNd = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const quiet = { live: false };

/**
 * Answers requests by arrival order: `delayOf(n)` ms later, or never when it returns undefined. It
 * remembers every x-request-id it saw, so a test can check that every request sent has its record.
 */
async function server(delayOf: (n: number) => number | undefined) {
  const seen: string[] = [];
  const hung: string[] = [];
  const s = http.createServer((req, res) => {
    const rid = String(req.headers['x-request-id']);
    seen.push(rid);
    req.resume();
    const d = delayOf(seen.length);
    if (d === undefined) {
      hung.push(rid);
      return;
    }
    setTimeout(() => res.end('ok'), d);
  });
  s.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    port: (s.address() as AddressInfo).port,
    seen,
    hung,
    close: async () => {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}
const oneInThreeNever = (n: number) => (n % 3 === 0 ? undefined : 0);

/** Every request the server saw is recorded once; the hung ones are cut, with `why`; the others answered. */
function checkRecords(dir: string, srv: { seen: string[]; hung: string[] }, started: number, why: RequestRecord['cut'][]) {
  const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
  assert.equal(recs.length, started, 'one record per started request');
  assert.deepEqual(new Set(recs.map((r) => r.rid)), new Set(srv.seen), 'the records are exactly the requests the server saw');
  assert.equal(new Set(recs.map((r) => r.rid)).size, recs.length, 'no request recorded twice');
  const hung = new Set(srv.hung);
  for (const r of recs) {
    if (hung.has(r.rid)) {
      assert.equal(r.status, 0, `hung request ${r.rid} has no status`);
      assert.ok(why.includes(r.cut), `hung request ${r.rid} cut as ${r.cut}, expected one of ${why.join(', ')}`);
    } else {
      assert.equal(r.status, 200, `answered request ${r.rid}`);
      assert.equal(r.cut, undefined);
    }
  }
  return recs;
}

describe('load/driver: cutting in-flight requests in any order keeps every record', function () {
  this.timeout(30_000);
  before(() => warmUp());

  it('request timeout of the oldest request while newer ones have finished (one in three never answered)', async () => {
    const srv = await server(oneInThreeNever);
    const dir = tmp();
    try {
      const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 20, duration: 1.5, gracefulStop: 2 });
      const res = await runLoad({ scenario, runDir: dir, t0Epoch: Date.now() + 50, requestTimeoutMs: 300, ...quiet });
      assert.equal(res.started, 30);
      assert.equal(srv.hung.length, 10);
      const recs = checkRecords(dir, srv, res.started, ['timeout']);
      for (const r of recs.filter((x) => x.cut)) assert.equal(r.error, 'timeout');
      assert.equal(res.failed, 10);
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gracefulStop cuts every hung request at once, among finished ones', async () => {
    const srv = await server(oneInThreeNever);
    const dir = tmp();
    try {
      const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 20, duration: 1, gracefulStop: 0.3 });
      const res = await runLoad({ scenario, runDir: dir, t0Epoch: Date.now() + 50, requestTimeoutMs: 60_000, ...quiet });
      assert.equal(res.started, 20);
      const recs = checkRecords(dir, srv, res.started, ['gracefulStop']);
      assert.equal(recs.filter((r) => r.cut === 'gracefulStop').length, srv.hung.length);
      assert.equal(res.interrupted, srv.hung.length);
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('abort cuts every hung request, among finished ones', async () => {
    const srv = await server(oneInThreeNever);
    const dir = tmp();
    try {
      const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 20, duration: 30, gracefulStop: 30 });
      const ac = new AbortController();
      const run = runLoad({ scenario, runDir: dir, t0Epoch: Date.now() + 50, signal: ac.signal, abortGraceMs: 100, ...quiet });
      // Abort once a few hung requests are in flight behind finished ones (counted, not timed).
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (srv.hung.length >= 4) {
            clearInterval(t);
            resolve();
          }
        }, 10);
      });
      ac.abort();
      const res = await run;
      assert.equal(res.aborted, true);
      checkRecords(dir, srv, res.started, ['abort']);
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('timeouts, answers and gracefulStop interleaved in a shuffled order (seeded)', async () => {
    // Delays straddle the 150 ms timeout, so some requests are cut after newer ones finished and some
    // answer before older ones are cut; the never-answered rest is cut by gracefulStop or the timeout.
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const delays: Array<number | undefined> = Array.from({ length: 200 }, () => {
      const x = rand();
      return x < 0.2 ? undefined : Math.floor(x * 300);
    });
    const srv = await server((n) => delays[(n - 1) % delays.length]);
    const dir = tmp();
    try {
      const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 100, duration: 1, gracefulStop: 0.1 });
      const res = await runLoad({ scenario, runDir: dir, t0Epoch: Date.now() + 50, requestTimeoutMs: 150, ...quiet });
      assert.equal(res.started + res.dropped, 100);
      const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
      assert.equal(recs.length, res.started);
      assert.deepEqual(new Set(recs.map((r) => r.rid)), new Set(srv.seen));
      for (const r of recs) if (srv.hung.includes(r.rid)) assert.ok(r.cut === 'timeout' || r.cut === 'gracefulStop', `${r.rid}: ${r.cut}`);
      assert.ok(
        recs.some((r) => r.cut === 'timeout' && !srv.hung.includes(r.rid)),
        'some answered-too-late requests were cut by the timeout',
      );
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`spillover load --rate 20 --duration 3s --graceful-stop 2s --timeout 1s` against it exits 0 with all 60 records', async () => {
    const srv = await server(oneInThreeNever);
    const dir = tmp();
    try {
      const r = await execa(
        'node',
        [
          'bin/spillover.js',
          'load',
          `http://127.0.0.1:${srv.port}/`,
          '--rate',
          '20',
          '--duration',
          '3s',
          '--graceful-stop',
          '2s',
          '--timeout',
          '1s',
          '--out',
          path.join(dir, 'run'),
        ],
        { reject: false },
      );
      assert.equal(r.exitCode, 0, r.stderr);
      const recs = readNd<RequestRecord>(path.join(dir, 'run/raw/requests.ndjson'));
      assert.equal(recs.length, 60);
      assert.equal(srv.seen.length, 60);
      assert.equal(recs.filter((x) => x.cut === 'timeout').length, 20);
      assert.deepEqual(new Set(recs.map((x) => x.rid)), new Set(srv.seen));
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
