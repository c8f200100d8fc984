/**
 * Figures of a repeat set, written next to aggregate.md: event times across runs, and the load
 * served by A and by B over time as the mean of the runs with a 95 % band. SVG through the report's
 * renderer, so repeat figures look like run figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PALETTE } from '../report/figures.ts';
import { renderSvg } from '../report/render.ts';
import { readTimeseries, TIMESERIES_FILE, type StoredTimeseries, type TimeseriesColumn } from '../contracts/timeseries.ts';
import type { AggregateSummary } from './aggregate-summary.ts';
import { bandsFigure, eventTimesFigure, type RunSeries } from './figures.ts';

/** A run's timeseries, or null when the run has none (then it is left out of the bands). */
const timeseriesOf = (runDir: string): StoredTimeseries | null =>
  fs.existsSync(path.join(runDir, TIMESERIES_FILE)) ? readTimeseries(runDir) : null;

/** One column of a run's timeseries as a series; null when the run has no such file or column. */
function seriesOf(runDir: string, ts: StoredTimeseries | null, column: TimeseriesColumn): RunSeries | null {
  if (!ts?.rows.length || !ts.columns.includes(column)) return null;
  return { run: path.basename(runDir), points: ts.rows.map((r) => ({ t: r.t_s, value: r[column] ?? null })) };
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
  const series: Array<[string, TimeseriesColumn, string]> = [
    ['A (local)', 'served_a_rps', PALETTE.blue],
    ['B (remote, via gateway)', 'served_b_rps', PALETTE.orange],
    ['Offered load', 'target_rps', PALETTE.black],
  ];
  const tables = runDirs.map((d) => [d, timeseriesOf(d)] as const);
  const groups = series
    .map(([name, column]) => ({
      series: name,
      runs: tables.map(([d, ts]) => seriesOf(d, ts, column)).filter((s): s is RunSeries => s !== null),
    }))
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
