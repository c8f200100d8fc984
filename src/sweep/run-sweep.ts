/**
 * `spillover sweep`: every point of the plan, each `repeat` times, one after another (parallel runs
 * on a 2-core machine would measure each other), then the sweep table and figures.
 *
 * Layout: <out>/sweep-<id>/<point id>/<r01..>/ — each point directory is a set of repeats that
 * `spillover compare` reads as it is, so any two points can be compared afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError, isSpilloverError } from '../errors.ts';
import { readExperiment } from '../experiment/read-experiment.ts';
import { aggregateSummaries } from '../compare/aggregate.ts';
import { readRunRecord, SUMMARY_FILE } from '../compare/run-set.ts';
import { formatPlan, planSweep, type SweepPlan } from './plan.ts';
import { sweepCsv, sweepMarkdown, type SweepPointResult } from './table.ts';
import { sweepFigures } from './figures.ts';
import { runExperiment } from '../orchestrate/run.ts';
import { renderSvg, svgToPng } from '../report/render.ts';

/** The part of the run orchestration's options a sweep sets (src/runner/run.ts RunOptions). */
export interface SweepRunOptions {
  experimentFile: string;
  set: string[];
  timeScale?: number;
  backend?: string;
  outDir: string;
  runId: string;
  quiet?: boolean;
  signal?: AbortSignal;
}
export type Runner = (opts: SweepRunOptions) => Promise<{ runDir: string; exitCode: number }>;

export interface SweepOptions {
  experimentFile: string;
  /** Raw `--set` flags: several values make an axis, one value a fixed override. */
  set: string[];
  repeat?: number;
  timeScale?: number;
  backend?: string;
  /** Parent of the sweep directory; default results/<experiment>. */
  outDir?: string;
  /** Name of the sweep directory; default sweep-<UTC stamp>. */
  sweepId?: string;
  dryRun?: boolean;
  quiet?: boolean;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Injected in tests; default the real run orchestration, imported when first needed. */
  runner?: Runner;
  /** Render SVGs next to the vega-lite specs (default true). */
  svg?: boolean;
}

export interface SweepResult {
  sweepDir?: string;
  plan: SweepPlan;
  points: SweepPointResult[];
  exitCode: number;
}

/** Load every point's experiment before anything runs: a bad value fails the sweep at once. */
export function validatePlan(opts: Pick<SweepOptions, 'experimentFile' | 'timeScale'>, plan: SweepPlan): string {
  let name = '';
  for (const p of plan.points) {
    try {
      name = readExperiment(opts.experimentFile, { set: p.sets, timeScale: opts.timeScale }).spec.metadata.name;
    } catch (e) {
      if (!isSpilloverError(e)) throw e;
      throw new SpilloverError(
        e.problems.map((q) => ({ ...q, message: `sweep point ${p.id}: ${q.message}` })),
        e.exitCode,
      );
    }
  }
  return name;
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) {
    throw new SpilloverError({
      file: '--repeat',
      message: 'the repeat count must be a whole number ≥ 1',
      found: String(opts.repeat),
      fix: 'e.g. --repeat 5',
    });
  }
  const plan = planSweep(opts.set);
  const experiment = validatePlan(opts, plan);
  if (opts.dryRun) return { plan, points: [], exitCode: 0 };
  log(formatPlan(plan, repeat));

  const sweepDir = path.resolve(opts.outDir ?? path.join('results', experiment), opts.sweepId ?? `sweep-${stamp()}`);
  fs.mkdirSync(sweepDir, { recursive: true });
  const runner: Runner = opts.runner ?? ((o) => runExperiment({ ...o, backend: o.backend as never }));

  const results: SweepPointResult[] = [];
  let runFailed = false;
  let interrupted = false;
  let n = 0;
  for (const point of plan.points) {
    const pointDir = path.join(sweepDir, point.id);
    const runDirs: string[] = [];
    for (let i = 1; i <= repeat && !interrupted; i++) {
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      n++;
      log(`[${n}/${plan.points.length * repeat}] ${point.id} repeat ${i}/${repeat}`);
      try {
        const res = await runner({
          experimentFile: opts.experimentFile,
          set: point.sets,
          timeScale: opts.timeScale,
          backend: opts.backend,
          outDir: pointDir,
          runId: `r${String(i).padStart(2, '0')}`,
          quiet: opts.quiet,
          signal: opts.signal,
        });
        runDirs.push(res.runDir);
      } catch (e) {
        // One failed run is data about that point (and the runner has torn everything down); go on.
        runFailed = true;
        log(`  ${point.id} repeat ${i} failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    const done = runDirs.filter((d) => fs.existsSync(path.join(d, SUMMARY_FILE)));
    if (done.length < runDirs.length) runFailed = true;
    results.push({
      point,
      dir: path.relative(sweepDir, pointDir),
      runs: repeat,
      failed: repeat - done.length,
      aggregate: done.length ? aggregateSummaries(done.map(readRunRecord)) : null,
    });
    if (interrupted) break;
  }
  await writeSweep(sweepDir, experiment, plan, repeat, results, opts.svg ?? true);
  log(`sweep: ${path.relative(process.cwd(), path.join(sweepDir, 'sweep.md'))}`);
  return { sweepDir, plan, points: results, exitCode: interrupted ? 130 : runFailed ? 1 : 0 };
}

export async function writeSweep(
  sweepDir: string,
  experiment: string,
  plan: SweepPlan,
  repeat: number,
  results: SweepPointResult[],
  svg: boolean,
): Promise<void> {
  const put = (name: string, text: string) => fs.writeFileSync(path.join(sweepDir, name), text);
  put('sweep.json', `${JSON.stringify({ experiment, repeat, axes: plan.axes, fixed: plan.fixed, points: results }, null, 2)}\n`);
  put('sweep.csv', sweepCsv(plan.axes, results));
  put('sweep.md', sweepMarkdown(experiment, plan.axes, results));
  fs.mkdirSync(path.join(sweepDir, 'figures'), { recursive: true });
  const render = svg ? { renderSvg, svgToPng } : null;
  for (const f of sweepFigures(experiment, plan.axes, results)) {
    put(path.join('figures', `${f.name}.vl.json`), `${JSON.stringify(f.spec, null, 2)}\n`);
    if (!render) continue;
    const text = await render.renderSvg(f.spec as unknown as Record<string, unknown>);
    put(path.join('figures', `${f.name}.svg`), text);
    // PNG too, as for a run's figures: slides, chat and issue trackers take PNG, not SVG.
    fs.writeFileSync(path.join(sweepDir, 'figures', `${f.name}.png`), render.svgToPng(text));
  }
}
