/**
 * Sweep figures. Two or more axes: a heatmap of the first two (mean of the figure in each cell, the
 * value printed in it); one axis: the mean against the axis with its 95 % interval. With more than
 * two axes the heatmap is faceted by the remaining ones. Axis values keep the order they were given.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SweepAxis } from './plan.ts';
import type { SweepPointResult } from './table.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface SweepFigure {
  name: string;
  spec: TopLevelSpec;
}

function cells(axes: readonly SweepAxis[], results: readonly SweepPointResult[], field: string) {
  return results.map((r) => {
    const f = r.aggregate?.figures.find((x) => x.field === field);
    const s = f?.stats ?? null;
    const rest = axes
      .slice(2)
      .map((a) => `${a.label}=${r.point.values[a.label]}`)
      .join(', ');
    return {
      ...Object.fromEntries(axes.map((a) => [a.label, r.point.values[a.label]])),
      facet: rest,
      mean: s ? Math.round(s.mean * 1000) / 1000 : null,
      lo: s ? Math.round(s.ci95[0] * 1000) / 1000 : null,
      hi: s ? Math.round(s.ci95[1] * 1000) / 1000 : null,
      seen: `${f?.happened ?? 0}/${r.aggregate?.n ?? 0}`,
      label: s ? (Math.abs(s.mean) >= 10 ? s.mean.toFixed(1) : s.mean.toFixed(2)) : 'never',
    };
  });
}

export function sweepFigure(
  experiment: string,
  axes: readonly SweepAxis[],
  results: readonly SweepPointResult[],
  field: string,
  title: string,
  unit: string,
): TopLevelSpec {
  const values = cells(axes, results, field);
  const what = `${title}${unit ? ` (${unit})` : ''}`;
  const x = { field: axes[0].label, type: 'ordinal' as const, sort: axes[0].values, title: axes[0].label, axis: { labelAngle: 0 } };
  if (axes.length === 1) {
    const xq = { ...x };
    return {
      $schema: SCHEMA,
      title: { text: `${experiment}: ${title} against ${axes[0].label}`, subtitle: 'mean across repeats, bar: 95 % CI of the mean' },
      width: 480,
      height: 260,
      background: 'white',
      data: { values },
      layer: [
        { mark: { type: 'rule' }, encoding: { x: xq, y: { field: 'lo', type: 'quantitative', title: what }, y2: { field: 'hi' } } },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: xq,
            y: { field: 'mean', type: 'quantitative', title: what },
            tooltip: [
              { field: axes[0].label },
              { field: 'mean' },
              { field: 'lo' },
              { field: 'hi' },
              { field: 'seen', title: 'runs with it' },
            ],
          },
        },
      ],
    } as TopLevelSpec;
  }
  const y = { field: axes[1].label, type: 'ordinal' as const, sort: [...axes[1].values].reverse(), title: axes[1].label };
  // Viridis runs from dark to light: white labels on the dark end, black on the light end and on
  // the grey "never" cells.
  const means = values.map((v) => v.mean).filter((m): m is number => m !== null);
  const light = means.length ? Math.min(...means) + 0.6 * (Math.max(...means) - Math.min(...means)) : 0;
  const heat = {
    width: Math.max(160, 60 * axes[0].values.length),
    height: Math.max(120, 40 * axes[1].values.length),
    layer: [
      { mark: { type: 'rect', color: '#dddddd' }, encoding: { x, y } },
      {
        mark: { type: 'rect' },
        encoding: {
          x,
          y,
          color: { field: 'mean', type: 'quantitative', title: unit ? `mean (${unit})` : 'mean', scale: { scheme: 'viridis' } },
          tooltip: [
            { field: axes[0].label },
            { field: axes[1].label },
            { field: 'mean' },
            { field: 'lo' },
            { field: 'hi' },
            { field: 'seen', title: 'runs with it' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          x,
          y,
          text: { field: 'label' },
          color: { condition: { test: `datum.mean === null || datum.mean >= ${light}`, value: 'black' }, value: 'white' },
        },
      },
    ],
  };
  const head = {
    $schema: SCHEMA,
    title: {
      text: `${experiment}: ${title}`,
      subtitle: 'mean across repeats; grey "never": the event did not happen in any repeat',
      anchor: 'start',
    },
    background: 'white',
    config: { font: 'DejaVu Sans' },
    data: { values },
  };
  if (axes.length === 2) return { ...head, ...heat } as TopLevelSpec;
  return { ...head, facet: { row: { field: 'facet', type: 'nominal', title: null } }, spec: heat } as TopLevelSpec;
}

/** The figures a sweep writes: time-to-redirect first (the study's question), then the others. */
export const SWEEP_FIGURES: ReadonlyArray<{ name: string; field: string; title: string; unit: string }> = [
  { name: 'time-to-redirect', field: 'events.redirectOnsetS', title: 'time to redirect (since load start)', unit: 's' },
  { name: 'first-ejection', field: 'events.firstEjectionS', title: 'first ejection of A', unit: 's' },
  { name: 'redirected-fraction', field: 'redirectedFraction', title: 'redirected fraction', unit: '' },
  { name: 'success-ratio', field: 'successRatio', title: 'success ratio', unit: '' },
];

export function sweepFigures(experiment: string, axes: readonly SweepAxis[], results: readonly SweepPointResult[]): SweepFigure[] {
  return SWEEP_FIGURES.map((f) => ({ name: f.name, spec: sweepFigure(experiment, axes, results, f.field, f.title, f.unit) }));
}
