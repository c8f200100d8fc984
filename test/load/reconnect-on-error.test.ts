/**
 * DriverOptions.reconnectOnError (fortio's behaviour): after an error response the driver closes that
 * connection and the iteration's next request goes out on a new one; without it (k6's behaviour) the
 * connection is kept. One VU in a closed loop sends its requests one after another, so without the
 * option every request shares the one pre-opened connection.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runLoad, warmUp } from '../../src/load/driver.ts';
import { readScenario } from '../../src/load/scenario.ts';
import type { RequestRecord } from '../../src/contracts/raw.ts';
import type { Scenario } from '../../src/load/types.ts';

/** Answers request n (from 1) with 503 when n is in `failing`, else 200; remembers each request's connection. */
async function server(failing: Set<number>) {
  const socketOf: number[] = [];
  const ids = new WeakMap<Socket, number>();
  let sockets = 0;
  const s = http.createServer((req, res) => {
    let id = ids.get(req.socket);
    if (id === undefined) ids.set(req.socket, (id = ++sockets));
    socketOf.push(id);
    req.resume();
    res.statusCode = failing.has(socketOf.length) ? 503 : 200;
    res.end('x');
  });
  s.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    port: (s.address() as AddressInfo).port,
    socketOf,
    connections: () => sockets,
    close: async () => {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}

const oneVu = (port: number): Scenario => ({
  timeScale: 1,
  warnings: [],
  scenarios: [
    {
      name: 'default',
      executor: 'constant-vus',
      vus: 1,
      duration: 0.4,
      startTime: 0,
      gracefulStop: 1,
      exec: 'default',
      env: {},
      requests: [{ method: 'GET', url: `http://127.0.0.1:${port}/work` }],
    },
  ],
});

/** The same closed loop as a k6 script the VU runtime runs (shared-iterations: one VU, ten requests). */
async function oneVuScript(port: number, dir: string): Promise<Scenario> {
  const file = path.join(dir, 'script.js');
  fs.writeFileSync(
    file,
    `import http from 'k6/http';
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 10 } } };
export default function () { http.get('http://127.0.0.1:${port}/work'); }
`,
  );
  const sc = await readScenario(file);
  assert.ok(sc.vu, 'shared-iterations runs in the VU runtime');
  return sc;
}

async function run(reconnectOnError: boolean | undefined, runtime: 'fast' | 'vu' = 'fast') {
  const srv = await server(new Set([3, 6]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-reconnect-'));
  try {
    const scenario = runtime === 'vu' ? await oneVuScript(srv.port, dir) : oneVu(srv.port);
    const result = await runLoad({ scenario, runDir: dir, live: false, reconnectOnError });
    const records = fs
      .readFileSync(path.join(dir, 'raw/requests.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RequestRecord)
      .sort((a, b) => a.id - b.id);
    return { result, records, socketOf: [...srv.socketOf], connections: srv.connections() };
  } finally {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('load/driver: reconnectOnError', function () {
  this.timeout(20_000);
  before(() => warmUp());

  it('on: the request after each 5xx goes out on a new connection, the one after a 2xx on the same', async () => {
    const { result, records, socketOf, connections } = await run(true);
    assert.ok(records.length > 7, `enough requests to see both 503s answered and followed (${records.length})`);
    assert.deepEqual(
      records.slice(0, 7).map((r) => r.status),
      [200, 200, 503, 200, 200, 503, 200],
    );
    assert.equal(result.failed, 2);
    // Requests 1-3 on the first connection, 4-6 on a second, 7 onwards on a third.
    assert.deepEqual(socketOf.slice(0, 8), [1, 1, 1, 2, 2, 2, 3, 3]);
    assert.equal(connections, 3);
  });

  it('off (the default, k6): one connection carries every request, 5xx or not', async () => {
    for (const option of [undefined, false]) {
      const { result, records, socketOf, connections } = await run(option);
      assert.ok(records.length > 7, `enough requests (${records.length})`);
      assert.equal(result.failed, 2);
      assert.equal(connections, 1, `reconnectOnError ${option}`);
      assert.ok(
        socketOf.every((s) => s === 1),
        'every request on the first connection',
      );
    }
  });

  // The VU runtime (k6 scripts, shared-iterations for fortio's -n) honours the option through its own transport.
  it('VU runtime, on: a new connection after each 5xx; off: one connection for all', async () => {
    const on = await run(true, 'vu');
    assert.deepEqual(
      on.records.map((r) => r.status),
      [200, 200, 503, 200, 200, 503, 200, 200, 200, 200],
    );
    assert.deepEqual(on.socketOf, [1, 1, 1, 2, 2, 2, 3, 3, 3, 3]);
    const off = await run(false, 'vu');
    assert.equal(off.records.length, 10);
    assert.equal(off.connections, 1);
  });
});
