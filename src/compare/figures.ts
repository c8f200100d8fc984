/**
 * Vega-lite figures across repeats: a time series drawn as the mean of the runs with its 95 %
 * interval as a band, and the key event times as one dot per run with mean and interval.
 *
 * The statistics are computed here and the spec carries plain values (no vega transforms), so the
 * figure shows exactly the numbers the aggregate table prints, and the spec is stable byte for byte.
 */
import type { TopLevelSpec } from 'vega-lite';
import { describe } from '../analysis/stats/describe.ts';
import type { AggregateSummary } from './aggregate-summary.ts';

export interface RunSeries {
  run: string;
  points: ReadonlyArray<{ t: number; value: number | null }>;
}

export interface BandPoint {
  series: string;
  t: number;
  mean: number;
  lo: number;
  hi: number;
  runs: number;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Per time step, mean and 95 % interval of the runs that have a value there. */
export function bandPoints(series: string, runs: readonly RunSeries[]): BandPoint[] {
  const byT = new Map<number, number[]>();
  for (const r of runs) {
    for (const p of r.points) {
      if (p.value === null || !Number.isFinite(p.value)) continue;
      const list = byT.get(p.t) ?? [];
      list.push(p.value);
      byT.set(p.t, list);
    }
  }
  return [...byT.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, values]) => {
      const d = describe(values)!;
      return { series, t, mean: round(d.mean), lo: round(d.ci95[0]), hi: round(d.ci95[1]), runs: d.n };
    });
}

export interface BandsFigureOptions {
  title: string;
  yTitle: string;
  xTitle?: string;
  width?: number;
  height?: number;
  /** Series name -> colour, so repeat figures use the run report's colours for A, B and offered load. */
  colors?: Record<string, string>;
}

/**
 * A line per series (e.g. served by A, served by B) at the mean across repeats, with the 95 %
 * interval of the mean as a band around it.
 */
export function bandsFigure(groups: ReadonlyArray<{ series: string; runs: readonly RunSeries[] }>, opts: BandsFigureOptions): TopLevelSpec {
  const values = groups.flatMap((g) => bandPoints(g.series, g.runs));
  const n = Math.max(0, ...groups.map((g) => g.runs.length));
  const x = { field: 't', type: 'quantitative' as const, title: opts.xTitle ?? 'Time since load start (s)' };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    ...(opts.colors ? { scale: { domain: Object.keys(opts.colors), range: Object.values(opts.colors) } } : {}),
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title, subtitle: `mean of ${n} run${n === 1 ? '' : 's'}, band: 95 % CI of the mean` },
    width: opts.width ?? 640,
    height: opts.height ?? 240,
    background: 'white',
    config: { font: 'DejaVu Sans', legend: { orient: 'bottom', direction: 'horizontal', labelLimit: 320 } },
    data: { values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.25 },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: opts.yTitle }, y2: { field: 'hi' }, color },
      },
      {
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: opts.yTitle },
          color,
          tooltip: [
            { field: 'series', type: 'nominal' },
            { field: 't', type: 'quantitative' },
            { field: 'mean', type: 'quantitative' },
            { field: 'lo', type: 'quantitative', title: 'CI low' },
            { field: 'hi', type: 'quantitative', title: 'CI high' },
            { field: 'runs', type: 'quantitative' },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

/** Key event times across repeats: one dot per run, a tick at the mean, a rule for the 95 % CI. */
export function eventTimesFigure(agg: AggregateSummary, title = `${agg.experiment}: event times across ${agg.n} runs`): TopLevelSpec {
  const times = agg.figures.filter((f) => f.unit === 's');
  const dots = times.flatMap((f) => f.values.flatMap((v, i) => (v === null ? [] : [{ event: f.label, t: v, run: agg.runIds[i] }])));
  const summary = times.flatMap((f) =>
    f.stats
      ? [
          {
            event: f.label,
            mean: round(f.stats.mean),
            lo: round(f.stats.ci95[0]),
            hi: round(f.stats.ci95[1]),
            seen: `${f.happened}/${agg.n}`,
          },
        ]
      : [],
  );
  const y = { field: 'event', type: 'nominal' as const, title: null, sort: times.map((f) => f.label), axis: { labelLimit: 260 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 560,
    background: 'white',
    config: { font: 'DejaVu Sans' },
    layer: [
      {
        data: { values: summary },
        mark: { type: 'rule', strokeWidth: 3, opacity: 0.4 },
        encoding: { y, x: { field: 'lo', type: 'quantitative', title: 'Time since load start (s)' }, x2: { field: 'hi' } },
      },
      {
        data: { values: summary },
        mark: { type: 'tick', thickness: 2 },
        encoding: {
          y,
          x: { field: 'mean', type: 'quantitative' },
          tooltip: [{ field: 'event' }, { field: 'mean' }, { field: 'lo' }, { field: 'hi' }, { field: 'seen', title: 'runs with it' }],
        },
      },
      {
        data: { values: dots },
        mark: { type: 'point', filled: true, size: 40, opacity: 0.7 },
        encoding: { y, x: { field: 't', type: 'quantitative' }, tooltip: [{ field: 'run' }, { field: 't' }] },
      },
    ],
  } as TopLevelSpec;
}
