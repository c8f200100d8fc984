import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { DriverThread, runLoadInThread } from '../../src/load/driver-thread.ts';
import { directScenario } from '../../src/load/scenario.ts';
import { isSpilloverError } from '../../src/errors.ts';
import type { RequestRecord } from '../../src/contracts/raw.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-thread-'));
const readNd = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

async function server(handler: http.RequestListener) {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`,
    close: async () => {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}

describe('load/driver-thread: the driver on its own thread', function () {
  this.timeout(30_000);

  it('runs the schedule and writes the same raw files; callbacks and the result come back to this thread; the rehearsal never reaches the target', async () => {
    let seen = 0;
    const srv = await server((_q, res) => {
      seen++;
      res.setHeader('x-spillover-service', 'A');
      res.end('ok');
    });
    const dir = tmp();
    try {
      const scenario = directScenario({ url: srv.url, rate: 200, duration: 1, gracefulStop: 1 });
      const thread = await DriverThread.start(scenario);
      assert.equal(seen, 0, 'the rehearsal before t0 went to the private server only');
      let ready = 0;
      let metricsPort = 0;
      const res = await thread.run({
        scenario,
        runDir: dir,
        t0Epoch: Date.now() + 100,
        live: false,
        metricsPort: 0,
        onMetricsListening: (p) => {
          metricsPort = p;
        },
        onReady: () => {
          ready++;
        },
      });
      await thread.close();
      assert.equal(ready, 1);
      assert.ok(metricsPort > 0, 'the metrics port is reported');
      assert.equal(res.started, 200);
      assert.equal(res.ok, 200);
      assert.equal(res.dropped, 0);
      assert.equal(seen, 200, 'the target saw exactly the scheduled requests');
      const records = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
      assert.equal(records.length, 200);
      assert.deepEqual([...new Set(records.map((r) => r.service))], ['A']);
      // Joined with the plan: iteration k of 200/s is due at k * 5 ms.
      for (const r of records) assert.ok(Math.abs(r.intended - r.iter * 0.005) < 1e-6, `iteration ${r.iter} due at ${r.intended}`);
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an abort on this thread stops the run there: in-flight requests are cut and recorded, the thread ends', async () => {
    const srv = await server(() => {
      /* never answers */
    });
    const dir = tmp();
    try {
      const ac = new AbortController();
      const thread = await DriverThread.start();
      const run = thread.run({
        scenario: directScenario({ url: srv.url, rate: 100, duration: 30, gracefulStop: 30 }),
        runDir: dir,
        t0Epoch: Date.now() + 50,
        live: false,
        signal: ac.signal,
        abortGraceMs: 100,
      });
      setTimeout(() => ac.abort(), 600);
      const started = Date.now();
      const res = await run;
      await thread.close();
      assert.ok(Date.now() - started < 5000, 'did not run the 30 s schedule');
      assert.equal(res.aborted, true);
      assert.ok(res.started >= 40, `${res.started} started`);
      const records = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
      assert.equal(records.length, res.started, 'every started request has its record');
      assert.ok(records.every((r) => r.error === 'aborted'));
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a forced exit (process.exit, as a second Ctrl-C does) still writes every record the thread had batched', async function () {
    this.timeout(120_000); // counts decide when it exits, not a clock; a busy machine only makes it slower
    const seen = new Set<string>();
    const srv = await server((q, res) => {
      seen.add(String(q.headers['x-request-id']));
      res.end('ok');
    });
    const dir = tmp();
    try {
      // A child process runs the driver thread and exits abruptly mid-run, between two 50 ms flushes. It
      // exits once the thread's own /metrics says at least 500 requests completed and at least 20 of them
      // are not in the file yet, i.e. still batched (counts, not times: on a busy machine a fixed delay saw
      // 123 answered where 1,000 were expected), and prints both counts. Without the exit handshake those
      // batched records would be missing.
      const script = path.join(dir, 'exit.mts');
      fs.writeFileSync(
        script,
        `import { DriverThread } from ${JSON.stringify(new URL('../../src/load/driver-thread.ts', import.meta.url).href)};
import { directScenario } from ${JSON.stringify(new URL('../../src/load/scenario.ts', import.meta.url).href)};
import fs from 'node:fs';
const scenario = directScenario({ url: ${JSON.stringify(srv.url)}, rate: 2000, duration: 60, gracefulStop: 1 });
const thread = await DriverThread.start();
thread.onForcedExit = (c) => process.stdout.write(' ' + c.started + ' ' + c.completed);
const file = ${JSON.stringify(path.join(dir, 'raw/requests.ndjson'))};
const completed = async (port) => {
  const text = await (await fetch('http://127.0.0.1:' + port + '/metrics')).text();
  return text.split('\\n').filter((l) => l.startsWith('k6_http_reqs_total')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
};
void thread.run({ scenario, runDir: ${JSON.stringify(dir)}, t0Epoch: Date.now() + 100, live: false, metricsPort: 0, onMetricsListening: async (port) => {
  for (;;) {
    const n = await completed(port);
    let written = 0;
    try { written = fs.readFileSync(file, 'utf8').split('\\n').length - 1; } catch {}
    // At least 20 records the thread completed are not in the file yet: they are in its batch.
    if (n >= 500 && n - written >= 20) { process.stdout.write(n + ' ' + written); process.exit(130); }
    await new Promise((r) => setTimeout(r, 2));
  }
} });
`,
      );
      const child = await execa(process.execPath, ['--import', 'tsx', script], { reject: false });
      assert.equal(child.exitCode, 130, `${child.stdout}\n${child.stderr}`);
      const [counted, written, started, completed] = child.stdout.split(' ').map(Number);
      assert.ok(counted >= 500 && counted - written >= 20, `the thread counted ${child.stdout}`);
      const lines = fs.readFileSync(path.join(dir, 'raw/requests.ndjson'), 'utf8').split('\n').filter(Boolean);
      const records = lines.map((l) => JSON.parse(l) as RequestRecord);
      assert.ok(records.length >= counted, `${records.length} records for ${counted} requests the thread had completed before the exit`);
      // Requests still in flight at the exit are recorded too (cut "exit"): one record per started request.
      assert.equal(completed, started, `the thread's counters at the exit: ${child.stdout}`);
      assert.equal(records.length, started, `${records.length} records for ${started} started`);
      for (const rid of seen)
        assert.ok(
          records.some((r) => r.rid === rid),
          `request ${rid} reached the server but has no record`,
        );
      assert.ok(
        records.every((r) => r.status === 200 || r.cut === 'exit'),
        'only requests cut by the exit lack an answer',
      );
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad input fails the same way as on the main thread: a SpilloverError naming the field, nothing written', async () => {
    const dir = tmp();
    try {
      await assert.rejects(
        runLoadInThread({ scenario: directScenario({ url: 'http://192.0.2.1/', rate: 1, duration: 1 }), runDir: dir, live: false }),
        (e: unknown) => {
          assert.ok(isSpilloverError(e), String(e));
          assert.match(e.message, /requests\[0\]\.url/);
          assert.match(e.message, /127\.0\.0\.0\/8|loopback/);
          return true;
        },
      );
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an I/O error inside the thread keeps its code (the runner turns ENOSPC into its own message)', async () => {
    const srv = await server((_q, res) => res.end('ok'));
    const dir = tmp();
    try {
      fs.mkdirSync(path.join(dir, 'raw'));
      fs.symlinkSync('/dev/full', path.join(dir, 'raw', 'requests.ndjson'));
      await assert.rejects(
        runLoadInThread({
          scenario: directScenario({ url: srv.url, rate: 500, duration: 2, gracefulStop: 1 }),
          runDir: dir,
          t0Epoch: Date.now() + 50,
          live: false,
        }),
        (e: NodeJS.ErrnoException) => {
          assert.equal(e.code, 'ENOSPC', String(e));
          return true;
        },
      );
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
