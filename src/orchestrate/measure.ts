/**
 * Phase 3, measure: fix scenario time zero, start scraping, arm the faults and the crash watch, run
 * the load, and let the last Envoy log flush and scrape land. Every source streams to raw/ as it
 * measures, so whatever ends this phase early keeps what was measured so far.
 */
import path from 'node:path';
import type { ResolvedExperiment } from '../experiment/read-experiment.ts';
import type { LoadEngine } from '../load/engine.ts';
import type { Deployment } from '../runner/backend.ts';
import { startCapture } from '../runner/capture.ts';
import { safely } from './observe.ts';
import type { RunRecorder } from './recorder.ts';
import type { RunObserver } from '../contracts/run-observer.ts';

export interface MeasureResult {
  /** The scenario is a k6 script with thresholds, run by the VU runtime, and one failed. */
  k6ThresholdsFailed: boolean;
}

/** What the measure phase leaves running; teardown stops it whatever happened. */
export interface Measuring {
  capture?: { stop(): Promise<unknown> };
  timers: NodeJS.Timeout[];
  crashWatch?: NodeJS.Timeout;
}

export async function measure(
  exp: ResolvedExperiment,
  deployment: Deployment,
  engine: LoadEngine & { ready?(): Promise<void> },
  rec: RunRecorder,
  m: Measuring,
  signal: AbortSignal,
  say: (msg: string) => void,
  observer?: RunObserver,
): Promise<MeasureResult> {
  const spec = exp.spec;
  // Time zero is a little ahead, so the first scrape precedes the first request and the driver's own
  // start-up (connections, first timers) is over before the first iteration is due.
  await engine.ready?.();
  const t0Epoch = Date.now() + 600;
  rec.setT0(t0Epoch);
  const { scrape, fileFlushIntervalMs: fileFlushMs } = exp.timing;
  const statsIntervalMs = scrape.intervalMs;
  if (observer?.loadStarting)
    void safely(() => observer.loadStarting!({ runDir: rec.runDir, t0Epoch, manifest: rec.manifest, statsIntervalMs, fileFlushMs }));
  m.capture = startCapture({
    onRecord: observer?.capture ? (r, shape) => observer.capture!(r, shape) : undefined,
    runDir: rec.runDir,
    t0Epoch,
    targets: deployment.scrapeTargets,
    statsIntervalMs,
    clustersIntervalMs: scrape.clustersIntervalMs,
  });
  exp.timing.faults.forEach((f, i) => {
    // The event log records the fault as the experiment states it (its text, not the ms beside it).
    const stated = spec.faults[i];
    const fire = () => {
      rec.event({ kind: 'fault', what: `${f.action} ${f.target}`, detail: stated as unknown as Record<string, unknown> });
      deployment.fault(f).catch((e) => rec.event({ kind: 'error', what: `fault ${f.action} ${f.target} failed: ${(e as Error).message}` }));
    };
    m.timers.push(setTimeout(fire, Math.max(0, t0Epoch - Date.now() + f.atMs)));
  });
  const watchCrashes = crashWatcher(deployment, rec, say);
  m.crashWatch = setInterval(watchCrashes, 200);
  rec.event({ kind: 'phase', what: 'load' });
  const entry = deployment.entry;
  if (deployment.clientEntries) {
    // `clients:` form: each client's scenario through its own sidecar.
    for (const [name, t] of Object.entries(deployment.clientEntries)) {
      const scenario = exp.clientScenarios?.[name] ?? exp.scenarioPath;
      say(`load (client ${name}): ${path.relative(process.cwd(), scenario)} -> ${t.url}${t.connectTo ? ` (via ${t.connectTo})` : ''}`);
    }
  } else
    say(`load: ${path.relative(process.cwd(), exp.scenarioPath)} -> ${entry.url}${entry.connectTo ? ` (via ${entry.connectTo})` : ''}`);
  const load = await engine.run({ runDir: rec.runDir, t0Epoch, target: entry, targets: deployment.clientEntries, signal });
  rec.event({ kind: 'phase', what: 'load-done', detail: load as Record<string, unknown> });
  // A k6 script run by the VU runtime prints k6's own summary; a failed threshold is k6's exit 99.
  const k6 = (load as { k6?: { stdout: string; exitCode: number } }).k6;
  if (k6) say(k6.stdout.trimEnd());
  // Let the last file flush of Envoy's logs and one more scrape land before stopping.
  await new Promise((r) => setTimeout(r, Math.max(statsIntervalMs, fileFlushMs) + 200));
  watchCrashes();
  return { k6ThresholdsFailed: k6?.exitCode === 99 };
}

/** A crash is stamped when it happens, not when the run ends: the report places the gap it causes. */
function crashWatcher(deployment: Deployment, rec: RunRecorder, say: (msg: string) => void): () => void {
  const crashed = new Set<string>();
  return () => {
    for (const name of deployment.casualties()) {
      if (crashed.has(name)) continue;
      crashed.add(name);
      rec.event({ kind: 'process-exit', what: `${name} ended without being asked`, detail: { process: name, cause: 'crash' } });
      say(`warning: ${name} ended during the run without being asked; the run goes on with what is left`);
    }
  };
}
