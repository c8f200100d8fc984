/**
 * Phase 1, prepare: everything that can be checked is checked before anything starts -- experiment,
 * Istio resources, scenario script, results directory, and what the machine must provide. A problem
 * here is bad input (exit 2) and leaves nothing behind: no process, no run directory.
 */
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { readExperiment, type ResolvedExperiment } from '../experiment/read-experiment.ts';
import { readScenario } from '../load/scenario.ts';
import { readClientScenarios, type ClientScenario } from './client-engines.ts';
import { readTextInput } from '../util/read-text-input.ts';
import { checkWritable, preflight } from './preflight.ts';
import { newRunId } from './recorder.ts';
import { checkRunInputs, checkRunTools } from './run-checks.ts';
import type { RunOptions } from './run-types.ts';

export interface Prepared {
  exp: ResolvedExperiment;
  scenario: unknown;
  runId: string;
  /** The run directory to create (not created yet). */
  runDir: string;
  /** `clients:` form: every further client's scenario (client-engines.ts). */
  clientScenarios?: ClientScenario[];
}

/** Validate everything a run needs, without starting anything. */
export async function prepareRun(
  opts: RunOptions,
): Promise<{ exp: ResolvedExperiment; scenario: unknown; clientScenarios?: ClientScenario[] }> {
  const exp = readExperiment(opts.experimentFile, { set: opts.set, timeScale: opts.timeScale });
  if (exp.spec.load.engine === 'k6' && exp.timeScale !== 1) {
    throw new SpilloverError({
      file: '--time-scale',
      message: "the time scale shortens the embedded driver's schedule; a real k6 runs the script's own durations",
      found: `--time-scale ${exp.timeScale} with load.engine k6`,
      fix: 'drop --time-scale, or use the embedded engine (load.engine: embedded)',
    });
  }
  if (exp.spec.load.engine === 'k6') {
    // A real k6 runs the script as written: only what k6 needs is checked (the file can be read).
    readTextInput(exp.scenarioPath, 'scenario script');
    return { exp, scenario: undefined, clientScenarios: await readClientScenarios(exp) };
  }
  const scenario = await readScenario(exp.scenarioPath, { env: exp.spec.load.env, timeScale: exp.timeScale });
  const clientScenarios = await readClientScenarios(exp);
  // Faults must fire while some client still offers load.
  const all = [scenario, ...clientScenarios.flatMap((c) => (c.scenario ? [c.scenario] : []))];
  await checkRunInputs(exp, { ...scenario, scenarios: all.flatMap((s) => s.scenarios) });
  return { exp, scenario, ...(clientScenarios.length ? { clientScenarios } : {}) };
}

export async function prepare(opts: RunOptions, say: (m: string) => void): Promise<Prepared> {
  const { exp, scenario, clientScenarios } = await prepareRun(opts);
  const runId = opts.runId ?? newRunId();
  const parent = path.resolve(opts.outDir ?? path.join('results', exp.spec.metadata.name));
  checkWritable(parent);
  await checkRunTools(exp, typeof opts.backend === 'object' ? opts.backend.name : (opts.backend ?? 'local'), opts.dryRun);
  if (!opts.dryRun) await preflight(opts, say);
  return { exp, scenario, runId, runDir: path.join(parent, runId), ...(clientScenarios?.length ? { clientScenarios } : {}) };
}
