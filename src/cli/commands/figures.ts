/** `spillover figures <run | sweep | eras dir>`: paper figures in a print theme, byte-reproducible. */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { paperFigures, type PaperFormat, type PaperSize } from '../../report/paper.ts';

const oneOf =
  <T extends string>(flag: string, allowed: readonly T[]) =>
  (v: string): T => {
    if (!(allowed as readonly string[]).includes(v))
      throw new InvalidArgumentError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };

export function register(program: Command): void {
  program
    .command('figures')
    .description(
      'paper figures of a run, sweep or eras directory: print theme (one or two columns), fonts embedded, the same bytes for the same raw data',
    )
    .argument('<dir>', 'run directory, or a sweep-*/eras-* directory')
    .option('--format <fmt>', 'svg, pdf or png', oneOf('--format', ['svg', 'pdf', 'png'] as const), 'pdf' as PaperFormat)
    .option('--size <size>', 'one-column or two-column', oneOf('--size', ['one-column', 'two-column'] as const), 'one-column' as PaperSize)
    .option('--out <dir>', 'where to write (default <dir>/paper/<size>/)')
    .action(async (dir: string, o: { format: PaperFormat; size: PaperSize; out?: string }) => {
      const files = await paperFigures(dir, o.format, o.size, o.out);
      for (const f of files) process.stdout.write(`${path.relative(process.cwd(), f) || f}\n`);
    });
}
