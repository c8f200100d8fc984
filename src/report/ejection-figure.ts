/** Ejection intervals per host as seen by each Envoy, and the circuit breakers' state, on one time axis. */
import type { Analysis } from '../analysis/analyze.ts';
import type { DetectedEvent } from '../analysis/events.ts';
import { base, PALETTE, theme, X_TITLE, ZOOM, type Figure } from './figure-base.ts';

interface Bar {
  row: string;
  state: string;
  t: number;
  t2: number;
  label: string;
}

/** Ejection intervals per host, and the buckets in which the circuit breaker overflowed. */
export function ejectionFigure(a: Analysis): Figure {
  const tEnd = a.timeseries.length ? a.timeseries[a.timeseries.length - 1].t_s + a.bucketS : 0;
  const rows = ejectionBars(a, tEnd);
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
  const pxPerS = theme.width / Math.max(1e-9, tEnd - t0);
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

/** One bar per ejection (open ones run to the end), overflowing bucket, first overflow and blocked-ejection span. */
function ejectionBars(a: Analysis, tEnd: number): Bar[] {
  const rows: Bar[] = [];
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
  return rows;
}
