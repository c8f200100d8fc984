/**
 * One experiment run, start to finish:
 *   experiment -> backend up -> load + scrape -> raw results -> analysis -> report.
 *
 * Everything that can be checked is checked before anything starts (experiment, Istio resources,
 * scenario script, results directory). Whatever happens after that -- success, error, Ctrl-C,
 * SIGTERM -- the backend is brought down and the manifest records how the run ended; raw data are
 * streamed to disk as they come, so an interrupted run keeps everything measured so far.
 */
import type { Scenario } from '../load/types.ts';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpilloverError } from '../errors.ts';
import { parseDuration } from '../experiment/duration.ts';
import { loadExperiment, type ResolvedExperiment } from '../experiment/load.ts';
import { toYaml } from '../mesh/yaml.ts';
import type { Backend, BackendContext, Deployment } from './backend.ts';
import { createBackend, type BackendChoice, type BackendOptions } from './backends/index.ts';
import { RAW, type RunEvent, type RunManifest } from './raw.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HARNESS_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface RunOptions {
  experimentFile: string;
  set?: string[];
  timeScale?: number;
  backend?: BackendChoice;
  backendOptions?: BackendOptions;
  /** Parent of the run directory; default results/<experiment>/ under the working directory. */
  outDir?: string;
  runId?: string;
  keep?: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  /** Allow load targets outside loopback (only meaningful off the local backend). */
  allowNonLoopback?: boolean;
  /** Serve the driver's live /metrics on this loopback port (0 = any free port). */
  metricsPort?: number;
  signal?: AbortSignal;
  /** Where progress lines go; default stderr. */
  log?: (msg: string) => void;
}

export interface RunResult {
  runDir: string;
  runId: string;
  exitCode: number;
  summary?: unknown;
  reportPath?: string;
  manifest: RunManifest;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${crypto.randomBytes(2).toString('hex')}`;
}

function gitSha(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

function checkWritable(dir: string) {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new SpilloverError({
      file: dir,
      message: `the results directory is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      fix: 'choose another directory with --out, or fix its permissions',
    });
  }
}

/**
 * What the machine must provide, checked before the run directory exists: a missing Envoy (or the
 * python3/pip that fetch it) and a taken --metrics-port are bad input like a typo, so they exit 2
 * and leave nothing behind instead of failing after half a deployment.
 */
async function preflight(opts: RunOptions, say: (m: string) => void): Promise<void> {
  if ((opts.backend ?? 'local') === 'local') {
    const { ensureEnvoy } = await import('./envoy-install.ts');
    try {
      await ensureEnvoy({ onProgress: say });
    } catch (e) {
      throw e instanceof SpilloverError ? new SpilloverError(e.problems, 2) : e;
    }
  }
  if (opts.metricsPort) {
    const port = opts.metricsPort;
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
    });
    if (!free) {
      throw new SpilloverError({
        file: '--metrics-port',
        message: `port ${port} on 127.0.0.1 is already in use`,
        expected: 'a free port, or 0 for any free port',
        found: String(port),
        fix: `use --metrics-port 0, or find the holder with: ss -ltnp 'sport = :${port}'`,
      });
    }
  }
}

/** Validate everything a run needs, without starting anything. */
export async function prepareRun(opts: RunOptions): Promise<{ exp: ResolvedExperiment; scenario: unknown }> {
  const exp = loadExperiment(opts.experimentFile, { set: opts.set, timeScale: opts.timeScale });
  if (exp.spec.load.engine === 'k6' && exp.timeScale !== 1) {
    throw new SpilloverError({
      file: '--time-scale',
      message: 'the time scale shortens the embedded driver\'s schedule; a real k6 runs the script\'s own durations',
      found: `--time-scale ${exp.timeScale} with load.engine k6`,
      fix: 'drop --time-scale, or use the embedded engine (load.engine: embedded)',
    });
  }
  const { loadScenario } = await import('../load/scenario.ts');
  const scenario = await loadScenario(exp.scenarioPath, { env: exp.spec.load.env, timeScale: exp.timeScale });
  return { exp, scenario };
}

export async function runExperiment(opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const say = (m: string) => {
    if (!opts.quiet) log(m);
  };
  const { exp, scenario } = await prepareRun(opts);
  const spec = exp.spec;
  const runId = opts.runId ?? newRunId();
  const parent = path.resolve(opts.outDir ?? path.join('results', spec.metadata.name));
  checkWritable(parent);
  if (!opts.dryRun) await preflight(opts, say);
  const runDir = path.join(parent, runId);
  fs.mkdirSync(path.join(runDir, RAW.rawDir), { recursive: true });
  fs.writeFileSync(path.join(runDir, RAW.resolvedExperiment), toYaml(spec));

  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) controller.abort(opts.signal.reason);

  const eventsFile = fs.openSync(path.join(runDir, RAW.runEvents), 'a');
  let t0Epoch = Date.now();
  const event = (e: Omit<RunEvent, 't'>) => {
    try {
      fs.writeSync(eventsFile, `${JSON.stringify({ t: (Date.now() - t0Epoch) / 1000, ...e })}\n`);
    } catch {
      // A full disk must not stop the teardown that follows; the write that failed first is reported.
    }
  };

  const backendName = opts.backend ?? 'local';
  const scenarioSha256 = crypto.createHash('sha256').update(fs.readFileSync(exp.scenarioPath)).digest('hex');
  const manifest: RunManifest = {
    experiment: spec.metadata.name,
    runId,
    backend: typeof backendName === 'string' ? backendName : backendName.name,
    engine: spec.load.engine,
    t0Epoch,
    startedAt: new Date().toISOString(),
    timeScale: exp.timeScale,
    overrides: exp.overrides,
    seeds: { experiment: spec.seed },
    versions: { harness: HARNESS_VERSION, node: process.versions.node, istioSemantics: spec.istio.version },
    gitSha: gitSha(),
    scenarioSha256,
    machine: { platform: process.platform, arch: process.arch, cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), cpuModel: os.cpus()[0]?.model },
    warnings: [...exp.scaled.map((s) => `time scale ${exp.timeScale}: ${s}`)],
    resolved: { ...spec, experimentFile: path.relative(process.cwd(), exp.file), scenarioFile: path.relative(process.cwd(), exp.scenarioPath) },
  };
  const writeManifest = () => fs.writeFileSync(path.join(runDir, RAW.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  writeManifest();

  const backend: Backend = await createBackend(backendName, opts.backendOptions);
  const ctx: BackendContext = { experiment: exp, runDir, runId, signal: controller.signal, log: say, event };

  if (opts.dryRun) {
    const plan = await backend.plan(ctx);
    manifest.outcome = 'ok';
    manifest.exitReason = 'dry run: nothing was started';
    manifest.endedAt = new Date().toISOString();
    writeManifest();
    fs.closeSync(eventsFile);
    say(`dry run: wrote ${[RAW.manifest, RAW.resolvedExperiment, ...plan.files].join(', ')} in ${path.relative(process.cwd(), runDir)}`);
    for (const s of plan.steps) say(`  - ${s}`);
    return { runDir, runId, exitCode: 0, manifest };
  }

  const stale = await backend.cleanupStale();
  if (stale.length) say(`removed leftovers of earlier runs: ${stale.join(', ')}`);

  let deployment: Deployment | undefined;
  let capture: { stop(): Promise<unknown> } | undefined;
  let driverThread: import('../load/driver-thread.ts').DriverThread | undefined;
  // The embedded driver runs on a thread of its own (driver-thread.ts). It warms up and rehearses the
  // scenario (about 1.4 s) while the backend comes up, and is ready before scenario time zero is fixed.
  const driverStarting =
    spec.load.engine !== 'k6' ? import('../load/driver-thread.ts').then((m) => m.DriverThread.start(scenario as Scenario)) : undefined;
  driverStarting?.catch(() => undefined); // awaited (and its error reported) before the load starts
  const timers: NodeJS.Timeout[] = [];
  let crashWatch: NodeJS.Timeout | undefined;
  let exitCode = 0;
  try {
    say(`run ${runId}: bringing up the ${manifest.backend} backend`);
    event({ kind: 'phase', what: 'backend-up' });
    const tUp = Date.now();
    deployment = await backend.up(ctx);
    say(`backend up in ${((Date.now() - tUp) / 1000).toFixed(1)}s`);
    manifest.topology = deployment.topology;
    manifest.warnings.push(...deployment.warnings);
    Object.assign(manifest.versions, deployment.versions);
    writeManifest();
    if (controller.signal.aborted) throw controller.signal.reason;

    const { startCapture } = await import('./capture.ts');
    // Time zero is a little ahead, so the first scrape precedes the first request and the driver's own
    // start-up (connections, first timers) is over before the first iteration is due.
    if (driverStarting) driverThread = await driverStarting;
    t0Epoch = Date.now() + 600;
    manifest.t0Epoch = t0Epoch;
    writeManifest();
    const statsIntervalMs = Math.max(50, parseDuration(spec.scrape.interval));
    capture = startCapture({
      runDir,
      t0Epoch,
      targets: deployment.scrapeTargets,
      statsIntervalMs,
      clustersIntervalMs: spec.scrape.clustersInterval ? parseDuration(spec.scrape.clustersInterval) : undefined,
    });
    for (const f of spec.faults) {
      const d = deployment;
      timers.push(
        setTimeout(() => {
          event({ kind: 'fault', what: `${f.action} ${f.target}`, detail: f as unknown as Record<string, unknown> });
          d.fault(f).catch((e) => event({ kind: 'error', what: `fault ${f.action} ${f.target} failed: ${(e as Error).message}` }));
        }, Math.max(0, t0Epoch - Date.now() + parseDuration(f.at))),
      );
    }
    // A crash is stamped when it happens, not when the run ends: the report places the gap it causes.
    const crashed = new Set<string>();
    const d = deployment;
    const watchCrashes = () => {
      for (const name of d.casualties()) {
        if (crashed.has(name)) continue;
        crashed.add(name);
        event({ kind: 'process-exit', what: `${name} ended without being asked`, detail: { process: name, cause: 'crash' } });
        say(`warning: ${name} ended during the run without being asked; the run goes on with what is left`);
      }
    };
    crashWatch = setInterval(watchCrashes, 200);
    event({ kind: 'phase', what: 'load' });
    say(`load: ${path.relative(process.cwd(), exp.scenarioPath)} -> ${deployment.entry.url}${deployment.entry.connectTo ? ` (via ${deployment.entry.connectTo})` : ''}`);
    const load =
      spec.load.engine === 'k6' && deployment.k6
        ? await deployment.k6.run(runDir, t0Epoch)
        : spec.load.engine === 'k6'
        ? await runK6Engine(exp, runDir, t0Epoch, deployment, controller.signal, opts.allowNonLoopback)
        : await driverThread!.run({
            scenario: scenario as never,
            runDir,
            t0Epoch,
            connectTo: deployment.entry.connectTo,
            allowNonLoopback: opts.allowNonLoopback,
            requestTimeoutMs: parseDuration(spec.load.requestTimeout),
            reconnectOnError: spec.load.reconnectOnError,
            signal: controller.signal,
            metricsPort: opts.metricsPort,
            live: opts.quiet ? false : undefined,
          } as never);
    event({ kind: 'phase', what: 'load-done', detail: load as unknown as Record<string, unknown> });
    // Let the last file flush of Envoy's logs and one more scrape land before stopping.
    await new Promise((r) => setTimeout(r, Math.max(statsIntervalMs, parseDuration(spec.envoy.fileFlushInterval)) + 200));
    watchCrashes();
    const casualties = deployment.casualties();
    if (casualties.length) manifest.warnings.push(`ended during the run without being asked: ${casualties.join(', ')}`);
    manifest.outcome = controller.signal.aborted ? 'interrupted' : 'ok';
    // The data are complete, but not of the experiment as designed: a crash fails the run (exit 1).
    if (casualties.length && !controller.signal.aborted) {
      manifest.outcome = 'failed';
      manifest.exitReason = `ended during the run without being asked: ${casualties.join(', ')}`;
      exitCode = 1;
    }
    if (controller.signal.aborted) exitCode = signalExitCode(controller.signal.reason);
  } catch (e) {
    if (controller.signal.aborted) {
      manifest.outcome = 'interrupted';
      manifest.exitReason = String(controller.signal.reason ?? 'interrupted');
      exitCode = signalExitCode(controller.signal.reason);
    } else {
      const err =
        (e as NodeJS.ErrnoException).code === 'ENOSPC'
          ? new SpilloverError(
              {
                file: path.relative(process.cwd(), runDir),
                message: 'no space left on the device of the run directory: the run was stopped and torn down; what was written so far is kept',
                found: (e as Error).message,
                fix: 'free space there, or write runs to another disk with --out',
              },
              1,
            )
          : (e as Error);
      manifest.outcome = 'failed';
      manifest.exitReason = err.message;
      exitCode = err instanceof SpilloverError ? err.exitCode : 1;
      event({ kind: 'error', what: err.message, detail: { code: (e as NodeJS.ErrnoException).code } });
      throw err;
    }
  } finally {
    clearInterval(crashWatch);
    for (const t of timers) clearTimeout(t);
    await driverStarting?.then((t) => t.close(), () => undefined);
    if (capture) await capture.stop().catch(() => undefined);
    if (deployment && opts.keep && manifest.outcome === 'ok') {
      say(`--keep: the deployment stays up.\n${deployment.describe()}`);
    }
    event({ kind: 'phase', what: 'backend-down' });
    await backend.down({ keep: Boolean(opts.keep) && manifest.outcome === 'ok' });
    manifest.endedAt = new Date().toISOString();
    try {
      writeManifest();
    } catch {
      // Disk full: the manifest written at start-up stays; teardown is done, which is what matters here.
    }
    fs.closeSync(eventsFile);
    opts.signal?.removeEventListener('abort', onAbort);
  }

  let summary: unknown;
  let reportPath: string | undefined;
  try {
    const { writeReport } = await import('../report/index.ts');
    const rep = await writeReport(runDir);
    summary = rep.summary;
    reportPath = rep.reportPath;
    say(`report: ${path.relative(process.cwd(), rep.reportPath)}`);
  } catch (e) {
    say(`report failed: ${(e as Error).message}`);
    if (exitCode === 0) exitCode = 1;
  }
  if (summary && Object.keys(spec.expect).length && manifest.outcome === 'ok') {
    try {
      const { checkExpectations } = await import('../compare/expect.ts');
      const results = checkExpectations(spec.expect, summary as never) as Array<{ field: string; condition: string; actual: unknown; ok: boolean }>;
      for (const r of results) say(`  expect ${r.field} ${r.condition}: ${r.ok ? 'ok' : 'FAILED'} (actual ${JSON.stringify(r.actual)})`);
      if (results.some((r) => !r.ok) && exitCode === 0) exitCode = 99;
    } catch (e) {
      say(`expectations not checked: ${(e as Error).message}`);
    }
  }
  say(`run directory: ${path.relative(process.cwd(), runDir)}`);
  return { runDir, runId, exitCode, summary, reportPath, manifest };
}

/**
 * `load.engine: k6`: the same script run by a real k6. Its requests reach the mesh through k6's own
 * `hosts` option (the service host mapped to the client sidecar), so the script stays unchanged.
 */
async function runK6Engine(exp: ResolvedExperiment, runDir: string, t0Epoch: number, dep: Deployment, signal: AbortSignal, allowNonLoopback?: boolean) {
  const { runK6 } = await import('../load/k6-engine.ts');
  const args: string[] = [];
  if (dep.entry.connectTo) {
    const cfg = path.join(runDir, RAW.rawDir, 'k6-config.json');
    fs.writeFileSync(cfg, JSON.stringify({ hosts: { [new URL(dep.entry.url).hostname]: dep.entry.connectTo } }, null, 2));
    args.push('--config', cfg);
  }
  return runK6({ script: exp.scenarioPath, runDir, env: exp.spec.load.env, t0Epoch, allowNonLoopback, signal, args });
}

function signalExitCode(reason: unknown): number {
  const r = String(reason);
  return r.includes('SIGTERM') ? 143 : r.includes('SIGHUP') ? 129 : 130;
}
