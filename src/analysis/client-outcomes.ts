/**
 * Per-client outcomes (`clients:` form): what each caller saw, from its own requests only -- success
 * ratio, outcomes and statuses, latency percentiles (from intended send, as the aggregate), and who
 * served it by service, instance and locality. The aggregate figures stay over all requests.
 */
import type { RunManifest } from '../contracts/raw.ts';
import type { ClientOutcome } from '../contracts/summary.ts';
import { k6Percentile } from '../util/percentile.ts';
import { DEST, OUTCOME, type RequestColumns } from './request-columns.ts';
import { r3 } from './timeseries.ts';

const bump = (o: Record<string, number>, k: string | undefined) => {
  if (k) o[k] = (o[k] ?? 0) + 1;
};

/** One client's figures from its requests. */
export function clientOutcome(m: RunManifest, name: string, req: RequestColumns): ClientOutcome {
  const c = m.topology?.clients?.[name];
  const instances = m.topology?.instances;
  const outcomes = [0, 0, 0, 0, 0];
  const served = [0, 0, 0, 0];
  const status: Record<string, number> = {};
  const byInstance: Record<string, number> = {};
  const byLocality: Record<string, number> = {};
  const names = req.instanceNames ?? [''];
  for (let i = 0; i < req.n; i++) {
    outcomes[req.outcome[i]]++;
    served[req.dest[i]]++;
    bump(status, String(req.status[i]));
    if (req.outcome[i] !== OUTCOME.ok) continue;
    const inst = req.instance ? names[req.instance[i]] : '';
    bump(byInstance, inst);
    bump(byLocality, inst ? instances?.[inst]?.locality : undefined);
  }
  const lat = Float64Array.from(req.latencyMs).sort();
  const p = (q: number) => (lat.length ? r3(k6Percentile(lat, q)) : null);
  const ok = outcomes[OUTCOME.ok];
  return {
    envoy: c?.envoy ?? name,
    cluster: c?.cluster ?? '',
    locality: c?.locality ?? '',
    requests: { total: req.n, ok, failed: req.n - ok },
    successRatio: req.n ? r3(ok / req.n) : null,
    outcomes: { ok, overflow503: outcomes[1], upstream5xx: outcomes[2], client4xx: outcomes[3], transport: outcomes[4] },
    status,
    latencyMs: { p50: p(0.5), p95: p(0.95), p99: p(0.99), max: lat.length ? r3(lat[lat.length - 1]) : null },
    servedBy: { A: served[DEST.A], B: served[DEST.B], other: served[DEST.other] },
    byInstance: sorted(byInstance),
    byLocality: sorted(byLocality),
  };
}

/** Every client's outcome, in the manifest's order; undefined for a one-client run. */
export function clientOutcomes(
  m: RunManifest,
  perClient: Record<string, RequestColumns> | undefined,
): Record<string, ClientOutcome> | undefined {
  const listed = m.topology?.clients;
  if (!listed || !perClient) return undefined;
  const empty: RequestColumns = {
    n: 0,
    sent: new Float64Array(),
    latencyMs: new Float64Array(),
    status: new Uint16Array(),
    dest: new Uint8Array(),
    outcome: new Uint8Array(),
  };
  return Object.fromEntries(Object.keys(listed).map((n) => [n, clientOutcome(m, n, perClient[n] ?? empty)]));
}

const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
