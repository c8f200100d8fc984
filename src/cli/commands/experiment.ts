import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SpilloverError } from '../../errors.ts';
import { addRunOptions, runFromCli, type CliRunFlags } from '../run-options.ts';

/** `spillover experiment peak-load` == `spillover run experiments/peak-load.yaml` (the npm front door). */
export function register(program: Command): void {
  addRunOptions(
    program
      .command('experiment')
      .description('run a named experiment from experiments/ (npm run experiment <name>)')
      .argument('<name>', 'experiment name, e.g. peak-load'),
  ).action(async (name: string, flags: CliRunFlags) => {
    const file = path.join('experiments', `${name}.yaml`);
    if (!fs.existsSync(file)) {
      const have = fs.existsSync('experiments') ? fs.readdirSync('experiments').filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')) : [];
      throw new SpilloverError({ file, message: `no experiment named "${name}"`, expected: have.length ? `one of ${have.join(', ')}` : 'a file experiments/<name>.yaml', fix: 'run `npm run experiment <name>` from the repository root, or `spillover run <file.yaml>`' });
    }
    process.exitCode = await runFromCli(file, flags);
  });
}
