/**
 * Event annotations for the time-axis figures, drawn in a strip of their own above the plot (a
 * vconcat sharing the x scale), so labels never sit on the data. Within the strip each label takes
 * the first row where it does not touch an earlier one; a label that would run past the right edge is
 * right-aligned to its rule instead, so nothing is clipped at any run length.
 */
import type { Analysis } from '../analysis/analyze.ts';
import type { DetectedEvent } from '../analysis/events.ts';

export type VlSpec = Record<string, unknown>;

/** Labelled event markers shared by the time-axis figures. */
const ANNOTATED: DetectedEvent['kind'][] = [
  'overflow',
  'ejection-blocked',
  'eject',
  'uneject',
  'redirect-onset',
  'redirect-end',
  'no-healthy-upstream',
  'recovery',
];

export const LABEL_FONT = 11;
const ROW_PX = 14;
/** DejaVu Sans at 11 px averages under 6.6 px per character (digits 7.0, lower case ~6.3). */
const CHAR_PX = 7.2;

export function eventLabel(e: DetectedEvent): string {
  const who = e.service || e.host || e.envoy;
  switch (e.kind) {
    case 'overflow':
      return `CB overflow${e.envoy ? ` (${e.envoy})` : ''} ${e.t.toFixed(1)} s`;
    case 'ejection-blocked':
      return `ejection blocked ${e.t.toFixed(1)} s`;
    case 'eject':
      return `${who} ejected ${e.t.toFixed(1)} s`;
    case 'uneject':
      return `${who} back ${e.t.toFixed(1)} s`;
    case 'redirect-onset':
      return `redirect to B ${e.t.toFixed(1)} s`;
    case 'redirect-end':
      return `redirect ends ${e.t.toFixed(1)} s`;
    case 'no-healthy-upstream':
      return `no healthy upstream ${e.t.toFixed(1)} s`;
    case 'recovery':
      return `recovered ${e.t.toFixed(1)} s`;
    default:
      return `${e.kind} ${e.t.toFixed(1)} s`;
  }
}

export interface PlacedLabel {
  t: number;
  label: string;
  row: number;
  align: 'left' | 'right';
  /** Pixel extent on the x axis, for tests. */
  x0: number;
  x1: number;
}

/** The first of each kind per host/envoy, grouped when close, placed in rows without overlap. */
export function placeLabels(a: Analysis, domain: [number, number], widthPx: number, fontPx = LABEL_FONT): PlacedLabel[] {
  const seen = new Set<string>();
  const values: Array<{ t: number; label: string }> = [];
  for (const e of a.events) {
    if (!ANNOTATED.includes(e.kind)) continue;
    const key = `${e.kind}|${e.envoy}|${e.host}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (e.t < domain[0] || e.t > domain[1]) continue;
    values.push({ t: e.t, label: eventLabel(e) });
  }
  const span = Math.max(1e-9, domain[1] - domain[0]);
  const px = (t: number) => ((t - domain[0]) / span) * widthPx;
  const groups: Array<{ t: number; label: string }> = [];
  for (const v of [...values].sort((x, y) => x.t - y.t)) {
    const last = groups.at(-1);
    if (last && px(v.t) - px(last.t) <= 12) last.label += ` · ${v.label}`;
    else groups.push({ ...v });
  }
  const rows: Array<Array<[number, number]>> = [];
  return groups.map((g) => {
    const w = g.label.length * CHAR_PX * (fontPx / LABEL_FONT) + 6;
    const x = px(g.t);
    const align: 'left' | 'right' = x + w <= widthPx ? 'left' : 'right';
    const [x0, x1] = align === 'left' ? [x, x + w] : [Math.max(0, x - w), x];
    let row = rows.findIndex((r) => r.every(([a0, a1]) => x1 + 4 < a0 || x0 > a1 + 4));
    if (row < 0) row = rows.push([]) - 1;
    rows[row].push([x0, x1]);
    return { t: g.t, label: g.label, row, align, x0, x1 };
  });
}

const xField = { field: 't', type: 'quantitative' } as const;

/** Dashed rules at the events, for the plot itself. */
export function ruleLayer(labels: PlacedLabel[]): VlSpec[] {
  if (!labels.length) return [];
  return [
    {
      data: { values: labels.map((l) => ({ t: l.t })) },
      mark: { type: 'rule', color: '#000000', strokeDash: [4, 3], strokeWidth: 1 },
      encoding: { x: xField },
    },
  ];
}

/**
 * The whole figure: the label strip over the plot, x shared. Without events it is the plot alone.
 * `plot` holds width/height/layer (and its own x scale domain); the top level keeps title and config.
 */
export function withEventStrip(top: VlSpec, plot: VlSpec, labels: PlacedLabel[], domain: [number, number], fontPx = LABEL_FONT): VlSpec {
  if (!labels.length) return { ...top, ...plot };
  const rows = Math.max(...labels.map((l) => l.row)) + 1;
  const rowPx = Math.round((ROW_PX * fontPx) / LABEL_FONT);
  const width = Number(plot.width);
  // One layer per label: its `limit` (the room left to the plot's edge) truncates rather than clips,
  // whatever the renderer's font metrics turn out to be.
  const text = (l: PlacedLabel) => ({
    data: { values: [{ t: l.t, label: l.label, row: l.row }] },
    mark: {
      type: 'text',
      align: l.align,
      baseline: 'top',
      dx: l.align === 'left' ? 3 : -3,
      fontSize: fontPx,
      color: '#000000',
      limit: Math.max(40, Math.floor(l.align === 'left' ? width - l.x0 - 4 : l.x1 - 4)),
    },
    encoding: {
      x: { ...xField, scale: { domain }, axis: null },
      y: { field: 'row', type: 'quantitative', scale: { domain: [0, rows], range: [2, rows * rowPx + 2] }, axis: null },
      text: { field: 'label' },
    },
  });
  const strip = {
    width: plot.width,
    height: rows * rowPx + 4,
    layer: [
      {
        data: { values: labels.map((l) => ({ t: l.t })) },
        mark: { type: 'rule', color: '#000000', strokeDash: [4, 3], strokeWidth: 1, opacity: 0.5 },
        encoding: { x: { ...xField, scale: { domain }, axis: null } },
      },
      ...labels.map(text),
    ],
  };
  // 'flush': a long rotated y-axis title must not push the plot away from its label strip.
  return { ...top, spacing: 4, bounds: 'flush', vconcat: [strip, plot], resolve: { scale: { x: 'shared' } } };
}
