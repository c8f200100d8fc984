/**
 * One trial of bench/driver-ab.ts in a fresh process: imports the driver entry given as argv[2] (the
 * tree under test or a base tree), warms up, runs argv[5] s (default 3) of open loop at argv[4] per
 * second (or 16 VUs of closed loop for "closed") against argv[3] and prints one JSON line. A fresh
 * process per trial so no trial profits from another's JIT. With argv[6] = "thread" the run goes
 * through the tree's driver thread (driver-thread.ts: warm-up and rehearsal on a worker, as
 * `spillover load` and bench:driver run it); the GC figures are then this idle thread's only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const [, , mod, url, mode, durationArg, via] = process.argv;
const duration = Number(durationArg ?? 3);
const { runLoad, warmUp } = (await import(mod)) as typeof import('../src/load/driver.ts');
const threadModule = mod.replace(/driver\.ts$/, 'driver-thread.ts');
const { DriverThread } = (await import(threadModule)) as typeof import('../src/load/driver-thread.ts');
if (via !== 'thread') await warmUp();
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
const scenario = { timeScale: 1, warnings: [], scenarios: [spec] };
const thread = via === 'thread' ? await DriverThread.start(scenario) : undefined;
// Collections during the run, by kind: allocation per request shows up here on a loaded machine too.
const gc = { minor: 0, major: 0, ms: 0, maxMs: 0 };
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else gc.major++;
    gc.ms += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
});
obs.observe({ entryTypes: ['gc'] });
const c0 = process.cpuUsage();
const t0Epoch = Date.now() + 100;
// How long before t0 the driver was ready (prepared, connected): negative means it started late and
// its first iterations were all overdue at once.
let readyBeforeT0Ms = NaN;
const onReady = () => (readyBeforeT0Ms = t0Epoch - Date.now());
const opts = { scenario, runDir: dir, live: false, t0Epoch, onReady };
const r = thread ? await thread.run(opts) : await runLoad(opts);
const c = process.cpuUsage(c0);
obs.disconnect();
await thread?.close();
// Dropped iterations per second of the run: drops bunched in second 1 point at the driver's start
// (deoptimisation, connections, slot growth), drops spread over the run at the machine.
const droppedByS = fs
  .readFileSync(r.files.loadTicks, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { dropped: number }).dropped);
fs.rmSync(dir, { recursive: true, force: true });
const line = {
  cpuUs: (c.user + c.system) / r.started,
  started: r.started,
  dropped: r.dropped,
  readyBeforeT0Ms,
  droppedByS,
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
