/**
 * summary.json: one flat, stable-keyed record per run (its type and reader: contracts/summary.ts). The
 * regression comparison reads these files, so keys only get added, never renamed, and their order is
 * fixed by construction below.
 */
import type { RunManifest } from '../contracts/raw.ts';
import type { Contention, LoadModel, RunEndingInfo, Summary } from '../contracts/summary.ts';
import type { DetectedEvent } from './detected-event.ts';
import { k6Percentile } from '../util/percentile.ts';
import { DEST, OUTCOME, type RequestColumns } from './request-columns.ts';
import { r3 } from './timeseries.ts';
import type { BreakerTrip } from './breakers.ts';
import type { MeshSummary } from './mesh-summary.ts';

export interface SummaryExtras {
  ending: RunEndingInfo;
  contention: Contention;
  loadModel: LoadModel;
  redirectedShare: number | null;
  breakers: BreakerTrip[];
  /** General topology only (mesh-summary.ts). */
  mesh?: MeshSummary;
  /** `clients:` form only (client-outcomes.ts). */
  clients?: Summary['clients'];
}

export function buildSummary(
  m: RunManifest,
  req: RequestColumns,
  dropped: number,
  events: DetectedEvent[],
  envoyTelemetry: boolean,
  x: SummaryExtras,
): Summary {
  const outcomes = [0, 0, 0, 0, 0];
  const served = [0, 0, 0, 0];
  for (let i = 0; i < req.n; i++) {
    outcomes[req.outcome[i]]++;
    served[req.dest[i]]++;
  }
  const lat = Float64Array.from(req.latencyMs).sort();
  const p = (q: number) => (lat.length ? r3(k6Percentile(lat, q)) : null);
  const ab = served[DEST.A] + served[DEST.B];
  const roles = m.topology?.envoys ?? {};
  const first = (kind: DetectedEvent['kind'], pred: (e: DetectedEvent) => boolean = () => true) =>
    events.find((e) => e.kind === kind && pred(e));
  const ejectsAtClient = events.filter((e) => e.kind === 'eject' && roles[e.envoy]?.role === 'client');
  const ejects = ejectsAtClient.length ? ejectsAtClient : events.filter((e) => e.kind === 'eject');
  const firstEject = ejects[0];
  const onset = first('redirect-onset');
  const end = onset ? events.find((e) => e.kind === 'redirect-end' && e.t >= onset.t) : undefined;
  const t = (e: DetectedEvent | undefined) => (e ? e.t : null);
  const blockedAll = events.filter((e) => e.kind === 'ejection-blocked');
  const blocked = blockedAll.find((e) => roles[e.envoy]?.role === 'client') ?? blockedAll[0];
  return {
    experiment: m.experiment,
    runId: m.runId,
    backend: m.backend,
    engine: m.engine,
    outcome: m.outcome ?? null,
    requests: { total: req.n, ok: outcomes[OUTCOME.ok], failed: req.n - outcomes[OUTCOME.ok], dropped },
    successRatio: req.n ? r3(outcomes[OUTCOME.ok] / req.n) : null,
    servedBy: { A: served[DEST.A], B: served[DEST.B], other: served[DEST.other] },
    redirectedFraction: ab ? r3(served[DEST.B] / ab) : null,
    events: {
      firstOverflowS: t(first('overflow')),
      firstEjectionS: t(firstEject),
      redirectOnsetS: t(onset),
      redirectEndS: t(end),
      noHealthyUpstreamS: t(first('no-healthy-upstream')),
      recoveryS: t(first('recovery')),
    },
    loadAtFirstEjectionRps: firstEject ? firstEject.offeredRps : null,
    achievedAtFirstEjectionRps: firstEject ? firstEject.achievedRps : null,
    firstEjection: firstEject
      ? { envoy: firstEject.envoy, host: firstEject.host, service: firstEject.service, cause: firstEject.cause }
      : null,
    ejections: ejects.length,
    outcomes: { ok: outcomes[0], overflow503: outcomes[1], upstream5xx: outcomes[2], client4xx: outcomes[3], transport: outcomes[4] },
    latencyMs: { p50: p(0.5), p95: p(0.95), p99: p(0.99), max: lat.length ? r3(lat[lat.length - 1]) : null },
    envoyTelemetry,
    warnings: [...(m.warnings ?? [])],
    ending: x.ending,
    contention: x.contention,
    loadModel: x.loadModel,
    redirectedShare: x.redirectedShare,
    blockedEjections: blocked ? { firstS: blocked.t, count: blockedCount(blocked), envoy: blocked.envoy, cause: blocked.cause } : null,
    breakers: x.breakers.map((b) => ({
      envoy: b.envoy,
      side: b.side,
      counter: b.counter,
      limit: b.limit,
      firstS: r3(b.firstS),
      count: b.total,
    })),
    ...(x.mesh ? { mesh: x.mesh } : {}),
    ...(x.clients ? { clients: x.clients } : {}),
  };
}

/** The count at the end, from the event's detail ("... to 425 by the end"). */
const blockedCount = (e: DetectedEvent) => Number(/to (\d+) by the end/.exec(e.detail)?.[1] ?? 0);
