/**
 * `spillover validate <experiment>`: what `run` checks before it starts -- the experiment and its
 * overrides, the Istio resources, the scenario, the backend, the results directory, Envoy, the
 * metrics port -- by the same code (runner/validate.ts), with nothing written and nothing started.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { validateRun } from '../../orchestrate/validate.ts';
import type { RunOptions } from '../../orchestrate/run-types.ts';
import { experimentArg } from '../experiment-name.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

interface ValidateFlags {
  set: string[];
  timeScale?: number;
  backend: string;
  context1?: string;
  context2?: string;
  context?: string[];
  engine?: string;
  out?: string;
  metricsPort?: number;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check an experiment (name or file) as `run` would, start nothing and write nothing; exit 0 ok, 2 bad input')
    .argument('<experiment>', 'experiment name (peak-load) or file (experiments/peak-load.yaml)')
    .option('--set <path=value>', 'override a field, as for run (repeatable)', collect, [])
    .option('--time-scale <F>', 'as for run', parseFloat)
    .option('--backend <name>', 'local, kind or kube', 'local')
    .option('--context-1 <ctx>', 'kube backend: context of cluster-1')
    .option('--context-2 <ctx>', 'kube backend: context of cluster-2')
    .option('--context <cluster=ctx>', 'kube backend: context of an experiment cluster by name (repeatable)', collect, [])
    .option('--engine <name>', 'embedded or k6')
    .option('--out <dir>', 'parent of the run directory, checked to be writable')
    .option('--metrics-port <port>', 'checked to be free on 127.0.0.1', (v) => parseInt(v, 10))
    .option('--quiet', 'print nothing when it is valid')
    .action(async (arg: string, f: ValidateFlags) => {
      const file = experimentArg(arg);
      const opts: RunOptions = {
        experimentFile: file,
        set: f.engine ? [...f.set, `load.engine=${f.engine}`] : f.set,
        timeScale: f.timeScale,
        backend: f.backend as RunOptions['backend'],
        backendOptions: { context1: f.context1, context2: f.context2, contexts: f.context },
        outDir: f.out,
        metricsPort: f.metricsPort,
        quiet: f.quiet,
      };
      const { exp, resultsDir } = await validateRun(opts);
      if (f.quiet) return;
      const s = exp.spec;
      const lines = [
        `ok: ${path.relative(process.cwd(), exp.file)} (${s.metadata.name}) would run as given`,
        `  resources: ${s.resources.length} (${s.resources.map((r) => `${(r as { kind: string }).kind}/${(r as { metadata: { name: string } }).metadata.name}`).join(', ')})`,
        `  scenario: ${path.relative(process.cwd(), exp.scenarioPath)}${exp.timeScale !== 1 ? `, time scale ${exp.timeScale}` : ''}`,
        ...(exp.overrides.length ? [`  overrides: ${exp.overrides.join(' ')}`] : []),
        `  results would go to ${path.relative(process.cwd(), resultsDir) || '.'}/<run-id>; nothing was written`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
