/**
 * `spillover explain <experiment>`: the configuration diagnosis before any run -- which known pitfalls
 * the experiment's Istio resources contain, what each will do on the Istio release it names, and the
 * source. Starts nothing; bad input is reported like `run` reports it (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { readExperiment } from '../../experiment/read-experiment.ts';
import { readScenario } from '../../load/scenario.ts';
import { isArrivalRate } from '../../load/types.ts';
import { diagnose } from '../../analysis/diagnosis/pitfalls.ts';

/** A name (experiments/<name>.yaml) or a path. */
export function experimentFile(arg: string): string {
  return fs.existsSync(arg) || /\.ya?ml$/.test(arg) ? arg : path.join('experiments', `${arg}.yaml`);
}

export async function explain(arg: string, set: string[] = []): Promise<string> {
  const exp = readExperiment(experimentFile(arg), { set });
  const scenario = await readScenario(exp.scenarioPath, { env: exp.spec.load.env, timeScale: 1 });
  const open = scenario.scenarios.filter(isArrivalRate);
  const peak =
    open.length === scenario.scenarios.length && open.length
      ? open.reduce(
          (m, s) =>
            m + (s.executor === 'constant-arrival-rate' ? s.rate : Math.max(s.startRate, ...s.stages.map((st) => st.target))) / s.timeUnit,
          0,
        )
      : null;
  const vus = Math.max(
    0,
    ...scenario.scenarios.map((s) =>
      s.executor === 'constant-vus' ? s.vus : s.executor === 'ramping-vus' ? Math.max(s.startVUs, ...s.stages.map((st) => st.target)) : 0,
    ),
  );
  const findings = diagnose({ spec: exp.spec, peakRps: peak, closedLoopVus: vus || undefined });
  const lines = [
    `${exp.spec.metadata.name}: Istio ${exp.spec.istio.version} semantics, ${peak === null ? 'closed-loop scenario (no offered rate)' : `scenario peak ${Math.round(peak)} req/s`}`,
    '',
  ];
  if (!findings.length) lines.push('No known pitfall found.');
  findings.forEach((f, i) => lines.push(`${i + 1}. ${f.title}`, `   will: ${f.effect}`, `   source: ${f.source}`, ''));
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('explain')
    .description("diagnose an experiment's configuration: the known pitfalls present, what each will do, and the source")
    .argument('<experiment>', 'experiment name (experiments/<name>.yaml) or file')
    .option('--set <path=value>', 'override a field, as for run', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (arg: string, o: { set: string[] }) => {
      process.stdout.write(await explain(arg, o.set));
    });
}
