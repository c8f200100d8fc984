/**
 * Figures of a repeat set, written next to aggregate.md: event times across runs, and the load
 * served by A and by B over time as the mean of the runs with a 95 % band. SVG through the report's
 * renderer, so repeat figures look like run figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { PALETTE } from '../report/figures.ts';
import { renderSvg } from '../report/render.ts';
import type { AggregateSummary } from './aggregate-summary.ts';
import { bandsFigure, eventTimesFigure, type RunSeries } from './figures.ts';

/** One column of a run's timeseries.csv as a series; null when the run has no such file. */
function readSeries(runDir: string, column: string): RunSeries | null {
  const file = path.join(runDir, 'timeseries.csv');
  if (!fs.existsSync(file)) return null;
  const rows = parse(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  if (!rows.length || !(column in rows[0])) return null;
  return {
    run: path.basename(runDir),
    points: rows.map((r) => ({ t: Number(r.t_s), value: r[column] === '' ? null : Number(r[column]) })),
  };
}

export async function writeRepeatFigures(setDir: string, agg: AggregateSummary, runDirs: readonly string[]): Promise<string[]> {
  const dir = path.join(setDir, 'figures');
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, spec: object) => {
    fs.writeFileSync(path.join(dir, `${name}.vl.json`), `${JSON.stringify(spec, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, `${name}.svg`), await renderSvg(spec as Record<string, unknown>));
    written.push(path.join(dir, `${name}.svg`));
  };
  await put('event-times', eventTimesFigure(agg));
  const series = [
    ['A (local)', 'served_a_rps', PALETTE.blue],
    ['B (remote, via gateway)', 'served_b_rps', PALETTE.orange],
    ['Offered load', 'target_rps', PALETTE.black],
  ];
  const groups = series
    .map(([name, column]) => ({ series: name, runs: runDirs.map((d) => readSeries(d, column)).filter((s): s is RunSeries => s !== null) }))
    .filter((g) => g.runs.length > 0);
  if (groups.length)
    await put(
      'served-bands',
      bandsFigure(groups, {
        title: `${agg.experiment}: who served the load, across ${agg.n} runs`,
        yTitle: 'Requests per second (req/s)',
        colors: Object.fromEntries(
          series.filter(([name]) => groups.some((g) => g.series === name)).map(([name, , color]) => [name, color]),
        ),
      }),
    );
  return written;
}
