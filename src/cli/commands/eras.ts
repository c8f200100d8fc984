/** `spillover eras <experiment>`: the experiment under each Istio semantics era, side by side. */
import type { Command } from 'commander';
import { experimentFile } from './explain.ts';

export function register(program: Command): void {
  program
    .command('eras')
    .description(
      'run an experiment under each Istio semantics era the mesh models; writes a side-by-side table (eras.md) and figure of first overflow, first ejection, redirected share and success ratio',
    )
    .argument('<experiment>', 'experiment name (experiments/<name>.yaml) or file')
    .option('--eras <list>', 'Istio releases to run, e.g. 1.6,1.29 (default: the newest release of every era)')
    .option('--repeat <n>', 'runs per era', (v) => Number(v), 1)
    .option('--time-scale <F>', 'multiply every duration of each run by F (0 < F <= 1)', parseFloat)
    .option('--set <path=value>', 'override a field in every era', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--out <dir>', 'parent of the eras directory (default results/<experiment>)')
    .option('--quiet', 'less progress output from each run')
    .action(async (arg: string, o: { eras?: string; repeat: number; timeScale?: number; set: string[]; out?: string; quiet?: boolean }) => {
      const { runEras } = await import('../../sweep/eras.ts');
      const controller = new AbortController();
      const stop = (sig: NodeJS.Signals) => controller.abort(sig);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const res = await runEras({
          experimentFile: experimentFile(arg),
          eras: o.eras?.split(',').map((s) => s.trim()),
          repeat: o.repeat,
          timeScale: o.timeScale,
          set: o.set,
          outDir: o.out,
          quiet: o.quiet,
          signal: controller.signal,
        });
        process.stdout.write(`${res.dir}\n`);
        process.exitCode = res.exitCode;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
