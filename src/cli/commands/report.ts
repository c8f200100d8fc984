import path from 'node:path';
import type { Command } from 'commander';
import { ANALYZE_DEFAULTS } from '../../analysis/analyze.ts';
import { writeReport } from '../../report/index.ts';
import { discardPending } from '../../report/atomic-write.ts';

import { decimalFlag } from '../numeric-flags.ts';

// A bucket or window of a day or more over a run of minutes is a typo, not a choice.
const seconds = (name: string, example: string) =>
  decimalFlag(name, { min: 0, minExclusive: true, max: 86_400, example: `${name} ${example}` });

export function register(program: Command): void {
  program
    .command('report')
    .description('regenerate every output of a run (CSV, summary.json, figures, report.md, report.html) from its raw data')
    .argument('<run-dir>', 'run directory, e.g. results/peak-load/<runId>')
    .option('--bucket <seconds>', 'time-series bucket width (default: 0.25 s to 60 s, ≤ 300 buckets)', seconds('--bucket', '1'))
    .option('--window <seconds>', 'sliding window for redirect and recovery detection', seconds('--window', '5'), ANALYZE_DEFAULTS.windowS)
    .option(
      '--redirect-threshold <share>',
      "B's share of served requests at which traffic counts as redirected",
      decimalFlag('--redirect-threshold', { min: 0, minExclusive: true, max: 1, example: '--redirect-threshold 0.5' }),
      ANALYZE_DEFAULTS.redirectThreshold,
    )
    .option('--no-png', 'skip PNG rendering')
    .action(async (runDir: string, o: { bucket?: number; window: number; redirectThreshold: number; png: boolean }) => {
      // Ctrl-C or SIGTERM mid-report: each output is already complete or absent (atomic-write.ts);
      // only the temporary file being written goes, and the exit code says which signal it was.
      const onSignal = (sig: NodeJS.Signals) => {
        discardPending();
        process.stderr.write(`spillover: report interrupted (${sig}); outputs already written are complete, the rest are absent\n`);
        process.exit(sig === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let r;
      try {
        r = await writeReport(runDir, { bucketS: o.bucket, windowS: o.window, redirectThreshold: o.redirectThreshold, png: o.png });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      process.stdout.write(`report: ${path.relative(process.cwd(), r.reportPath) || r.reportPath}\n`);
    });
}
