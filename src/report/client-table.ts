/**
 * The per-client table of report.md and report.html (`clients:` form): one row per client with what
 * it saw -- requests, success ratio, outcomes, latency and who served it -- beside the aggregate.
 */
import type { ClientOutcome, Summary } from '../contracts/summary.ts';

export const CLIENT_COLUMNS = [
  'client',
  'sidecar (cluster, locality)',
  'requests',
  'success ratio',
  'statuses',
  'latency p50 / p95 / p99 ms',
  'served by instance',
  'served by locality',
] as const;

const fmt = (v: number | null) => (v === null ? '—' : String(v));
const counts = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, n]) => `${k || '(none)'}: ${n}`)
    .join(', ') || '—';

export function clientRow(name: string, c: ClientOutcome): string[] {
  return [
    name,
    `${c.envoy} (${c.cluster}, ${c.locality})`,
    String(c.requests.total),
    fmt(c.successRatio),
    counts(c.status),
    `${fmt(c.latencyMs.p50)} / ${fmt(c.latencyMs.p95)} / ${fmt(c.latencyMs.p99)}`,
    counts(c.byInstance),
    counts(c.byLocality),
  ];
}

/** Markdown lines of the "Clients" section; none for a one-client run. */
export function clientTableMarkdown(s: Summary): string[] {
  if (!s.clients) return [];
  const esc = (x: string) => x.replace(/\|/g, '\\|');
  return [
    '',
    '## Clients',
    '',
    'Each client on its own (summary.json `clients.<name>`); the summary above is over all requests.',
    '',
    `| ${CLIENT_COLUMNS.join(' | ')} |`,
    `|${CLIENT_COLUMNS.map(() => '---').join('|')}|`,
    ...Object.entries(s.clients).map(([n, c]) => `| ${clientRow(n, c).map(esc).join(' | ')} |`),
  ];
}

/** The same table as HTML (report.html), `esc` escaping each cell; empty for a one-client run. */
export function clientTableHtml(s: Summary, esc: (x: string) => string): string {
  if (!s.clients) return '';
  const head = `<tr>${CLIENT_COLUMNS.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = Object.entries(s.clients)
    .map(
      ([n, c]) =>
        `<tr>${clientRow(n, c)
          .map((v) => `<td>${esc(v)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `\n<h2>Clients</h2>\n<p>Each client on its own (summary.json <code>clients.&lt;name&gt;</code>); the summary above is over all requests.</p>\n<table>${head}\n${body}</table>`;
}
