/** What the client got over time, stacked by outcome, with every failing bucket marked. */
import type { Analysis } from '../analysis/analyze.ts';
import { hasLabels, PALETTE, timeFigure, X_TITLE, ZOOM, type Figure, type VlSpec } from './figure-base.ts';

const OUTCOMES = [
  { key: '2xx', color: PALETTE.green },
  { key: '503 overflow (UO)', color: PALETTE.purple },
  { key: '503 from upstream', color: PALETTE.vermillion },
  { key: 'no healthy upstream (UH)', color: PALETTE.black },
  { key: 'transport error', color: PALETTE.grey },
  { key: '4xx', color: PALETTE.yellow },
];

export function outcomesFigure(a: Analysis): Figure {
  const rows = outcomeRows(a);
  // Only outcomes that occur are drawn and listed in the legend.
  const shown = OUTCOMES.filter((o, i) => i === 0 || rows.some((r) => r.counts[o.key] > 0));
  const values: Array<{ t: number; outcome: string; n: number; order: number }> = [];
  for (const r of rows) shown.forEach((o, order) => values.push({ t: r.t, outcome: o.key, n: r.counts[o.key], order }));
  // A failure is a marker on top of its bucket's stack too: one 503 among thousands of 2xx would
  // otherwise be a sliver no one sees.
  const markers: Array<{ t: number; outcome: string; n: number; top: number }> = [];
  for (const r of rows) {
    const top = shown.reduce((m, o) => m + r.counts[o.key], 0);
    for (const o of shown.slice(1))
      if (r.counts[o.key] > 0) markers.push({ t: r.t + a.bucketS / 2, outcome: o.key, n: r.counts[o.key], top });
  }
  const color = {
    field: 'outcome',
    type: 'nominal',
    title: null,
    scale: { domain: shown.map((o) => o.key), range: shown.map((o) => o.color) },
    legend: { columns: Math.min(3, shown.length) },
  };
  const layers: VlSpec[] = [
    {
      data: { values },
      params: ZOOM,
      mark: { type: 'area', interpolate: 'step-after' },
      encoding: {
        tooltip: [{ field: 't', title: 'bucket start (s)' }, { field: 'outcome' }, { field: 'n', title: 'requests' }],
        x: { field: 't', type: 'quantitative', title: X_TITLE },
        y: { field: 'n', type: 'quantitative', stack: 'zero', title: `Requests per ${a.bucketS} s bucket` },
        color,
        order: { field: 'order' },
      },
    },
  ];
  if (markers.length) {
    layers.push({
      data: { values: markers },
      mark: { type: 'point', shape: 'triangle-down', filled: true, size: 70, opacity: 1, stroke: 'white', strokeWidth: 0.5, yOffset: -5 },
      encoding: {
        x: { field: 't', type: 'quantitative' },
        y: { field: 'top', type: 'quantitative' },
        color: { field: 'outcome', type: 'nominal' },
        tooltip: [{ field: 't', title: 'bucket middle (s)' }, { field: 'outcome' }, { field: 'n', title: 'requests' }],
      },
    });
  }
  const retried = rows.filter((r) => r.retried !== null).map((r) => ({ t: r.t, series: 'retried by Envoy', n: r.retried as number }));
  const drawRetried = retried.some((r) => r.n > 0);
  if (drawRetried) {
    layers.push({
      data: { values: retried },
      mark: { type: 'line', color: PALETTE.sky, strokeWidth: 2, interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'quantitative' },
        y: { field: 'n', type: 'quantitative' },
        strokeDash: { field: 'series', type: 'nominal', title: null },
      },
    });
  }
  const names = shown.map((o) => o.key).join(', ');
  return {
    name: 'outcomes',
    title: 'Outcomes over time',
    caption: `What the client got, per ${a.bucketS} s bucket: ${names}.${markers.length ? ' Triangles mark every bucket with a failure, however few.' : ' No request failed.'}${drawRetried ? ' The line counts requests Envoy retried.' : ''}${hasLabels(a) ? ' Dashed rules mark detected events, labelled above the plot.' : ''}`,
    spec: timeFigure(a, 'Outcomes over time', layers),
  };
}

/** Per bucket: requests by outcome (503s split into UH and the rest from upstream) and retries. */
function outcomeRows(a: Analysis) {
  return a.timeseries.map((r) => {
    const uh = r.flag_uh ?? 0;
    return {
      t: r.t_s,
      counts: {
        '2xx': r.status_2xx,
        '503 overflow (UO)': r.overflow_503,
        '503 from upstream': Math.max(0, r.upstream_5xx - uh),
        'no healthy upstream (UH)': uh,
        'transport error': r.transport_errors,
        '4xx': r.status_4xx,
      } as Record<string, number>,
      retried: r.retried,
    };
  });
}
