/** `spillover import k6 <file> --out <run-dir>`: any k6 run's JSON or CSV output as a Spillover run directory. */
import path from 'node:path';
import type { Command } from 'commander';
import { SpilloverError } from '../../errors.ts';
import { importK6 } from '../../load/k6-import.ts';
import { integerText } from '../numeric-flags.ts';

export function register(program: Command): void {
  const cmd = program.command('import').description('bring results from other tools into a run directory');
  cmd
    .command('k6')
    .description('convert k6 --out json (or csv) output into raw results (requests, per-second ticks)')
    .argument('<k6-output>', 'file written by k6 run --out json=FILE or --out csv=FILE (.gz allowed)')
    .requiredOption('--out <run-dir>', 'run directory to write')
    .option(
      '--t0 <epoch-ms>',
      'scenario time zero as Unix ms (default: the first instant in the file)',
      integerText('--t0', { min: 0, max: 1e14, example: '--t0 1764582000000' }),
    )
    .action(async (file: string, f: { out: string; t0?: string }) => {
      // A FIFO or a device would block or never end (/dev/zero is one endless line).
      const st = (await import('node:fs')).statSync(file, { throwIfNoEntry: false });
      if (st && !st.isFile()) {
        throw new SpilloverError({
          file,
          message: `not a regular file (${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a named pipe' : 'a device or socket'})`,
          expected: 'the FILE k6 wrote with --out json=FILE or --out csv=FILE',
          found: file,
          fix: 'save the k6 output to a file and name it',
        });
      }
      let t0Epoch: number | undefined;
      if (f.t0 !== undefined) {
        t0Epoch = Number(f.t0);
        if (!Number.isFinite(t0Epoch)) throw new SpilloverError({ path: '--t0', message: 'not a Unix time in ms', found: f.t0 });
      }
      const res = await importK6(file, f.out, { t0Epoch, writeManifest: true });
      process.stderr.write(
        `imported ${res.requests} requests, ${res.dropped} dropped iterations from ${res.points} ${res.format.toUpperCase()} points (scenarios: ${res.scenarios.join(', ') || 'none'}) into ${path.relative(process.cwd(), path.resolve(f.out))}\n`,
      );
    });
}
