/**
 * `--repeat N`: the same experiment N times, one run directory each under a common parent, then the
 * key figures aggregated across them (mean, spread, 95 % CI, coefficient of variation).
 *
 * Repeats run one after another, never in parallel: on a 2-core machine parallel runs would measure
 * each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { aggregateRuns, formatAggregate, writeAggregate } from '../compare/aggregate.ts';
import { newRunId } from './recorder.ts';
import { runExperiment } from './run.ts';
import type { RunOptions } from './run-types.ts';

export async function runRepeated(base: RunOptions, n: number): Promise<number> {
  const log = base.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const setId = `${newRunId()}-x${n}`;
  const parentOut = path.resolve(base.outDir ?? path.join('results', path.basename(base.experimentFile).replace(/\.ya?ml$/, '')));
  const setDir = path.join(parentOut, setId);
  fs.mkdirSync(setDir, { recursive: true });
  const runDirs: string[] = [];
  let worst = 0;
  for (let i = 1; i <= n; i++) {
    if (base.signal?.aborted) break;
    log(`repeat ${i}/${n}`);
    try {
      const res = await runExperiment({ ...base, outDir: setDir, runId: `r${String(i).padStart(2, '0')}` });
      runDirs.push(res.runDir);
      worst = Math.max(worst, res.exitCode);
    } catch (e) {
      // Bad input fails every repeat alike: stop. Anything else (a port taken, a crash) spoils one run only.
      if ((e as { exitCode?: number }).exitCode === 2) throw e;
      log(`repeat ${i} failed: ${(e as Error).message}`);
      worst = Math.max(worst, 1);
    }
  }
  if (runDirs.length) {
    const agg = aggregateRuns(runDirs);
    const written = await writeAggregate(setDir, agg, runDirs);
    log(formatAggregate(agg));
    log(`aggregate of ${runDirs.length} runs: ${path.relative(process.cwd(), written)}`);
  }
  if (base.quiet) process.stdout.write(`${setDir}\n`);
  return worst;
}
