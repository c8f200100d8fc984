/**
 * What every report figure shares: the palette, the theme (screen or print), the vega-lite header,
 * the time axis and the event strip above it. A figure is a pure function of the analysis into a
 * spec (one file per figure: redirect-, outcomes-, latency-, ejection-figure.ts); figures.ts lists them.
 */
import type { Analysis } from '../analysis/analyze.ts';
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
/** The theme of the buildFigures call under way (a live binding: figure files read it, only useTheme sets it). */
export let theme: FigureTheme = SCREEN_THEME;
/** Set the theme for one buildFigures call; returns the one it replaces, to restore. */
export function useTheme(t: FigureTheme): FigureTheme {
  const saved = theme;
  theme = t;
  return saved;
}
export const X_TITLE = 'Time since load start (s)';

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
export const ZOOM = [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }];

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
export const base = (title: string, height = theme.height): VlSpec => ({
  $schema: SCHEMA,
  title,
  width: theme.width,
  height,
  config: themed(),
  background: 'white',
});

/** The time axis every time figure shares: first bucket to the end of the last. */
function timeDomain(a: Analysis): [number, number] {
  if (!a.timeseries.length) return [0, 1];
  return [Math.min(0, a.timeseries[0].t_s), a.timeseries[a.timeseries.length - 1].t_s + a.bucketS];
}

/** A time figure: the plot's layers plus event rules, with the labels in a strip above it. */
export function timeFigure(a: Analysis, title: string, layers: VlSpec[], height = theme.height): VlSpec {
  const domain = timeDomain(a);
  const labels = placeLabels(a, domain, theme.width, theme.labelFont);
  const [first, ...rest] = layers;
  const enc = (first.encoding ?? {}) as Record<string, Record<string, unknown>>;
  const pinned = { ...first, encoding: { ...enc, x: { ...enc.x, scale: { domain } } } };
  const plot = { width: theme.width, height, layer: [pinned, ...rest, ...ruleLayer(labels)] };
  const { width: _w, height: _h, ...top } = base(title, height);
  return withEventStrip(top, plot, labels, domain, theme.labelFont);
}

/** Whether any event is labelled above the plot (the caption says so only then). */
export const hasLabels = (a: Analysis) => placeLabels(a, timeDomain(a), theme.width, theme.labelFont).length > 0;
