/**
 * `spillover compare` end to end: read both sides, compare, write the markdown and JUnit files,
 * update the baseline when asked. Returns the exit code: 0 pass, 1 regression. Bad input throws
 * SpilloverError (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { compareSets, type CompareOptions, type ComparisonResult } from './compare.ts';
import { comparisonJUnit } from './junit.ts';
import { comparisonMarkdown } from './markdown.ts';
import { readRunSet, writeBaseline } from './run-set.ts';

export interface CompareCommandOptions extends CompareOptions {
  markdown?: string;
  junit?: string;
  /** Write the candidate as the new baseline under `baselinesDir`. */
  updateBaseline?: boolean;
  baselinesDir?: string;
  out?: (text: string) => void;
}

export const DEFAULT_BASELINES_DIR = path.join('results', 'baselines');

function writeFile(file: string, text: string) {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
  } catch (e) {
    throw new SpilloverError({
      file,
      message: `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      fix: 'choose a writable path',
    });
  }
}

export function runCompare(
  baseline: string,
  candidate: string | undefined,
  opts: CompareCommandOptions = {},
): { exitCode: number; result?: ComparisonResult; baselineFile?: string } {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const baselinesDir = opts.baselinesDir ?? DEFAULT_BASELINES_DIR;
  if (candidate === undefined) {
    // One argument: only meaningful as "make these runs the first baseline".
    if (!opts.updateBaseline) {
      throw new SpilloverError({
        file: 'spillover compare',
        message: 'missing the runs to compare with the baseline',
        expected: 'spillover compare <baseline> <runs>, or spillover compare <runs> --update-baseline to write a first baseline',
        found: `only ${baseline}`,
        fix: 'name both sides',
      });
    }
    const set = readRunSet(baseline);
    const file = writeBaseline(set, baselinesDir);
    out(`wrote baseline ${path.relative(process.cwd(), file)} from ${set.runs.length} run(s) of ${set.experiment}\n`);
    return { exitCode: 0, baselineFile: file };
  }
  const base = readRunSet(baseline);
  const cand = readRunSet(candidate);
  const result = compareSets(base, cand, opts);
  const names = { base: baseline, cand: candidate };
  const md = comparisonMarkdown(result, names);
  out(md);
  if (opts.markdown) writeFile(opts.markdown, md);
  if (opts.junit) writeFile(opts.junit, comparisonJUnit(result, names));
  if (opts.updateBaseline) {
    const file = writeBaseline(cand, baselinesDir);
    out(
      `\nbaseline updated: ${path.relative(process.cwd(), file)} now holds the ${cand.runs.length} candidate run(s)${result.regression ? ' (the changes above are accepted)' : ''}\n`,
    );
    return { exitCode: 0, result, baselineFile: file };
  }
  return { exitCode: result.exitCode, result };
}
