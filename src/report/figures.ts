/**
 * The report's figures as vega-lite specs, data inline so each spec is a complete, self-describing
 * file (figures/<name>.vl.json) that renders anywhere. Okabe–Ito palette (safe for the common forms
 * of colour blindness); every axis names its unit; sizes chosen to stay legible at paper column width.
 */
import type { Analysis } from '../analysis/analyze.ts';
import type { DetectedEvent } from '../analysis/events.ts';

/** Okabe & Ito (2008), "Color Universal Design". */
export const PALETTE = { blue: '#0072B2', orange: '#E69F00', vermillion: '#D55E00', green: '#009E73', sky: '#56B4E9', purple: '#CC79A7', yellow: '#F0E442', black: '#000000', grey: '#999999' } as const;

export type VlSpec = Record<string, unknown>;
export interface Figure {
  name: string;
  title: string;
  caption: string;
  spec: VlSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 640;
const X_TITLE = 'Time since load start (s)';

const CONFIG = {
  font: 'DejaVu Sans',
  axis: { labelFontSize: 12, titleFontSize: 13, grid: true, gridOpacity: 0.4 },
  legend: { labelFontSize: 12, titleFontSize: 12, orient: 'bottom', direction: 'horizontal', labelLimit: 320 },
  title: { fontSize: 15, anchor: 'start' },
  view: { stroke: null },
};

/** In report.html: drag to pan, wheel to zoom the time axis (double-click resets); no effect on SVG/PNG. */
const ZOOM = [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }];

const base = (title: string, height = 240): VlSpec => ({ $schema: SCHEMA, title, width: WIDTH, height, config: CONFIG, background: 'white' });

/** Labelled event markers shared by the time-axis figures. */
const ANNOTATED: DetectedEvent['kind'][] = ['overflow', 'eject', 'uneject', 'redirect-onset', 'redirect-end', 'no-healthy-upstream', 'recovery'];

export function eventLabel(e: DetectedEvent): string {
  const who = e.service || e.host || e.envoy;
  switch (e.kind) {
    case 'overflow': return `CB overflow${e.envoy ? ` (${e.envoy})` : ''} ${e.t.toFixed(1)} s`;
    case 'eject': return `${who} ejected ${e.t.toFixed(1)} s`;
    case 'uneject': return `${who} back ${e.t.toFixed(1)} s`;
    case 'redirect-onset': return `redirect to B ${e.t.toFixed(1)} s`;
    case 'redirect-end': return `redirect ends ${e.t.toFixed(1)} s`;
    case 'no-healthy-upstream': return `no healthy upstream ${e.t.toFixed(1)} s`;
    case 'recovery': return `recovered ${e.t.toFixed(1)} s`;
    default: return `${e.kind} ${e.t.toFixed(1)} s`;
  }
}

function eventLayers(a: Analysis): VlSpec[] {
  // The first of each kind per host/envoy: enough to read the story without burying the plot.
  const seen = new Set<string>();
  const values: Array<{ t: number; label: string }> = [];
  for (const e of a.events) {
    if (!ANNOTATED.includes(e.kind)) continue;
    const key = `${e.kind}|${e.envoy}|${e.host}`;
    if (seen.has(key)) continue;
    seen.add(key);
    values.push({ t: e.t, label: eventLabel(e) });
  }
  if (values.length === 0) return [];
  // Events close together in time share one label (a rule each); labels then take the first line on
  // which the previous text has ended, judged from an 11 px font's width, so texts never overprint.
  const span = Math.max(1, ...a.timeseries.map((r) => r.t_s + a.bucketS), ...values.map((v) => v.t));
  const groups: Array<{ t: number; label: string }> = [];
  for (const v of [...values].sort((x, y) => x.t - y.t)) {
    const last = groups.at(-1);
    if (last && v.t - last.t <= 0.02 * span) last.label += ` · ${v.label}`;
    else groups.push({ ...v });
  }
  const textEnd = (g: { t: number; label: string }) => g.t + ((g.label.length * 6.3 + 6) / WIDTH) * span;
  const lineEnds: number[] = [];
  const labels = groups.map((g) => {
    let row = lineEnds.findIndex((end) => end < g.t);
    if (row < 0) row = lineEnds.length;
    lineEnds[row] = textEnd(g);
    return { ...g, row };
  });
  return [
    { data: { values }, mark: { type: 'rule', color: PALETTE.black, strokeDash: [4, 3], strokeWidth: 1 }, encoding: { x: { field: 't', type: 'quantitative' } } },
    // A white outline under each label keeps it readable where it crosses the data.
    {
      data: { values: labels },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, fontSize: 11, stroke: 'white', strokeWidth: 3, strokeOpacity: 0.9 },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { value: { expr: '4 + datum.row * 14' } }, text: { field: 'label' } },
    },
    {
      data: { values: labels },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, fontSize: 11, color: PALETTE.black },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { value: { expr: '4 + datum.row * 14' } }, text: { field: 'label' } },
    },
  ];
}

export function redirectFigure(a: Analysis): Figure {
  const values: Array<{ t: number; series: string; rps: number }> = [];
  for (const r of a.timeseries) {
    values.push({ t: r.t_s, series: 'A (local)', rps: r.served_a_rps });
    values.push({ t: r.t_s, series: 'B (remote, via gateway)', rps: r.served_b_rps });
  }
  const offered = a.timeseries.map((r) => ({ t: r.t_s, series: 'Offered load', rps: r.target_rps }));
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: ['A (local)', 'B (remote, via gateway)', 'Offered load'], range: [PALETTE.blue, PALETTE.orange, PALETTE.black] } };
  return {
    name: 'redirect',
    title: 'Offered load and throughput by destination',
    caption: `Requests per second by who served them, stacked (A local, B remote), against the offered load; ${a.bucketS} s buckets. Dashed rules mark detected events.`,
    spec: {
      ...base('Offered load and throughput by destination'),
      layer: [
        {
          data: { values },
          params: ZOOM,
          mark: { type: 'area', interpolate: 'step-after', opacity: 0.85 },
          encoding: {
            x: { field: 't', type: 'quantitative', title: X_TITLE },
            y: { field: 'rps', type: 'quantitative', stack: 'zero', title: 'Requests per second (req/s)' },
            color,
            order: { field: 'series' },
            tooltip: [{ field: 't', title: 'time (s)' }, { field: 'series', title: 'served by' }, { field: 'rps', title: 'req/s' }],
          },
        },
        { data: { values: offered }, mark: { type: 'line', interpolate: 'step-after', strokeDash: [6, 3], strokeWidth: 2 }, encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'rps', type: 'quantitative' }, color } },
        ...eventLayers(a),
      ],
    },
  };
}

const OUTCOMES = [
  { key: '2xx', color: PALETTE.green },
  { key: '503 overflow (UO)', color: PALETTE.purple },
  { key: '503 from upstream', color: PALETTE.vermillion },
  { key: 'no healthy upstream (UH)', color: PALETTE.black },
  { key: 'transport error', color: PALETTE.grey },
  { key: '4xx', color: PALETTE.yellow },
];

export function outcomesFigure(a: Analysis): Figure {
  const values: Array<{ t: number; outcome: string; n: number; order: number }> = [];
  const retried: Array<{ t: number; series: string; n: number }> = [];
  for (const r of a.timeseries) {
    const uh = r.flag_uh ?? 0;
    const counts: Record<string, number> = {
      '2xx': r.status_2xx,
      '503 overflow (UO)': r.overflow_503,
      '503 from upstream': Math.max(0, r.upstream_5xx - uh),
      'no healthy upstream (UH)': uh,
      'transport error': r.transport_errors,
      '4xx': r.status_4xx,
    };
    // Zeros are kept: a stacked area needs every series at every step to stack correctly.
    OUTCOMES.forEach((o, order) => values.push({ t: r.t_s, outcome: o.key, n: counts[o.key], order }));
    if (r.retried !== null) retried.push({ t: r.t_s, series: 'retried by Envoy', n: r.retried });
  }
  const layers: VlSpec[] = [
    {
      data: { values },
      params: ZOOM,
      mark: { type: 'area', interpolate: 'step-after' },
      encoding: {
        tooltip: [{ field: 't', title: 'bucket start (s)' }, { field: 'outcome' }, { field: 'n', title: 'requests' }],
        x: { field: 't', type: 'quantitative', title: X_TITLE },
        y: { field: 'n', type: 'quantitative', stack: 'zero', title: `Requests per ${a.bucketS} s bucket (count)` },
        color: { field: 'outcome', type: 'nominal', title: null, scale: { domain: OUTCOMES.map((o) => o.key), range: OUTCOMES.map((o) => o.color) }, legend: { columns: 3 } },
        order: { field: 'order' },
      },
    },
  ];
  if (retried.some((r) => r.n > 0)) {
    layers.push({ data: { values: retried }, mark: { type: 'line', color: PALETTE.sky, strokeWidth: 2, interpolate: 'step-after' }, encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'n', type: 'quantitative' }, strokeDash: { field: 'series', type: 'nominal', title: null } } });
  }
  return {
    name: 'outcomes',
    title: 'Outcomes over time',
    caption: 'What the client got, per bucket: 2xx, circuit-breaker overflow (503 with x-envoy-overloaded), 503 from upstream, no healthy upstream (client access log flag UH), transport errors; the line counts requests Envoy retried. Dashed rules mark detected events.',
    spec: { ...base('Outcomes over time'), layer: [...layers, ...eventLayers(a)] },
  };
}

export function latencyFigure(a: Analysis): Figure {
  // A bucket without requests for a destination is written as null, so the line breaks there
  // instead of drawing a straight segment across the time that destination served nothing.
  const values: Array<{ t: number; destination: string; percentile: string; ms: number | null }> = [];
  for (const r of a.timeseries) {
    const add = (destination: string, percentile: string, ms: number | null) => values.push({ t: r.t_s, destination, percentile, ms: ms !== null && ms > 0 ? ms : null });
    add('A (local)', 'p50', r.a_p50_ms);
    add('A (local)', 'p95', r.a_p95_ms);
    add('A (local)', 'p99', r.a_p99_ms);
    add('B (remote)', 'p50', r.b_p50_ms);
    add('B (remote)', 'p95', r.b_p95_ms);
    add('B (remote)', 'p99', r.b_p99_ms);
  }
  return {
    name: 'latency',
    title: 'Latency by destination',
    caption: `Latency from the intended send time (free of coordinated omission), p50/p95/p99 per ${a.bucketS} s bucket, by who served the request. Log scale.`,
    spec: {
      ...base('Latency by destination (p50 / p95 / p99)'),
      layer: [
        {
          data: { values },
          params: ZOOM,
          mark: { type: 'line', point: { size: 12 }, strokeWidth: 1.5, invalid: 'break-paths-filter-domains' },
          encoding: {
            tooltip: [{ field: 't', title: 'bucket start (s)' }, { field: 'destination' }, { field: 'percentile' }, { field: 'ms', title: 'latency (ms)' }],
            x: { field: 't', type: 'quantitative', title: X_TITLE },
            y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'Latency (ms, log scale)' },
            color: { field: 'destination', type: 'nominal', title: null, scale: { domain: ['A (local)', 'B (remote)'], range: [PALETTE.blue, PALETTE.orange] } },
            strokeDash: { field: 'percentile', type: 'nominal', title: null, scale: { domain: ['p50', 'p95', 'p99'], range: [[1, 0], [6, 3], [2, 2]] }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300, encode: { symbols: { update: { stroke: { value: PALETTE.black } } } } } },
            detail: { field: 'percentile' },
          },
        },
        ...eventLayers(a),
      ],
    },
  };
}

/** Ejection intervals per host, and the buckets in which the circuit breaker overflowed. */
export function ejectionFigure(a: Analysis): Figure {
  const tEnd = a.timeseries.length ? a.timeseries[a.timeseries.length - 1].t_s + a.bucketS : 0;
  const rows: Array<{ row: string; state: string; t: number; t2: number; label: string }> = [];
  const open = new Map<string, number>();
  const rowName = (e: DetectedEvent) => `${e.envoy} → ${e.service ? `${e.service} ` : ''}${e.host}`;
  for (const e of a.events) {
    if (e.kind === 'eject') open.set(rowName(e), e.t);
    if (e.kind === 'uneject') {
      const t = open.get(rowName(e));
      if (t !== undefined) rows.push({ row: rowName(e), state: 'ejected', t, t2: e.t, label: `${(e.t - t).toFixed(1)} s` });
      open.delete(rowName(e));
    }
  }
  for (const [row, t] of [...open].sort(([x], [y]) => x.localeCompare(y))) rows.push({ row, state: 'ejected', t, t2: Math.max(tEnd, t), label: 'until end' });
  for (const r of a.timeseries) {
    const n = r.overflow_503 + (r.flag_uo ?? 0);
    if (n > 0) rows.push({ row: 'circuit breaker (503 UO at the client)', state: 'overflowing (503 UO)', t: r.t_s, t2: r.t_s + a.bucketS, label: '' });
  }
  for (const e of a.events) if (e.kind === 'overflow' && e.envoy) rows.push({ row: `circuit breaker @ ${e.envoy}`, state: 'first overflow', t: e.t, t2: e.t + Math.max(0.2, a.bucketS / 5), label: '' });
  return {
    name: 'ejections',
    title: 'Ejection timeline and circuit-breaker state',
    caption: 'Each row is an upstream host as seen by one Envoy (bars: ejected by outlier detection, from the outlier event log) or a circuit breaker (bars: buckets with 503 overflow; first overflow per Envoy).',
    spec: {
      ...base('Ejection timeline and circuit-breaker state', Math.max(80, 34 * new Set(rows.map((r) => r.row)).size)),
      data: { values: rows },
      layer: [
        {
          params: ZOOM,
          mark: { type: 'bar', height: { band: 0.7 } },
          encoding: {
            tooltip: [{ field: 'row', title: 'what' }, { field: 'state' }, { field: 't', title: 'from (s)' }, { field: 't2', title: 'to (s)' }],
            x: { field: 't', type: 'quantitative', title: X_TITLE, scale: { domain: [Math.min(0, ...a.timeseries.map((r) => r.t_s)), tEnd] } },
            x2: { field: 't2' },
            y: { field: 'row', type: 'nominal', title: null, axis: { labelLimit: 320 } },
            color: { field: 'state', type: 'nominal', title: null, scale: { domain: ['ejected', 'overflowing (503 UO)', 'first overflow'], range: [PALETTE.vermillion, PALETTE.purple, PALETTE.black] } },
          },
        },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { x: { field: 't2', type: 'quantitative' }, y: { field: 'row', type: 'nominal' }, text: { field: 'label' } } },
      ],
    },
  };
}

export function buildFigures(a: Analysis): Figure[] {
  const figs = [redirectFigure(a), outcomesFigure(a), latencyFigure(a)];
  if (a.summary.envoyTelemetry) figs.push(ejectionFigure(a));
  return figs;
}
