import path from 'node:path';
import type { ResolvedExperiment } from '../experiment/read-experiment.ts';
import { checkWritable, preflight } from './preflight.ts';
import { createBackend } from '../runner/backends/index.ts';
import { prepareRun } from './prepare.ts';
import { checkRunTools } from './run-checks.ts';
import type { RunOptions } from './run-types.ts';

/**
 * `spillover validate`: every check a run makes before it starts (experiment, overrides, Istio
 * resources, scenario, results directory, Envoy, --metrics-port), and nothing written or started.
 */
export async function validateRun(opts: RunOptions): Promise<{ exp: ResolvedExperiment; resultsDir: string }> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const { exp } = await prepareRun(opts);
  await createBackend(opts.backend ?? 'local', opts.backendOptions);
  const parent = path.resolve(opts.outDir ?? path.join('results', exp.spec.metadata.name));
  checkWritable(parent, false);
  await checkRunTools(exp, typeof opts.backend === 'object' ? opts.backend.name : (opts.backend ?? 'local'), false);
  await preflight(opts, opts.quiet ? () => undefined : say, 'validate');
  return { exp, resultsDir: parent };
}
