/**
 * End-of-run latency summary read back from raw/requests.ndjson (the file is the source of truth, so
 * the summary also works for imported k6 runs), with k6's percentile rule so it matches k6's numbers.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { k6Percentile } from '../util/percentile.ts';

export interface LatencySummary {
  requests: number;
  failed: number;
  /** Failed requests by reason: connection refused, timeout, connection reset, TLS, HTTP 5xx (per status), ... */
  failedBy: Record<string, number>;
  /** ms, from the actual send (k6's http_req_duration). */
  fromSent: Record<'avg' | 'min' | 'med' | 'p90' | 'p95' | 'p99' | 'max', number>;
  /** ms, from the intended start (free of coordinated omission). */
  fromIntended: Record<'avg' | 'min' | 'med' | 'p90' | 'p95' | 'p99' | 'max', number>;
}

function stats(values: number[]) {
  const s = Float64Array.from(values).sort();
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    avg: s.length ? sum / s.length : 0,
    min: s[0] ?? 0,
    med: k6Percentile(s, 0.5),
    p90: k6Percentile(s, 0.9),
    p95: k6Percentile(s, 0.95),
    p99: k6Percentile(s, 0.99),
    max: s[s.length - 1] ?? 0,
  };
}

export async function summarizeRequests(file: string): Promise<LatencySummary> {
  const sent: number[] = [];
  const intended: number[] = [];
  let failed = 0;
  const failedBy: Record<string, number> = {};
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    const r = JSON.parse(line) as { intended: number; sent: number; end: number; status: number; error?: string };
    sent.push((r.end - r.sent) * 1000);
    intended.push((r.end - r.intended) * 1000);
    if (!(r.status >= 200 && r.status < 400)) {
      failed++;
      const why = failureReason(r);
      failedBy[why] = (failedBy[why] ?? 0) + 1;
    }
  }
  return { requests: sent.length, failed, failedBy, fromSent: stats(sent), fromIntended: stats(intended) };
}

const REASON: Record<string, string> = {
  refused: 'connection refused',
  timeout: 'timeout',
  reset: 'connection reset',
  tls: 'TLS error',
  aborted: 'aborted at the end of the run',
  other: 'other transport error',
};

/** Why one request failed, in words a user can act on. */
export function failureReason(r: { status: number; error?: string }): string {
  if (r.status === 0) return REASON[r.error ?? 'other'] ?? `transport error (${r.error})`;
  if (r.status >= 500) return `HTTP ${r.status} (5xx)`;
  if (r.status >= 400) return `HTTP ${r.status} (4xx)`;
  return `HTTP ${r.status}`;
}

export function formatSummary(s: LatencySummary): string {
  const f = (o: LatencySummary['fromSent']) =>
    `avg=${o.avg.toFixed(2)}ms min=${o.min.toFixed(2)}ms med=${o.med.toFixed(2)}ms p(90)=${o.p90.toFixed(2)}ms p(95)=${o.p95.toFixed(2)}ms p(99)=${o.p99.toFixed(2)}ms max=${o.max.toFixed(2)}ms`;
  return [
    `http_reqs: ${s.requests}  failed: ${s.failed} (${s.requests ? ((100 * s.failed) / s.requests).toFixed(2) : '0.00'}%)`,
    ...(s.failed
      ? [
          `failed by reason: ${Object.entries(s.failedBy)
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`,
        ]
      : []),
    `http_req_duration (from send):      ${f(s.fromSent)}`,
    `latency from intended start (CO-free): ${f(s.fromIntended)}`,
  ].join('\n');
}
