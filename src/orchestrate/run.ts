/**
 * One experiment run, start to finish, as six phases in this order:
 *
 *   prepare ──▶ provision ──▶ measure ──▶ teardown ──▶ analyse ──▶ judge
 *   check every   backend up    t0, scrape,   always: stop   CSV, figures,  expect:,
 *   input; no     (after the    faults, load  load, capture, report from   exit code
 *   side effects  run dir)                    backend down   raw data only
 *
 * Everything that can be checked is checked in prepare, before anything starts. Whatever happens in
 * provision or measure -- success, error, Ctrl-C, SIGTERM -- teardown brings the backend down and the
 * recorder notes how the run ended; raw data are streamed to disk as they come, so an interrupted run
 * keeps everything measured so far.
 */
import path from 'node:path';
import { RAW } from '../contracts/raw.ts';
import { embeddedEngine, k6Engine, type LoadEngine } from '../load/engine.ts';
import type { Scenario } from '../load/types.ts';
import type { BackendContext, Deployment } from '../runner/backend.ts';
import { createBackend } from '../runner/backends/index.ts';
import { analyse } from './analyse.ts';
import { clientEngines, withClientEngines } from './client-engines.ts';
import { clientsOf } from '../experiment/clients.ts';
import { settleCompleted, settleThrown, judge } from './judge.ts';
import { measure, type Measuring } from './measure.ts';
import { safely } from './observe.ts';
import { prepare, type Prepared } from './prepare.ts';
import { provision } from './provision.ts';
import { RunRecorder } from './recorder.ts';
import type { RunOptions, RunResult } from './run-types.ts';
import { teardown } from './teardown.ts';

export async function runExperiment(opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const say = (m: string) => {
    if (!opts.quiet) log(m);
  };
  const prepared = await prepare(opts, say);
  const { exp, runDir, runId } = prepared;
  const backendChoice = opts.backend ?? 'local';
  const rec = new RunRecorder(runDir, exp, runId, typeof backendChoice === 'string' ? backendChoice : backendChoice.name);

  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) controller.abort(opts.signal.reason);

  const backend = await createBackend(backendChoice, opts.backendOptions);
  const ctx: BackendContext = { experiment: exp, runDir, runId, signal: controller.signal, log: say, event: rec.event };
  try {
    if (opts.dryRun) return await planOnly(backend, ctx, rec, say);
    let deployment: Deployment | undefined;
    // `clients:` form: every further client's engine beside the first's (client-engines.ts).
    const engine: LoadEngine & { ready?(): Promise<void> } = withClientEngines(
      chooseEngine(prepared, opts, rec),
      clientsOf(exp.spec)[0].name,
      clientEngines(exp, prepared.clientScenarios ?? [], opts),
    );
    const m: Measuring = { timers: [] };
    let exitCode = 0;
    let k6ThresholdsFailed = false;
    try {
      deployment = await provision(backend, ctx, rec);
      ({ k6ThresholdsFailed } = await measure(
        exp,
        deployment,
        deployment.loadEngine ?? engine,
        rec,
        m,
        controller.signal,
        say,
        opts.observer,
      ));
      exitCode = settleCompleted(rec, deployment, controller.signal);
    } catch (e) {
      exitCode = settleThrown(e, rec, controller.signal);
    } finally {
      await teardown(backend, deployment, engine, m, rec, Boolean(opts.keep), say);
      if (opts.observer?.ended) await safely(() => opts.observer!.ended!());
    }
    const analysed = await analyse(runDir, say);
    exitCode = judge(exp, rec, analysed, exitCode, say, k6ThresholdsFailed);
    say(`run directory: ${path.relative(process.cwd(), runDir)}`);
    return { runDir, runId, exitCode, summary: analysed.summary, reportPath: analysed.reportPath, manifest: rec.manifest };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The embedded driver's thread starts here, before the backend, so its warm-up overlaps the
 * backend's start; k6 on PATH starts at time zero. A cluster backend may bring its own (k6 in the
 * cluster), which measure prefers.
 */
function chooseEngine({ exp, scenario }: Prepared, opts: RunOptions, rec: RunRecorder): LoadEngine {
  const spec = exp.spec;
  if (spec.load.engine === 'k6') return k6Engine(exp.scenarioPath, spec.load.env, opts.allowNonLoopback);
  return embeddedEngine(scenario as Scenario, {
    allowNonLoopback: opts.allowNonLoopback,
    requestTimeoutMs: exp.timing.requestTimeoutMs,
    reconnectOnError: spec.load.reconnectOnError,
    metricsPort: opts.metricsPort,
    live: opts.quiet ? false : undefined,
    onForcedExit: (c) => rec.event({ kind: 'phase', what: 'load-done', detail: c }),
    onMetricsListening: opts.observer?.driverMetrics ? (p) => void safely(() => opts.observer!.driverMetrics!(p)) : undefined,
  });
}

/** --dry-run: the backend writes what `up` would create; nothing starts. */
async function planOnly(
  backend: Awaited<ReturnType<typeof createBackend>>,
  ctx: BackendContext,
  rec: RunRecorder,
  say: (m: string) => void,
): Promise<RunResult> {
  const plan = await backend.plan(ctx).catch((e: unknown) => {
    // Refused while planning (e.g. no free address slot): bad input leaves no run directory behind.
    rec.discard();
    throw e;
  });
  rec.manifest.outcome = 'ok';
  rec.manifest.exitReason = 'dry run: nothing was started';
  rec.close();
  say(`dry run: wrote ${[RAW.manifest, RAW.resolvedExperiment, ...plan.files].join(', ')} in ${path.relative(process.cwd(), ctx.runDir)}`);
  for (const s of plan.steps) say(`  - ${s}`);
  return { runDir: ctx.runDir, runId: ctx.runId, exitCode: 0, manifest: rec.manifest };
}
