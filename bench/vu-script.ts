/**
 * The VU runtime in bench/driver.ts: the highest rate a k6 script (`http.get` + `check`, no sleep) run
 * by constant-arrival-rate holds within 1 % with p99 start lag <= 1 ms, and the memory of 1,000 VUs of
 * that script (heap and RSS after initialising them, on this thread).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DriverOptions, LoadResult } from '../src/load/driver.ts';
import { readScenario } from '../src/load/scenario.ts';
import { MetricStore } from '../src/load/vu/metric-store.ts';
import { VuRuntime } from '../src/load/vu/runtime.ts';
import { heldSearch } from './open-loop-peers.ts';

const SCRIPT = (rate: number, seconds: number) => `import http from 'k6/http';
import { check } from 'k6';
export const options = { scenarios: { s: { executor: 'constant-arrival-rate', rate: ${rate}, timeUnit: '1s', duration: '${seconds}s', preAllocatedVUs: 256, maxVUs: 4096, gracefulStop: '2s' } } };
export default function () { const r = http.get(__ENV.URL); check(r, { 'is 200': (x) => x.status === 200 }); }
`;

type Run = (opts: Omit<DriverOptions, 't0Epoch'>) => Promise<LoadResult>;

export async function vuScriptBest(
  url: string,
  seconds: number,
  tmp: string,
  runLoad: Run,
  log: (m: string) => void,
): Promise<{ strict: number; held: number }> {
  let strict = 0;
  const held = await heldSearch(async (rate) => {
    const file = path.join(tmp, `vu-${rate}.js`);
    fs.writeFileSync(file, SCRIPT(rate, Math.max(1, seconds)));
    const scenario = await readScenario(file, { env: { URL: url }, forceVu: true });
    const runDir = fs.mkdtempSync(path.join(tmp, `vu-run-${rate}-`));
    const res = await runLoad({ scenario, runDir, live: false, requestTimeoutMs: 10_000 });
    fs.rmSync(runDir, { recursive: true, force: true });
    const due = rate * Math.max(1, seconds);
    const ratio = res.ok / due;
    const pass = ratio >= 0.99 && res.startLagMs.p99 <= 1;
    if (pass && rate > strict) strict = rate;
    log(
      `  VU script ${rate}/s: ok ${res.ok}/${due} (${(100 * ratio).toFixed(2)} %), dropped ${res.dropped}, start lag p99 ${res.startLagMs.p99.toFixed(3)} ms -> ${pass ? 'holds' : ratio >= 0.99 ? 'holds the rate, not the lag' : 'does not hold'}`,
    );
    return ratio >= 0.99;
  });
  return { strict, held };
}

export async function vuMemoryPer1000(tmp: string): Promise<{ heapKiBPerVu: number; rssKiBPerVu: number }> {
  const file = path.join(tmp, 'vu-mem.js');
  fs.writeFileSync(file, SCRIPT(1, 1));
  const sc = await readScenario(file, { env: { URL: 'http://127.0.0.1:1/' }, forceVu: true });
  const host = {
    store: new MetricStore(),
    http: {} as never,
    runTags: {},
    scriptDir: tmp,
    record: () => undefined,
    resolve: async () => ({ origin: '' }),
    log: () => undefined,
    execution: {} as never,
  };
  const rt = new VuRuntime(sc.vu!.code, host, { globalEnv: { URL: 'http://127.0.0.1:1/' } });
  const vus = [];
  global.gc?.();
  const before = process.memoryUsage();
  for (let i = 1; i <= 1000; i++) vus.push(await rt.init(rt.newState(i, {})));
  global.gc?.();
  const after = process.memoryUsage();
  if (vus.length !== 1000) throw new Error('not every VU initialised');
  return { heapKiBPerVu: (after.heapUsed - before.heapUsed) / 1000 / 1024, rssKiBPerVu: (after.rss - before.rss) / 1000 / 1024 };
}
