/**
 * The report's figures as vega-lite specs, data inline so each spec is a complete, self-describing
 * file (figures/<name>.vl.json) that renders anywhere. Okabe–Ito palette (safe for the common forms
 * of colour blindness); every axis names its unit; sizes chosen to stay legible at paper column width.
 *
 * One file per figure; this list is the order the report shows them in. Adding a figure: a file
 * with a pure spec function beside these, a line in `buildFigures`, a golden file in test/golden/report/.
 */
import type { Analysis } from '../analysis/analyze.ts';
import { useTheme, SCREEN_THEME, type Figure, type FigureTheme } from './figure-base.ts';
import { redirectFigure } from './redirect-figure.ts';
import { outcomesFigure } from './outcomes-figure.ts';
import { latencyFigure } from './latency-figure.ts';
import { ejectionFigure } from './ejection-figure.ts';

export { PALETTE, SCREEN_THEME, type Figure, type FigureTheme, type VlSpec } from './figure-base.ts';
export { eventLabel } from './event-strip.ts';
export { redirectFigure, outcomesFigure, latencyFigure, ejectionFigure };

export function buildFigures(a: Analysis, t: FigureTheme = SCREEN_THEME): Figure[] {
  const saved = useTheme(t);
  try {
    const figs = [redirectFigure(a), outcomesFigure(a), latencyFigure(a)];
    if (a.summary.envoyTelemetry) figs.push(ejectionFigure(a));
    return figs;
  } finally {
    useTheme(saved);
  }
}
