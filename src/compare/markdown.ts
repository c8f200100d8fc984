/** The comparison as a markdown table, benchstat style: medians, ± spread, Δ or "~", p-value. */
import { markdownTable } from 'markdown-table';
import type { ComparisonResult, FigureComparison, SideStats } from './compare.ts';
import { formatActual } from './expect.ts';

const fmt = (v: number, unit: string) => {
  const a = Math.abs(v);
  const s = unit === '' ? v.toFixed(3) : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit === '' ? s : unit === 's' || unit === 'ms' ? `${s}${unit}` : `${s} ${unit}`;
};

function side(s: SideStats, unit: string): string {
  if (s.median === null) return '—';
  const missing = s.happened < s.n ? ` (${s.happened}/${s.n})` : '';
  if (s.median === Infinity) return `never${missing}`;
  const spread = s.spreadPct === null ? '' : ` ± ${s.spreadPct.toFixed(0)} %`;
  return `${fmt(s.median, unit)}${spread}${missing}`;
}

function delta(f: FigureComparison): string {
  if (!f.significant) return '~';
  if (f.deltaPct !== null) return `${f.deltaPct > 0 ? '+' : ''}${f.deltaPct.toFixed(1)} %`;
  if (f.delta !== null) return `${f.delta > 0 ? '+' : ''}${fmt(f.delta, f.unit)}`;
  if (f.changed) return f.cand.median === Infinity ? 'now never' : 'now happens';
  return '~';
}

// A significant difference that is not a change says why not (intervals overlap, too small).
const verdict = (f: FigureComparison) =>
  f.changed
    ? f.improved
      ? 'improved'
      : f.gate
        ? '**changed**'
        : 'changed (informational)'
    : f.significant
      ? f.note.replace(/^significant but /, 'not a change: ')
      : '';

export function comparisonMarkdown(r: ComparisonResult, names: { base: string; cand: string }): string {
  const n = (f: FigureComparison, k: 'base' | 'cand') => f[k].n;
  const first = r.figures[0];
  const table = markdownTable(
    [
      ['figure', `baseline (n=${first ? n(first, 'base') : 0})`, `candidate (n=${first ? n(first, 'cand') : 0})`, 'Δ', 'p', ''],
      ...r.figures.map((f) => [f.label, side(f.base, f.unit), side(f.cand, f.unit), delta(f), f.p.toFixed(3), verdict(f)]),
    ],
    { align: ['l', 'r', 'r', 'r', 'r', 'l'] },
  );
  const lines = [
    `## ${r.experiment.cand}: ${names.cand} vs ${names.base}`,
    '',
    table,
    '',
    `Medians across runs; ± is the 95 % CI half-width of the mean; (k/n): runs in which the event happened. ` +
      `Δ is shown when a two-sided Mann-Whitney U test gives p < ${r.alpha}, "~" otherwise; a figure has **changed** when, in addition, the two sides' 95 % intervals are disjoint and the change is at least ${r.minDeltaPct} % and above the figure's resolution.`,
  ];
  const moved = r.figures.filter((f) => f.changed);
  if (moved.length) {
    lines.push(
      '',
      '### What moved',
      '',
      ...moved.map((f) => `- ${f.label} (\`${f.field}\`): ${f.note}${f.gate ? '' : ' — informational, does not fail'}`),
    );
  }
  if (r.expectations.length) {
    lines.push(
      '',
      '### Thresholds (expect)',
      '',
      markdownTable([
        ['field', 'condition', 'typical value', 'runs meeting it', ''],
        ...r.expectations.map((e) => [
          e.field,
          e.condition,
          formatActual(e.field, e.actual),
          `${e.runsOk}/${e.runs}`,
          e.ok ? 'ok' : '**failed**',
        ]),
      ]),
    );
  }
  if (r.warnings.length) lines.push('', ...r.warnings.map((w) => `> warning: ${w}`));
  lines.push('', r.regression ? '**Result: regression** (exit 1)' : '**Result: no regression** (exit 0)');
  return `${lines.join('\n')}\n`;
}
