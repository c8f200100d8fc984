/**
 * k6's end-of-test summary from the metric store: the data handed to `handleSummary(data)` (k6's
 * legacy data model, facts §3.3), the `--summary-export` JSON (flat values; `thresholds` true = FAILED)
 * and the text summary in k6's layout (checks tree, then metrics with dotted leaders, ✓/✗ for thresholds).
 */
import crypto from 'node:crypto';
import type { MetricStore, Values } from './metric-store.ts';
import type { Threshold } from './thresholds.ts';
import { formatK6DurationMs } from '../../util/duration.ts';

const md5 = (s: string) => crypto.createHash('md5').update(s).digest('hex');

interface Group {
  name: string;
  path: string;
  id: string;
  groups: Group[];
  checks: Array<{ name: string; path: string; id: string; passes: number; fails: number }>;
}

export interface SummaryData {
  root_group: Group;
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: { isStdOutTTY: boolean; isStdErrTTY: boolean; testRunDurationMs: number };
  metrics: Record<string, { type: string; contains: string; values: Values; thresholds?: Record<string, { ok: boolean }> }>;
  setup_data?: unknown;
}

export function summaryData(
  store: MetricStore,
  ths: Threshold[],
  durationMs: number,
  trendStats: string[],
  groupPaths: string[],
  setupData: unknown,
): SummaryData {
  const sec = durationMs / 1000;
  const metrics: SummaryData['metrics'] = {};
  const add = (key: string, name: string, filter?: Record<string, string>) => {
    const def = store.defs.get(name)!;
    const v = store.values(name, sec, filter, trendStats);
    if (!v) return;
    if (def.type === 'trend') for (const k of Object.keys(v)) if (!trendStats.includes(k)) delete v[k];
    metrics[key] = { type: def.type, contains: def.contains, values: v };
  };
  for (const name of store.names()) add(name, name);
  if (store.has('http_req_duration')) add('http_req_duration{expected_response:true}', 'http_req_duration', { expected_response: 'true' });
  for (const t of ths) {
    if (!metrics[t.key]) add(t.key, t.metric, t.filter);
    const m = metrics[t.key];
    if (m) (m.thresholds ??= {})[t.source] = { ok: t.ok !== false };
    else {
      const def = store.defs.get(t.metric)!;
      metrics[t.key] = { type: def.type, contains: def.contains, values: {}, thresholds: { [t.source]: { ok: true } } };
    }
  }
  // The group/check tree from the samples' group and check tags.
  const root: Group = { name: '', path: '', id: md5(''), groups: [], checks: [] };
  const byPath = new Map<string, Group>([['', root]]);
  const groupOf = (p: string): Group => {
    let g = byPath.get(p);
    if (g) return g;
    const i = p.lastIndexOf('::');
    const parent = groupOf(p.slice(0, i));
    g = { name: p.slice(i + 2), path: p, id: md5(p), groups: [], checks: [] };
    parent.groups.push(g);
    byPath.set(p, g);
    return g;
  };
  for (const p of groupPaths) groupOf(p);
  for (const s of store.seriesOf('checks')) {
    const g = groupOf(s.tags.group ?? '');
    const name = s.tags.check ?? '';
    let c = g.checks.find((x) => x.name === name);
    if (!c) {
      c = { name, path: `${g.path}::${name}`, id: md5(`${g.path}::${name}`), passes: 0, fails: 0 };
      g.checks.push(c);
    }
    c.passes += s.nonZero;
    c.fails += s.count - s.nonZero;
  }
  return {
    root_group: root,
    options: { summaryTrendStats: trendStats, summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: Boolean(process.stdout.isTTY), isStdErrTTY: Boolean(process.stderr.isTTY), testRunDurationMs: durationMs },
    metrics,
    ...(setupData !== undefined ? { setup_data: setupData } : {}),
  };
}

/** `--summary-export`: k6's legacy flat shape. */
export function summaryExport(d: SummaryData): unknown {
  const flatGroup = (g: Group): unknown => ({
    name: g.name,
    path: g.path,
    id: g.id,
    groups: Object.fromEntries(g.groups.map((x) => [x.name, flatGroup(x)])),
    checks: Object.fromEntries(g.checks.map((c) => [c.name, c])),
  });
  const metrics: Record<string, unknown> = {};
  for (const [k, m] of Object.entries(d.metrics)) {
    const v: Record<string, unknown> = { ...m.values };
    if (m.type === 'rate') {
      v.value = v.rate;
      delete v.rate;
    }
    if (m.thresholds) v.thresholds = Object.fromEntries(Object.entries(m.thresholds).map(([e, r]) => [e, !r.ok]));
    metrics[k] = v;
  }
  return { root_group: flatGroup(d.root_group), metrics, ...(d.setup_data !== undefined ? { setup_data: d.setup_data } : {}) };
}

const fmtBytes = (b: number) => {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) {
    b /= 1000;
    i++;
  }
  return `${i === 0 ? b : b.toFixed(1)} ${units[i]}`;
};
const num = (x: number) => (Number.isInteger(x) ? String(x) : +x.toFixed(6) + '');

function metricText(m: SummaryData['metrics'][string], sec: number, stats: string[]): string {
  const v = m.values;
  const val = (x: number) => (m.contains === 'time' ? formatK6DurationMs(x) : m.contains === 'data' ? fmtBytes(x) : num(+x.toFixed(6)));
  switch (m.type) {
    case 'trend':
      return stats
        .filter((s) => v[s] !== undefined)
        .map((s) => `${s}=${val(v[s])}`)
        .join(' ');
    case 'counter':
      return `${val(v.count)} ${m.contains === 'data' ? `${fmtBytes(v.rate)}/s` : `${+v.rate.toFixed(6)}/s`}`.replace(
        /(\.\d{1,6})\d*\/s/,
        '$1/s',
      );
    case 'rate':
      return `${(v.rate * 100).toFixed(2)}% ✓ ${v.passes} ✗ ${v.fails}`;
    default:
      return `${val(v.value)} min=${val(v.min)} max=${val(v.max)}`;
  }
}

export function summaryText(d: SummaryData): string {
  const out: string[] = [''];
  const sec = d.state.testRunDurationMs / 1000;
  const tree = (g: Group, indent: string) => {
    for (const c of g.checks) {
      const ok = c.fails === 0;
      out.push(`${indent}${ok ? '✓' : '✗'} ${c.name}`);
      if (!ok) out.push(`${indent} ↳  ${Math.floor((c.passes / (c.passes + c.fails)) * 100)}% — ✓ ${c.passes} / ✗ ${c.fails}`);
    }
    for (const sub of g.groups) {
      out.push('', `${indent}█ ${sub.name}`, '');
      tree(sub, `${indent}  `);
    }
  };
  tree(d.root_group, '     ');
  if (d.root_group.checks.length || d.root_group.groups.length) out.push('');
  const names = Object.keys(d.metrics).sort((a, b) => {
    const [ba, bb] = [a.split('{')[0], b.split('{')[0]];
    return ba === bb ? a.length - b.length : ba < bb ? -1 : 1;
  });
  const width = Math.max(30, ...names.map((n) => (n.includes('{') ? `  { ${n.slice(n.indexOf('{') + 1, -1)} }`.length : n.length) + 2));
  for (const n of names) {
    const m = d.metrics[n];
    if (m.values === undefined || Object.keys(m.values).length === 0) continue;
    const label = n.includes('{') ? `  { ${n.slice(n.indexOf('{') + 1, -1)} }` : n;
    const mark = m.thresholds ? (Object.values(m.thresholds).every((t) => t.ok) ? '✓ ' : '✗ ') : '  ';
    out.push(`   ${mark}${label}${'.'.repeat(Math.max(3, width - label.length))}: ${metricText(m, sec, d.options.summaryTrendStats)}`);
  }
  out.push('');
  return out.join('\n') + '\n';
}
