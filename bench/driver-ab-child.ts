/**
 * One trial of bench/driver-ab.ts in a fresh process: imports the driver entry given as argv[2] (the
 * tree under test or a base tree), warms up, runs 3 s of open loop at argv[4] per second (or 16 VUs of
 * closed loop for "closed") against argv[3] and prints one JSON line. A fresh process per trial so no
 * trial profits from another's JIT.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const [, , mod, url, mode, durationArg] = process.argv;
const duration = Number(durationArg ?? 3);
const { runLoad, warmUp } = (await import(mod)) as typeof import('../src/load/driver.ts');
await warmUp();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-'));
const base = { name: 'default', startTime: 0, gracefulStop: 2, exec: 'default', env: {}, requests: [{ method: 'GET', url }] };
const spec =
  mode === 'closed'
    ? { ...base, executor: 'constant-vus' as const, vus: 16, duration }
    : {
        ...base,
        executor: 'constant-arrival-rate' as const,
        rate: Number(mode),
        timeUnit: 1,
        duration,
        preAllocatedVUs: 64,
        maxVUs: 256,
      };
// Collections during the run, by kind: allocation per request shows up here on a loaded machine too.
const gc = { minor: 0, major: 0, ms: 0, maxMs: 0 };
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e.detail as { kind?: number } | undefined)?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else gc.major++;
    gc.ms += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
});
obs.observe({ entryTypes: ['gc'] });
const c0 = process.cpuUsage();
const r = await runLoad({
  scenario: { timeScale: 1, warnings: [], scenarios: [spec] },
  runDir: dir,
  live: false,
  t0Epoch: Date.now() + 100,
});
const c = process.cpuUsage(c0);
obs.disconnect();
fs.rmSync(dir, { recursive: true, force: true });
const line = {
  cpuUs: (c.user + c.system) / r.started,
  started: r.started,
  dropped: r.dropped,
  p50: r.startLagMs.p50,
  p99: r.startLagMs.p99,
  max: r.startLagMs.max,
  gcMinor: gc.minor,
  gcMajor: gc.major,
  gcMs: Math.round(gc.ms * 10) / 10,
  gcMaxMs: Math.round(gc.maxMs * 100) / 100,
  load: os.loadavg()[0],
};
console.log(JSON.stringify(line));
