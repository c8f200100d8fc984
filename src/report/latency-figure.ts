/** Latency p50/p95/p99 over time by who served the request, on a log scale. */
import type { Analysis } from '../analysis/analyze.ts';
import { hasLabels, PALETTE, timeFigure, X_TITLE, ZOOM, type Figure, type VlSpec } from './figure-base.ts';

/** 1-2-5 ticks over the data: vega's own log ticks label 40 and 50 on top of each other. */
function logTicks(ms: Array<number | null>): { axis?: { values: number[] } } {
  const v = ms.filter((x): x is number => x !== null && x > 0);
  if (!v.length) return {};
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) ticks.push(Number((m * 10 ** e).toPrecision(3)));
  // One tick below and above the data so the axis is labelled at its ends.
  const lowT = ticks.filter((t) => t <= lo).at(-1) ?? ticks[0];
  const highT = ticks.find((t) => t >= hi) ?? ticks.at(-1)!;
  return { axis: { values: ticks.filter((t) => t >= lowT && t <= highT) } };
}

export function latencyFigure(a: Analysis): Figure {
  // A bucket without requests for a destination is written as null, so the line breaks there
  // instead of drawing a straight segment across the time that destination served nothing.
  const dests = [
    { key: 'A (local)', cols: ['a_p50_ms', 'a_p95_ms', 'a_p99_ms'] as const, color: PALETTE.blue },
    { key: 'B (remote)', cols: ['b_p50_ms', 'b_p95_ms', 'b_p99_ms'] as const, color: PALETTE.orange },
  ].filter(
    (d, i, all) =>
      a.timeseries.some((r) => (r[d.cols[0]] ?? 0) > 0) ||
      (i === 0 && !all.slice(1).some((x) => a.timeseries.some((r) => (r[x.cols[0]] ?? 0) > 0))),
  );
  const values: Array<{ t: number; destination: string; percentile: string; ms: number | null }> = [];
  for (const r of a.timeseries) {
    for (const d of dests) {
      ['p50', 'p95', 'p99'].forEach((p, i) => {
        const ms = r[d.cols[i]];
        values.push({ t: r.t_s, destination: d.key, percentile: p, ms: ms !== null && ms > 0 ? ms : null });
      });
    }
  }
  const layers: VlSpec[] = [
    {
      data: { values },
      params: ZOOM,
      mark: { type: 'line', point: { size: 12 }, strokeWidth: 1.5, invalid: 'break-paths-filter-domains' },
      encoding: {
        tooltip: [
          { field: 't', title: 'bucket start (s)' },
          { field: 'destination' },
          { field: 'percentile' },
          { field: 'ms', title: 'latency (ms)' },
        ],
        x: { field: 't', type: 'quantitative', title: X_TITLE },
        y: {
          field: 'ms',
          type: 'quantitative',
          scale: { type: 'log' },
          title: 'Latency (ms, log scale)',
          ...logTicks(values.map((v) => v.ms)),
        },
        color: {
          field: 'destination',
          type: 'nominal',
          title: null,
          scale: { domain: dests.map((d) => d.key), range: dests.map((d) => d.color) },
        },
        strokeDash: {
          field: 'percentile',
          type: 'nominal',
          title: null,
          scale: {
            domain: ['p50', 'p95', 'p99'],
            range: [
              [1, 0],
              [6, 3],
              [2, 2],
            ],
          },
          legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300, symbolStrokeColor: PALETTE.black },
        },
        detail: { field: 'percentile' },
      },
    },
  ];
  return {
    name: 'latency',
    title: 'Latency by destination',
    caption: `Latency from the intended send time (free of coordinated omission), p50/p95/p99 per ${a.bucketS} s bucket, by who served the request${dests.length === 1 ? ` (only ${dests[0].key} served)` : ''}. Log scale.${hasLabels(a) ? ' Dashed rules mark detected events, labelled above the plot.' : ''}`,
    spec: timeFigure(a, 'Latency by destination (p50 / p95 / p99)', layers),
  };
}
