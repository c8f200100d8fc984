import type { Command } from 'commander';
import { SpilloverError, isSpilloverError } from '../../errors.ts';

import { decimalFlag } from '../numeric-flags.ts';

export function register(program: Command): void {
  program
    .command('compare')
    .description(
      'compare two sets of runs per key figure (Mann-Whitney U, like benchstat) and check the expect: thresholds; exit 0 pass, 1 regression, 2 error',
    )
    .argument('<baseline>', 'run directory, directory of repeats, or results/baselines/<experiment>/')
    .argument('[runs]', 'run directory or directory of repeats to compare with the baseline')
    .option('--markdown <file>', 'also write the table to this file')
    .option('--junit <file>', 'write JUnit XML (one test case per figure and threshold) for CI dashboards')
    .option(
      '--alpha <p>',
      'significance level of the test',
      decimalFlag('--alpha', { min: 0, minExclusive: true, max: 0.5, example: '--alpha 0.05' }),
      0.05,
    )
    .option(
      '--min-delta <percent>',
      'smallest relative change of a median that counts as a change',
      decimalFlag('--min-delta', { min: 0, max: 1e6, example: '--min-delta 5' }),
      5,
    )
    .option('--fail-on <what>', '"any": a changed figure or a failed threshold fails; "thresholds": only thresholds fail', 'any')
    .option(
      '--update-baseline',
      'write the runs as the new baseline results/baselines/<experiment>/baseline.json (with one argument: the first baseline)',
    )
    .option('--baselines-dir <dir>', 'where baselines live', 'results/baselines')
    .addHelpText(
      'after',
      '\nExamples:\n  spillover compare results/baselines/peak-load results/peak-load/<set>\n  spillover compare results/peak-load/<set-a> results/peak-load/<set-b> --junit compare.xml\n  spillover compare results/peak-load/<set> --update-baseline',
    )
    .action(
      async (
        baseline: string,
        runs: string | undefined,
        flags: {
          markdown?: string;
          junit?: string;
          alpha: number;
          minDelta: number;
          failOn: string;
          updateBaseline?: boolean;
          baselinesDir: string;
        },
      ) => {
        if (flags.failOn !== 'any' && flags.failOn !== 'thresholds') {
          throw new SpilloverError({
            file: '--fail-on',
            message: 'unknown value',
            expected: '"any" or "thresholds"',
            found: flags.failOn,
            fix: 'use --fail-on any or --fail-on thresholds',
          });
        }
        const { runCompare } = await import('../../compare/run-compare.ts');
        try {
          const { exitCode } = runCompare(baseline, runs, {
            markdown: flags.markdown,
            junit: flags.junit,
            alpha: flags.alpha,
            minDeltaPct: flags.minDelta,
            failOn: flags.failOn,
            updateBaseline: flags.updateBaseline,
            baselinesDir: flags.baselinesDir,
          });
          process.exitCode = exitCode;
        } catch (e) {
          // Exit 1 means "regression" to CI; an unexpected failure must not look like one.
          if (isSpilloverError(e)) throw e;
          throw new SpilloverError({ message: `compare failed: ${(e as Error).stack ?? String(e)}` }, 2);
        }
      },
    );
}
