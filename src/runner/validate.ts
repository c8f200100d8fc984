import path from 'node:path';
import type { ResolvedExperiment } from '../experiment/load.ts';
import { checkWritable, preflight } from './preflight.ts';
import { prepareRun, type RunOptions } from './run.ts';

/**
 * `spillover validate`: every check a run makes before it starts (experiment, overrides, Istio
 * resources, scenario, results directory, Envoy, --metrics-port), and nothing written or started.
 */
export async function validateRun(opts: RunOptions): Promise<{ exp: ResolvedExperiment; resultsDir: string }> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const { exp } = await prepareRun(opts);
  const { createBackend } = await import('./backends/index.ts');
  await createBackend(opts.backend ?? 'local', opts.backendOptions);
  const parent = path.resolve(opts.outDir ?? path.join('results', exp.spec.metadata.name));
  checkWritable(parent, false);
  await preflight(opts, opts.quiet ? () => undefined : say, 'validate');
  return { exp, resultsDir: parent };
}

