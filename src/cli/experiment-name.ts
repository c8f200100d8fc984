/** `peak-load` -> experiments/peak-load.yaml, or a clear error with the closest name. */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { didYouMean } from '../experiment/did-you-mean.ts';

export function experimentFileOf(name: string): string {
  const file = path.join('experiments', `${name}.yaml`);
  if (fs.existsSync(file)) return file;
  const have = fs.existsSync('experiments')
    ? fs
        .readdirSync('experiments')
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.replace(/\.yaml$/, ''))
        .sort()
    : [];
  const guess = didYouMean(name, have);
  throw new SpilloverError({
    file,
    message: `no experiment named "${name}"`,
    expected: have.length ? `one of ${have.join(', ')}` : 'a file experiments/<name>.yaml',
    found: name,
    fix: guess
      ? `did you mean "${guess}"? (spillover experiment ${guess})`
      : 'run `npm run experiment <name>` from the repository root, or `spillover run <file.yaml>`',
  });
}

/** A path to a file (has a directory or a YAML extension) or a name under experiments/. */
export const experimentArg = (arg: string) => (/\.ya?ml$/.test(arg) || arg.includes('/') ? arg : experimentFileOf(arg));
