/**
 * summary.json: one flat, stable-keyed record per run. The regression comparison reads these files,
 * so keys only get added, never renamed, and their order is fixed by construction below.
 */
import type { RunManifest } from '../contracts/raw.ts';
import type { DetectedEvent } from './detected-event.ts';
import { k6Percentile } from '../util/percentile.ts';
import { DEST, OUTCOME, type RequestColumns } from './request-columns.ts';
import { r3 } from './timeseries.ts';
import type { Contention, RunEndingInfo } from './run-ending.ts';
import type { BreakerTrip } from './breakers.ts';
import type { MeshSummary } from './mesh-summary.ts';

export interface SummaryExtras {
  ending: RunEndingInfo;
  contention: Contention;
  loadModel: Summary['loadModel'];
  redirectedShare: number | null;
  breakers: BreakerTrip[];
  /** General topology only (mesh-summary.ts). */
  mesh?: MeshSummary;
}

export interface Summary {
  experiment: string;
  runId: string;
  backend: string;
  engine: string;
  outcome: string | null;
  requests: { total: number; ok: number; failed: number; dropped: number };
  successRatio: number | null;
  servedBy: { A: number; B: number; other: number };
  /** B's share of the requests served by A or B. */
  redirectedFraction: number | null;
  events: {
    firstOverflowS: number | null;
    firstEjectionS: number | null;
    redirectOnsetS: number | null;
    redirectEndS: number | null;
    noHealthyUpstreamS: number | null;
    recoveryS: number | null;
  };
  /** Offered (scheduled) load at the first ejection. */
  loadAtFirstEjectionRps: number | null;
  achievedAtFirstEjectionRps: number | null;
  firstEjection: { envoy: string; host: string; service: string; cause: string } | null;
  ejections: number;
  outcomes: { ok: number; overflow503: number; upstream5xx: number; client4xx: number; transport: number };
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  /** False for runs without Envoy telemetry (e.g. imported k6 runs): the Envoy-side panels are empty. */
  envoyTelemetry: boolean;
  warnings: string[];
  /** How the run ended and whether the machine was crowded: both lead the report (run-ending.ts). */
  ending: RunEndingInfo;
  contention: Contention;
  /** open = arrival-rate executors (offered load is a schedule); closed = VU executors (no offered rate). */
  loadModel: 'open' | 'closed' | 'mixed' | 'unknown';
  /** B's share of the A/B-served requests sent inside redirect episodes (caused shifts only). */
  redirectedShare: number | null;
  /** Ejections refused by maxEjectionPercent (outlier_detection.ejections_overflow), client side first. */
  blockedEjections: { firstS: number; count: number; envoy: string; cause: string } | null;
  /** Every overflow counter that rose, named by the limit it belongs to. */
  breakers: Array<{ envoy: string; side: string; counter: string; limit: string; firstS: number; count: number }>;
  /** General topology only: per instance, version and locality, failovers, overflow check (mesh-summary.ts). */
  mesh?: MeshSummary;
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
  };
}

/** The count at the end, from the event's detail ("... to 425 by the end"). */
const blockedCount = (e: DetectedEvent) => Number(/to (\d+) by the end/.exec(e.detail)?.[1] ?? 0);
