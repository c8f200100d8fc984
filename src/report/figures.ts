/**
 * The report's figures as vega-lite specs, data inline so each spec is a complete, self-describing
 * file (figures/<name>.vl.json) that renders anywhere. Okabe–Ito palette (safe for the common forms
 * of colour blindness); every axis names its unit; sizes chosen to stay legible at paper column width.
 */
import type { Analysis } from '../analysis/analyze.ts';
import type { DetectedEvent } from '../analysis/events.ts';
import { placeLabels, ruleLayer, withEventStrip } from './event-strip.ts';

/** Okabe & Ito (2008), "Color Universal Design". */
export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  vermillion: '#D55E00',
  green: '#009E73',
  sky: '#56B4E9',
  purple: '#CC79A7',
  yellow: '#F0E442',
  black: '#000000',
  grey: '#999999',
} as const;

export type VlSpec = Record<string, unknown>;
export interface Figure {
  name: string;
  title: string;
  caption: string;
  spec: VlSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/**
 * Sizes and fonts of the figures: the screen theme (report.html, PNG) or a print theme (paper.ts).
 * Set for the duration of one buildFigures call only, so every figure of a call shares it.
 */
export interface FigureTheme {
  width: number;
  /** Height of a standard time plot. */
  height: number;
  labelFont: number;
  axisFont: number;
  titleFont: number;
}
export const SCREEN_THEME: FigureTheme = { width: 640, height: 240, labelFont: 11, axisFont: 12, titleFont: 15 };
let theme: FigureTheme = SCREEN_THEME;
let WIDTH = theme.width;
const X_TITLE = 'Time since load start (s)';

const CONFIG = {
  font: 'DejaVu Sans',
  axis: { labelFontSize: 12, titleFontSize: 13, grid: true, gridOpacity: 0.4 },
  // At most ~10 time ticks on 640 px: a 4 s run's 0.2 s steps made the flushed end labels collide.
  axisX: { tickCount: 10 },
  legend: { labelFontSize: 12, titleFontSize: 12, orient: 'bottom', direction: 'horizontal', labelLimit: 320 },
  title: { fontSize: 15, anchor: 'start' },
  view: { stroke: null },
};

/** In report.html: drag to pan, wheel to zoom the time axis (double-click resets); no effect on SVG/PNG. */
const ZOOM = [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }];

const themed = () =>
  theme === SCREEN_THEME
    ? CONFIG
    : {
        ...CONFIG,
        axis: { ...CONFIG.axis, labelFontSize: theme.axisFont, titleFontSize: theme.axisFont + 1 },
        legend: { ...CONFIG.legend, labelFontSize: theme.axisFont, labelLimit: theme.width, columns: 2, symbolSize: 60 },
        title: { ...CONFIG.title, fontSize: theme.titleFont },
        axisX: { tickCount: Math.max(4, Math.round(theme.width / 64)) },
      };
const base = (title: string, height = theme.height): VlSpec => ({
  $schema: SCHEMA,
  title,
  width: WIDTH,
  height,
  config: themed(),
  background: 'white',
});

export { eventLabel } from './event-strip.ts';

/** The time axis every time figure shares: first bucket to the end of the last. */
function timeDomain(a: Analysis): [number, number] {
  if (!a.timeseries.length) return [0, 1];
  return [Math.min(0, a.timeseries[0].t_s), a.timeseries[a.timeseries.length - 1].t_s + a.bucketS];
}

/** A time figure: the plot's layers plus event rules, with the labels in a strip above it. */
function timeFigure(a: Analysis, title: string, layers: VlSpec[], height = theme.height): VlSpec {
  const domain = timeDomain(a);
  const labels = placeLabels(a, domain, WIDTH, theme.labelFont);
  const [first, ...rest] = layers;
  const enc = (first.encoding ?? {}) as Record<string, Record<string, unknown>>;
  const pinned = { ...first, encoding: { ...enc, x: { ...enc.x, scale: { domain } } } };
  const plot = { width: WIDTH, height, layer: [pinned, ...rest, ...ruleLayer(labels)] };
  const { width: _w, height: _h, ...top } = base(title, height);
  return withEventStrip(top, plot, labels, domain, theme.labelFont);
}

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

const OUTCOMES = [
  { key: '2xx', color: PALETTE.green },
  { key: '503 overflow (UO)', color: PALETTE.purple },
  { key: '503 from upstream', color: PALETTE.vermillion },
  { key: 'no healthy upstream (UH)', color: PALETTE.black },
  { key: 'transport error', color: PALETTE.grey },
  { key: '4xx', color: PALETTE.yellow },
];

const hasLabels = (a: Analysis) => placeLabels(a, timeDomain(a), WIDTH, theme.labelFont).length > 0;

export function outcomesFigure(a: Analysis): Figure {
  const rows = a.timeseries.map((r) => {
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
  for (const [row, t] of [...open].sort(([x], [y]) => x.localeCompare(y)))
    rows.push({ row, state: 'ejected', t, t2: Math.max(tEnd, t), label: 'until end' });
  for (const r of a.timeseries) {
    const n = r.overflow_503 + (r.flag_uo ?? 0);
    if (n > 0)
      rows.push({
        row: 'circuit breaker (503 UO at the client)',
        state: 'overflowing (503 UO)',
        t: r.t_s,
        t2: r.t_s + a.bucketS,
        label: '',
      });
  }
  for (const e of a.events)
    if (e.kind === 'overflow' && e.envoy)
      rows.push({
        row: `circuit breaker @ ${e.envoy}`,
        state: 'first overflow',
        t: e.t,
        t2: e.t + Math.max(0.2, a.bucketS / 5),
        label: '',
      });
  // Blocked ejections: from the first refusal to the end (the counter says when it started, not when it stopped).
  for (const e of a.events)
    if (e.kind === 'ejection-blocked')
      rows.push({
        row: `${e.envoy}: ejections refused`,
        state: 'ejection blocked',
        t: e.t,
        t2: Math.max(tEnd, e.t),
        label: `${/to (\d+) by the end/.exec(e.detail)?.[1] ?? '?'} refused`,
      });
  const t0 = Math.min(0, ...a.timeseries.map((r) => r.t_s));
  const all = [
    ['ejected', PALETTE.vermillion],
    ['ejection blocked', PALETTE.grey],
    ['overflowing (503 UO)', PALETTE.purple],
    ['first overflow', PALETTE.black],
  ];
  const present = all.filter(([k]) => rows.some((r) => r.state === k));
  const states = present.length ? present : all.slice(0, 1);
  // Interval labels go after the bar when they fit before the end of the axis, else inside it (white).
  const pxPerS = WIDTH / Math.max(1e-9, tEnd - t0);
  const labels = rows
    .filter((r) => r.label)
    .map((r) => {
      const w = (r.label.length * 7 + 8) / pxPerS;
      return r.t2 + w <= tEnd ? { ...r, lx: r.t2, ink: PALETTE.black, dx: 4 } : { ...r, lx: r.t, ink: 'white', dx: 4 };
    });
  const nRows = new Set(rows.map((r) => r.row)).size;
  const longest = Math.max(0, ...rows.map((r) => r.row.length));
  return {
    name: 'ejections',
    title: 'Ejection timeline and circuit-breaker state',
    caption: `Each row is ${[rows.some((r) => r.state === 'ejected') ? 'an upstream host as seen by one Envoy (bars: ejected by outlier detection)' : '', rows.some((r) => r.state === 'ejection blocked') ? "an Envoy's refused ejections (bar: from the first ejection maxEjectionPercent refused)" : '', rows.some((r) => r.state === 'overflowing (503 UO)' || r.state === 'first overflow') ? 'a circuit breaker (bars: buckets with 503 overflow; first overflow per Envoy)' : ''].filter(Boolean).join(' or ') || 'empty: no host was ejected and no circuit breaker overflowed'}.`,
    spec: {
      ...base('Ejection timeline and circuit-breaker state', Math.max(40, 34 * nRows)),
      data: { values: rows },
      layer: [
        {
          params: ZOOM,
          mark: { type: 'bar', height: { band: 0.7 } },
          encoding: {
            tooltip: [
              { field: 'row', title: 'what' },
              { field: 'state' },
              { field: 't', title: 'from (s)' },
              { field: 't2', title: 'to (s)' },
            ],
            x: { field: 't', type: 'quantitative', title: X_TITLE, scale: { domain: [t0, tEnd] } },
            x2: { field: 't2' },
            y: {
              field: 'row',
              type: 'nominal',
              title: null,
              axis: { labelLimit: Math.max(120, Math.round((longest * 9 * theme.axisFont) / 12) + 16) },
            },
            color: {
              field: 'state',
              type: 'nominal',
              title: null,
              scale: { domain: states.map(([k]) => k), range: states.map(([, c]) => c) },
            },
          },
        },
        {
          data: { values: labels },
          mark: { type: 'text', align: 'left', dx: 4, fontSize: theme.labelFont },
          encoding: {
            x: { field: 'lx', type: 'quantitative' },
            y: { field: 'row', type: 'nominal' },
            text: { field: 'label' },
            color: { field: 'ink', type: 'nominal', scale: null },
          },
        },
      ],
    },
  };
}

export function buildFigures(a: Analysis, t: FigureTheme = SCREEN_THEME): Figure[] {
  const saved = theme;
  theme = t;
  WIDTH = t.width;
  try {
    const figs = [redirectFigure(a), outcomesFigure(a), latencyFigure(a)];
    if (a.summary.envoyTelemetry) figs.push(ejectionFigure(a));
    return figs;
  } finally {
    theme = saved;
    WIDTH = saved.width;
  }
}
