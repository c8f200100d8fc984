/** Offered load against throughput by who served it: the figure that shows the redirect to B. */
import type { Analysis } from '../analysis/analyze.ts';
import { hasLabels, PALETTE, timeFigure, X_TITLE, ZOOM, type Figure, type VlSpec } from './figure-base.ts';

export function redirectFigure(a: Analysis): Figure {
  const closed = a.summary.loadModel === 'closed';
  const present = (key: 'served_a_rps' | 'served_b_rps') => a.timeseries.some((r) => r[key] > 0);
  // Only series that occur get a legend entry; a closed loop has no offered load to draw.
  const series = [
    ...(present('served_a_rps') || !present('served_b_rps')
      ? [{ key: 'A (local)', col: 'served_a_rps' as const, color: PALETTE.blue }]
      : []),
    ...(present('served_b_rps') ? [{ key: 'B (remote, via gateway)', col: 'served_b_rps' as const, color: PALETTE.orange }] : []),
  ];
  const values: Array<{ t: number; series: string; rps: number }> = [];
  for (const r of a.timeseries) for (const x of series) values.push({ t: r.t_s, series: x.key, rps: r[x.col] });
  const offered = closed ? [] : a.timeseries.map((r) => ({ t: r.t_s, series: 'Offered load', rps: r.target_rps }));
  const domain = [...series.map((x) => x.key), ...(closed ? [] : ['Offered load'])];
  const range = [...series.map((x) => x.color), ...(closed ? [] : [PALETTE.black])];
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain, range } };
  const title = closed ? 'Throughput by destination (closed loop)' : 'Offered load and throughput by destination';
  const layers: VlSpec[] = [
    {
      data: { values },
      params: ZOOM,
      mark: { type: 'area', interpolate: 'step-after', opacity: 0.85 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: X_TITLE },
        y: { field: 'rps', type: 'quantitative', stack: 'zero', title: 'Requests per second (req/s)' },
        color,
        order: { field: 'series' },
        tooltip: [
          { field: 't', title: 'time (s)' },
          { field: 'series', title: 'served by' },
          { field: 'rps', title: 'req/s' },
        ],
      },
    },
  ];
  if (!closed)
    layers.push({
      data: { values: offered },
      mark: { type: 'line', interpolate: 'step-after', strokeDash: [6, 3], strokeWidth: 2 },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'rps', type: 'quantitative' }, color },
    });
  const who =
    series.length === 2
      ? 'stacked (A local, B remote)'
      : series[0]?.key === 'A (local)'
        ? 'all served by A (B served none)'
        : 'all served by B';
  return {
    name: 'redirect',
    title,
    caption: `Requests per second by who served them, ${who}${closed ? ' (closed loop: no offered load)' : ', against the offered load'}; ${a.bucketS} s buckets.${hasLabels(a) ? ' Dashed rules mark detected events, labelled above the plot.' : ''}`,
    spec: timeFigure(a, title, layers),
  };
}
