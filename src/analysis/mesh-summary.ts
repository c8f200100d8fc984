/**
 * The general topology's part of summary.json: who served by instance, service, version and
 * locality; runs of consecutive responses from one locality and the failovers between them (from ->
 * to); the response codes; and the client Envoy's own overflow counter beside the 503s the load saw.
 * Only runs of the general topology (manifest.topology.instances) get it, so the study's summaries
 * stay as they were.
 */
import type { RunManifest, ScrapeRecord } from '../contracts/raw.ts';
import { clusterSeriesKey, clusterValue } from './cluster-name.ts';
import { OUTCOME, type RequestColumns } from './request-columns.ts';
import { r3 } from './timeseries.ts';

/** Istio's failover task counts a locality as serving once it answered this many requests in a row. */
export const LOCALITY_RUN = 10;

export type { LocalityRun, MeshSummary } from '../contracts/summary.ts';
import type { LocalityRun, MeshSummary } from '../contracts/summary.ts';

const bump = (o: Record<string, number>, k: string | undefined) => {
  if (k !== undefined && k !== '') o[k] = (o[k] ?? 0) + 1;
};

export function meshSummary(m: RunManifest, req: RequestColumns, scrapes: Record<string, ScrapeRecord[]>): MeshSummary | undefined {
  const instances = m.topology?.instances;
  if (!instances) return undefined;
  const names = req.instanceNames ?? [''];
  const inst = req.instance ?? new Uint16Array(req.n);
  const out: MeshSummary = {
    byInstance: {},
    byService: {},
    byVersion: {},
    versionShare: {},
    byLocality: {},
    status: {},
    localityRuns: [],
    localityRank: {},
    failovers: [],
    clientPendingOverflow: null,
    overflowMismatch: null,
  };
  const order = Array.from({ length: req.n }, (_, i) => i).sort((a, b) => req.sent[a] - req.sent[b] || a - b);
  let ok = 0;
  let run: LocalityRun | undefined;
  let overflow503 = 0;
  const closeRun = () => {
    if (run && run.responses >= LOCALITY_RUN) {
      const prev = out.localityRuns[out.localityRuns.length - 1];
      if (prev && prev.locality !== run.locality) out.failovers.push({ t: run.startS, from: prev.locality, to: run.locality });
      if (prev && prev.locality === run.locality) ((prev.endS = run.endS), (prev.responses += run.responses));
      else out.localityRuns.push(run);
      if (out.localityRank[run.locality] === undefined) out.localityRank[run.locality] = Object.keys(out.localityRank).length + 1;
    }
    run = undefined;
  };
  for (const i of order) {
    bump(out.status, String(req.status[i]));
    if (req.outcome[i] === OUTCOME.overflow503) overflow503++;
    const info = instances[names[inst[i]]];
    const served = req.outcome[i] === OUTCOME.ok && info;
    if (!served) {
      // A failed request breaks a run of consecutive responses, as it would fail the task's check.
      closeRun();
      continue;
    }
    ok++;
    bump(out.byInstance, names[inst[i]]);
    bump(out.byService, info.service);
    bump(out.byVersion, info.version);
    bump(out.byLocality, info.locality);
    const t = r3(req.sent[i]);
    if (run && run.locality === info.locality) {
      run.endS = t;
      run.responses++;
    } else {
      closeRun();
      run = { locality: info.locality, startS: t, endS: t, responses: 1 };
    }
  }
  closeRun();
  for (const [v, n] of Object.entries(out.byVersion)) out.versionShare[v] = r3(n / ok);
  out.clientPendingOverflow = clientOverflow(m, scrapes);
  out.overflowMismatch = out.clientPendingOverflow === null ? null : out.clientPendingOverflow - overflow503;
  const mirrored = mirroredByInstance(m, scrapes);
  if (mirrored) out.mirrored = mirrored;
  return out;
}

/** Each instance's shadow requests at its last scrape; undefined when no instance saw one (no mirror). */
function mirroredByInstance(m: RunManifest, scrapes: Record<string, ScrapeRecord[]>): MeshSummary['mirrored'] {
  const byInstance: Record<string, number> = {};
  let total = 0;
  for (const [name, info] of Object.entries(m.topology?.instances ?? {})) {
    const last = [...(scrapes[info.proc] ?? [])].reverse().find((s) => s.ok && s.samples);
    const n = last?.samples?.find(([metric]) => metric === 'spillover_service_shadow_requests_total')?.[2];
    if (n === undefined) continue;
    byInstance[name] = n;
    total += n;
  }
  return Object.keys(byInstance).length ? { total, byInstance } : undefined;
}

function clientOverflow(m: RunManifest, scrapes: Record<string, ScrapeRecord[]>): number | null {
  const roles = m.topology?.envoys ?? {};
  // An outside client has no sidecar: the ingress gateway is the Envoy its requests enter first.
  const client =
    Object.keys(roles).find((n) => roles[n].role === 'client') ?? Object.keys(roles).find((n) => roles[n].role === 'ingress-gateway');
  const last = client ? [...(scrapes[client] ?? [])].reverse().find((s) => s.ok && s.samples) : undefined;
  if (!last?.samples) return null;
  const clusters = Object.keys(m.topology?.clientClusters ?? { [m.topology?.clientCluster ?? '']: {} });
  let total = 0;
  for (const c of clusters) total += clusterValue(last.samples as never, clusterSeriesKey(c, 'upstream_rq_pending_overflow')) ?? 0;
  return total;
}

export interface ServedByRow {
  t: number;
  instance: string;
  service: string;
  version: string;
  cluster: string;
  locality: string;
  served: number;
}

/** Successful responses per instance per time bucket (by send time), for served-by.csv. */
export function servedByOverTime(m: RunManifest, req: RequestColumns, bucketS: number): ServedByRow[] | undefined {
  const instances = m.topology?.instances;
  if (!instances) return undefined;
  const names = req.instanceNames ?? [''];
  const inst = req.instance ?? new Uint16Array(req.n);
  const counts = new Map<string, number>();
  for (let i = 0; i < req.n; i++) {
    if (req.outcome[i] !== OUTCOME.ok || !instances[names[inst[i]]]) continue;
    const key = `${Math.floor(req.sent[i] / bucketS)}|${names[inst[i]]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([k, served]) => {
      const [b, name] = k.split('|');
      const info = instances[name];
      return {
        t: r3(Number(b) * bucketS),
        instance: name,
        service: info.service,
        version: info.version ?? '',
        cluster: info.cluster,
        locality: info.locality,
        served,
      };
    })
    .sort((a, b) => a.t - b.t || a.instance.localeCompare(b.instance));
}

export function servedByCsv(rows: ServedByRow[]): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return (
    [
      't,instance,service,version,cluster,locality,served',
      ...rows.map((r) => [r.t, q(r.instance), q(r.service), q(r.version), q(r.cluster), q(r.locality), r.served].join(',')),
    ].join('\n') + '\n'
  );
}
