import type { Command } from 'commander';
import { cleanupStaleProcesses } from '../../process/processes.ts';

export function register(program: Command): void {
  program
    .command('cleanup')
    .description('end processes left by killed runs, and runs kept up with --keep')
    .option('--run <id>', 'only this run')
    .option('--clusters', 'also delete kind clusters and containers left by killed kind runs (needs docker and kind)')
    .action(async (flags: { run?: string; clusters?: boolean }) => {
      const removed = cleanupStaleProcesses({ includeKept: true, runId: flags.run });
      if (flags.clusters) {
        const { createKindBackend } = await import('../../runner/backends/kind.ts');
        removed.push(...(await createKindBackend().cleanupStale()));
      }
      process.stdout.write(removed.length ? `ended: ${removed.join(', ')}\n` : 'nothing to clean up\n');
    });
}
