import type { Command } from 'commander';
import { cleanupStaleProcesses } from '../../runner/processes.ts';

export function register(program: Command): void {
  program
    .command('cleanup')
    .description('end processes left by killed runs, and runs kept up with --keep')
    .option('--run <id>', 'only this run')
    .action((flags: { run?: string }) => {
      const removed = cleanupStaleProcesses({ includeKept: true, runId: flags.run });
      process.stdout.write(removed.length ? `ended: ${removed.join(', ')}\n` : 'nothing to clean up\n');
    });
}
