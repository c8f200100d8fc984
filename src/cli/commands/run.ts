import type { Command } from 'commander';
import { addRunOptions, runFromCli, type CliRunFlags } from '../run-options.ts';

export function register(program: Command): void {
  addRunOptions(
    program
      .command('run')
      .description('run an experiment file: bring up the mesh, drive the load, capture telemetry, write the report')
      .argument('<experiment>', 'experiment file, e.g. experiments/peak-load.yaml'),
  ).action(async (file: string, flags: CliRunFlags) => {
    process.exitCode = await runFromCli(file, flags);
  });
}
