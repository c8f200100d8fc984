import type { Command } from 'commander';
import { SpilloverError } from '../../errors.ts';
import { repeatFlag, timeScaleFlag } from '../numeric-flags.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program
    .command('sweep')
    .description(
      'run an experiment at every combination of the --set values (cartesian product), with repeats; writes a sweep table and heatmap/line figures',
    )
    .argument('<experiment>', 'experiment file, e.g. experiments/peak-load.yaml, or a name from experiments/')
    .option('--set <path=v1,v2,...>', 'a field and the values to sweep (repeatable; one value = fixed override)', collect, [])
    .option('--repeat <n>', 'runs per point', repeatFlag(), 1)
    .option('--time-scale <F>', 'multiply every duration of each run by F (0 < F <= 1)', timeScaleFlag())
    .option('--backend <name>', 'local (default), kind, or kube', 'local')
    .option('--out <dir>', 'parent of the sweep directory (default results/<experiment>)')
    .option('--dry-run', "print the plan and check every point's experiment; run nothing")
    .option('--quiet', 'less progress output from each run')
    .addHelpText(
      'after',
      '\nExample:\n  spillover sweep experiments/peak-load.yaml --repeat 3 --time-scale 0.25 \\\n' +
        '    --set resources.DestinationRule/a.spec.trafficPolicy.outlierDetection.consecutive5xxErrors=1,2,5 \\\n' +
        '    --set services.A.capacity.concurrency=2,4 --dry-run',
    )
    .action(
      async (
        experiment: string,
        flags: { set: string[]; repeat: number; timeScale?: number; backend: string; out?: string; dryRun?: boolean; quiet?: boolean },
      ) => {
        const fs = await import('node:fs');
        const path = await import('node:path');
        const file = fs.existsSync(experiment) || /\.ya?ml$/.test(experiment) ? experiment : path.join('experiments', `${experiment}.yaml`);
        if (!fs.existsSync(file)) {
          throw new SpilloverError({
            file,
            message: 'no such experiment file',
            fix: 'name a file such as experiments/peak-load.yaml, or an experiment in experiments/',
          });
        }
        const { runSweep } = await import('../../sweep/run-sweep.ts');
        const controller = new AbortController();
        const onSignal = (sig: NodeJS.Signals) => {
          process.stderr.write(`\n${sig}: stopping the sweep after the current run is torn down\n`);
          controller.abort(sig);
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const res = await runSweep({
            experimentFile: file,
            set: flags.set,
            repeat: flags.repeat,
            timeScale: flags.timeScale,
            backend: flags.backend,
            outDir: flags.out,
            dryRun: flags.dryRun,
            quiet: flags.quiet,
            signal: controller.signal,
          });
          if (flags.dryRun) {
            const { formatPlan } = await import('../../sweep/plan.ts');
            process.stdout.write(`${formatPlan(res.plan, flags.repeat)}\nevery point's experiment is valid; nothing was run (dry run)\n`);
          }
          if (res.sweepDir) process.stdout.write(`${res.sweepDir}\n`);
          process.exitCode = res.exitCode;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );
}
