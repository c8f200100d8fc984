/**
 * The first requests of a process are slow: undici compiles its llhttp WebAssembly parser on the first
 * connection, and V8 has neither type feedback nor optimised code for the hot path. Measured at 28k/s
 * against nginx, a cold process dropped 800-2000 iterations in its first 300 ms of load, where one that
 * had already run 0.1 s of real load dropped 100-400. So the driver first runs against a private server
 * on a thread of its own (warm-up-server.js; on this thread it would take turns with the driver and
 * hold the rate down), which answers like a service behind Envoy. The target sees no traffic outside
 * the schedule. Twice, differently shaped: field types and maps that a second Driver generalises
 * (deoptimising every function that depends on them) are generalised here rather than at a real run's
 * start.
 *
 * Nothing happens on import: runLoad warms up before its first run, the driver thread
 * (driver-worker.ts) before it says it is warm, and callers that fix t0Epoch early call warmUp() first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Driver } from './driver-core.ts';
import { newHistogram } from './scenario-run.ts';
import type { ScenarioSpec } from './types.ts';

let warmedUp = false;

/** Runs `fn` with the warm-up server listening on 127.0.0.1, on a thread of its own. */
export async function withWarmUpServer<T>(fn: (origin: string) => Promise<T>): Promise<T> {
  // No execArgv: the worker must not load this process's TypeScript loader (see warm-up-server.js).
  const server = new Worker(new URL('./warm-up-server.js', import.meta.url), { execArgv: [] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', resolve);
      server.once('error', reject);
    });
    return await fn(`http://127.0.0.1:${port}`);
  } finally {
    await server.terminate();
  }
}

/** Runs each list of scenarios once, in turn, through a Driver writing to a throw-away directory. */
export async function runPrivately(rounds: ScenarioSpec[][]): Promise<void> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-warm-up-'));
  try {
    for (const scenarios of rounds) {
      const driver = new Driver({ scenario: { timeScale: 1, warnings: [], scenarios }, runDir, live: false, requestTimeoutMs: 5000 });
      await driver.prepare();
      await driver.preconnect();
      driver.setT0(Date.now() + 20);
      await driver.run();
      fs.rmSync(path.join(runDir, 'raw'), { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/** Idempotent; about 1 s the first time. */
export async function warmUp(): Promise<void> {
  if (warmedUp) return;
  // The per-second histogram encoding loads its compressor lazily on first use.
  const h = newHistogram();
  h.recordValue(1000);
  hdr.encodeIntoCompressedBase64(h);
  await withWarmUpServer(async (origin) => {
    const url = `${origin}/warm-up?x=1`;
    const base = { timeUnit: 1, startTime: 0, gracefulStop: 1, exec: 'default', env: {} };
    const ramp: ScenarioSpec = {
      ...base,
      name: 'ramp',
      executor: 'ramping-arrival-rate',
      startRate: 1000,
      stages: [{ duration: 0.35, target: 24000 }],
      preAllocatedVUs: 2,
      maxVUs: 256,
      requests: [{ method: 'GET', url }],
    };
    const post: ScenarioSpec = {
      ...base,
      name: 'post',
      executor: 'constant-arrival-rate',
      rate: 2000,
      duration: 0.35,
      preAllocatedVUs: 16,
      maxVUs: 16,
      requests: [{ method: 'POST', url, body: '{}', headers: { 'content-type': 'application/json' } }],
    };
    const constant: ScenarioSpec = {
      ...base,
      name: 'constant',
      executor: 'constant-arrival-rate',
      rate: 12000,
      duration: 0.2,
      preAllocatedVUs: 256,
      maxVUs: 256,
      requests: [{ method: 'GET', url }],
    };
    await runPrivately([[ramp, post], [constant]]);
  });
  warmedUp = true;
}
