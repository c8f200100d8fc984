import type { Command } from 'commander';
import { experimentFileOf } from '../experiment-name.ts';
import { addRunOptions, runFromCli, type CliRunFlags } from '../run-options.ts';

/** `spillover experiment peak-load` == `spillover run experiments/peak-load.yaml` (the npm front door). */
export function register(program: Command): void {
  addRunOptions(
    program
      .command('experiment')
      .description('run a named experiment from experiments/ (npm run experiment <name>)')
      .argument('<name>', 'experiment name, e.g. peak-load'),
  ).action(async (name: string, flags: CliRunFlags) => {
    process.exitCode = await runFromCli(experimentFileOf(name), flags);
  });
}
