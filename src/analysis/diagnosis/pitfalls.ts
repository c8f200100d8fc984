/**
 * Configuration diagnosis: the known pitfalls present in an experiment's Istio resources, what each
 * will do on the Istio release the experiment names, and the source that says so. Pure: a resolved
 * experiment (and the scenario's peak rate) in, findings out. `spillover explain` prints them before
 * a run; every report lists them and says which ones happened (observed.ts).
 *
 * Sources are the fact sheets (../shared/facts/istio-translation.md, envoy-semantics.md), which cite
 * the Istio and Envoy commits and files.
 */
import { consecutiveErrorsMode, defaultOutboundRetry, parseIstioVersion, atLeast } from '../../mesh/istio-version.ts';
import { predictCapacity, erlangB, rateForLoss, type ServiceTimeInput } from './capacity.ts';

export type PitfallId =
  | 'consecutive-errors-ignored'
  | 'max-ejection-percent'
  | 'failover-needs-outlier-detection'
  | 'single-gateway-endpoint'
  | 'inbound-pool'
  | 'pending-and-max-requests-per-connection'
  | 'tls-under-spec'
  | 'retries-hide-5xx'
  | 'panic-threshold'
  | 'pool-below-load'
  | 'overflow-is-not-a-host-error'
  | 'shared-breaker'
  | 'se-namespace'
  | 'se-port-name';

export interface Finding {
  id: PitfallId;
  /** One line: the pitfall as it appears in this configuration. */
  title: string;
  /** What it will do in a run. */
  effect: string;
  source: string;
  /** Numbers the prediction rests on (Little's law, host counts), for the observed check. */
  numbers?: Record<string, number | null>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown) =>
  typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;

export interface DiagnosisInput {
  /** The resolved experiment (the manifest's `resolved`, or a loaded spec). */
  spec: unknown;
  /** The scenario's highest offered rate (req/s); null for a closed loop or when unknown. */
  peakRps: number | null;
  /** A closed loop's highest VU count: that many requests are in flight all the time. */
  closedLoopVus?: number;
}

export function diagnose(inp: DiagnosisInput): Finding[] {
  const spec = obj(inp.spec);
  const v = parseIstioVersion(String(obj(spec.istio).version ?? '1.29'));
  const resources = (Array.isArray(spec.resources) ? spec.resources : []).map(obj);
  const services = obj(spec.services);
  const a = obj(services.A);
  const host = String(a.host ?? '');
  const drs = resources.filter((r) => r.kind === 'DestinationRule' && (!host || obj(r.spec).host === host || !obj(r.spec).host));
  const ses = resources.filter(
    (r) => r.kind === 'ServiceEntry' && (!host || (Array.isArray(obj(r.spec).hosts) && (obj(r.spec).hosts as unknown[]).includes(host))),
  );
  const vss = resources.filter((r) => r.kind === 'VirtualService');
  const dr = drs[0];
  const drSpec = obj(dr?.spec);
  const tp = obj(drSpec.trafficPolicy);
  const od = tp.outlierDetection === undefined ? undefined : obj(tp.outlierDetection);
  const cp = tp.connectionPool === undefined ? undefined : obj(tp.connectionPool);
  const http = obj(cp?.http);
  const tcp = obj(cp?.tcp);
  const gwEndpoints = ses.flatMap((s) => (Array.isArray(obj(s.spec).endpoints) ? (obj(s.spec).endpoints as unknown[]) : []));
  const hosts = 1 + gwEndpoints.length; // A's one replica plus each ServiceEntry endpoint
  const out: Finding[] = [];
  const drName = `DestinationRule/${String(obj(dr?.metadata).name ?? '?')}`;

  if (od && od.consecutiveErrors !== undefined) {
    const mode = consecutiveErrorsMode(v);
    const effective =
      od.consecutive5xxErrors !== undefined
        ? `consecutive5xxErrors=${String(od.consecutive5xxErrors)} applies instead`
        : "Envoy's default applies: 5 consecutive 5xx before an ejection";
    out.push({
      id: 'consecutive-errors-ignored',
      title: `${drName} sets outlierDetection.consecutiveErrors=${String(od.consecutiveErrors)}`,
      effect:
        mode === 'ignored'
          ? `Istio ${v.text} ignores it (removed in 1.7): ${effective}.`
          : mode === 'gateway'
            ? `Istio ${v.text} maps it to consecutive_gateway_failure (502/503/504 and connect failures only) and turns consecutive_5xx enforcement off: a 500 never ejects.`
            : `Istio ${v.text} maps it to consecutive_5xx.`,
      source: 'istio a291ab60276 (#24087, first in 1.7.0) "Stop using OutlierDetection.ConsecutiveErrors"; istio-translation.md §2',
    });
  }

  if (od) {
    const mep = num(od.maxEjectionPercent);
    const max = mep && mep > 0 ? mep : 10;
    const need = 100 / hosts;
    if (need > max) {
      out.push({
        id: 'max-ejection-percent',
        title: `${drName}: maxEjectionPercent ${mep ? `=${mep}` : "unset (Envoy's default 10 %)"} with ${hosts} hosts in the client's cluster`,
        effect: `Ejecting one of ${hosts} hosts is ${Math.round(need)} % > ${max} %: Envoy refuses every ejection (outlier_detection.ejections_overflow rises, nothing is logged), A stays in and traffic is never redirected. Set maxEjectionPercent: 100.`,
        source:
          'envoy#27624/#27909 (merged 2023-05/06; Envoy 1.27 by merge date) removed "always eject one host"; opt-in always_eject_one_host is envoy#34796 (1.31), not set by Istio; envoy-semantics.md §2.4',
        numbers: { hosts, maxEjectionPercent: max },
      });
    }
  }
  const lls = obj(obj(tp.loadBalancer).localityLbSetting);
  if (od && gwEndpoints.length && lls.enabled === false) {
    out.push({
      id: 'failover-needs-outlier-detection',
      title: `${drName} sets loadBalancer.localityLbSetting.enabled: false`,
      effect:
        "Locality failover is off although outlierDetection is set: A and the gateway share priority 0, B gets its share of every request by plain balancing, and an ejection of A only moves A's share to B.",
      source: 'istio pilot/pkg/networking/core/loadbalancer GetEffectiveLbSetting; istio-translation.md §3',
    });
  }
  if (!od && gwEndpoints.length) {
    out.push({
      id: 'failover-needs-outlier-detection',
      title: `${dr ? drName : 'No DestinationRule'} has no outlierDetection`,
      effect:
        'Istio assigns locality failover priorities only when outlierDetection is set: A and the gateway share priority 0, so B gets its share of every request (least-request balancing, about half), and nothing ever ejects A; there is no failover, only balancing.',
      source:
        'istio pilot/pkg/xds/endpoints/endpoint_builder.go enableFailover (getOutlierDetectionAndLoadBalancerSettings); istio-translation.md §3',
    });
  }

  if (gwEndpoints.length === 1) {
    out.push({
      id: 'single-gateway-endpoint',
      title: 'The ServiceEntry gives the remote cluster a single endpoint (its east-west gateway)',
      effect:
        "Every B replica sits behind one host in the client's cluster: B is all or nothing. One ejection of the gateway endpoint (e.g. after B or the gateway returns a 5xx) removes the whole remote side, and maxEjectionPercent counts it as one host.",
      source:
        'istio-translation.md §6 (the gateway endpoint stands for all remote endpoints); envoy-semantics.md §2.4 (ejection counts hosts)',
    });
  }

  if (cp) {
    out.push({
      id: 'inbound-pool',
      title: `${drName}'s connectionPool also applies on A's own (inbound) sidecar`,
      effect:
        "istiod copies the DestinationRule's pool onto inbound|80||: A's sidecar refuses with 503 UO above the same limits, and the client sees those as 503s from upstream A, which outlier detection counts (unlike the client's own overflow).",
      source:
        'istio pilot/pkg/networking/core/cluster_builder.go buildInboundCluster; istio-translation.md §1 "Inbound clusters also get the limits"',
    });
    if (gwEndpoints.length) {
      out.push({
        id: 'shared-breaker',
        title: 'The circuit-breaker limits are per cluster, shared by A and the gateway',
        effect:
          "max_connections / max_requests / max_pending_requests count A and B together in one Envoy cluster (not per host, despite the API comment): B's traffic uses up A's limits and vice versa.",
        source: 'envoy-semantics.md §0.2; istio-translation.md §1 "The limits are cluster-wide, not per host"',
      });
    }
    const mrpc = num(http.maxRequestsPerConnection);
    const pending = num(http.http1MaxPendingRequests);
    const conns = num(tcp.maxConnections);
    if (mrpc === 1 && (pending !== undefined || conns !== undefined)) {
      out.push({
        id: 'pending-and-max-requests-per-connection',
        title: `maxRequestsPerConnection=1 with ${conns !== undefined ? `tcp.maxConnections=${conns}` : 'no connection limit'} and ${pending !== undefined ? `http1MaxPendingRequests=${pending}` : 'the default pending limit'}`,
        effect:
          'One request per connection turns keep-alive off: every request needs a new connection, draining connections still count against maxConnections, so once maxConnections are in use requests wait as pending, and beyond the pending limit they are refused (503 UO, upstream_rq_pending_overflow).',
        source: 'envoy-semantics.md §1.4 (max_requests_per_connection) and §1.2 (pending check)',
      });
    }
  }

  if (drSpec.tls !== undefined) {
    out.push({
      id: 'tls-under-spec',
      title: `${drName} has tls directly under spec`,
      effect:
        "spec.tls is not a DestinationRule field: the API server prunes it, the client falls back to auto-mTLS, and the ServiceEntry's gateway endpoint (no tlsMode label) is dialled in plain text; the AUTO_PASSTHROUGH gateway refuses it, the connect failures count as 5xx, and B (not A) is ejected.",
      source: 'istio-translation.md §5 "Where tls may appear" (istio/api destination_rule.proto; CRD is structural)',
    });
  }

  const vsRetries = vss.some((r) => JSON.stringify(obj(r.spec).http ?? []).includes('"retries"'));
  const defRetry = defaultOutboundRetry(v);
  if (od && (vsRetries || (defRetry && Array.isArray(defRetry.retriable_status_codes)))) {
    out.push({
      id: 'retries-hide-5xx',
      title: vsRetries ? 'A VirtualService sets retries' : `Istio ${v.text}'s default retry policy retries 503`,
      effect:
        "A retried request that succeeds hides A's 5xx from the client (the success ratio looks healthy while A fails); outlier detection still counts every failed attempt, because Envoy reports the response before it decides to retry. With A at priority 0 a retry goes back to A (previous_hosts re-picks within the priority) unless retryRemoteLocalities is set.",
      source:
        'envoy-semantics.md §2.2 and §4.4; istio route/retry/retry.go history (503 dropped from the default in 1.24); istio-translation.md §4',
    });
  }

  if (od) {
    const minHealth = num(od.minHealthPercent);
    out.push({
      id: 'panic-threshold',
      title: `outlierDetection sets healthy_panic_threshold to ${minHealth ?? 0} % (minHealthPercent${minHealth === undefined ? ' unset' : ''})`,
      effect:
        atLeast(v, 3) || minHealth !== undefined
          ? 'With every host ejected at once (A and the gateway), requests get 503 UH "no healthy upstream" instead of Envoy\'s panic routing to the ejected hosts.'
          : `Istio ${v.text} leaves Envoy's 50 % panic threshold: with every host ejected, Envoy sends traffic to the ejected hosts anyway.`,
      source: 'istio cluster_traffic_policy.go applyOutlierDetection (always set since 1.3); envoy-semantics.md §3.2',
    });
  }

  out.push(...capacityFindings(inp.peakRps, a, http, tcp, drName));
  if (inp.peakRps === null && inp.closedLoopVus) out.push(...closedLoopFindings(inp.closedLoopVus, http, tcp, drName));
  out.push(...serviceEntryFindings(ses, a, host));
  return out;
}

function capacityFindings(peakRps: number | null, a: Obj, http: Obj, tcp: Obj, drName: string): Finding[] {
  const cap = obj(a.capacity);
  const conc = num(cap.concurrency) ?? 1;
  const queue = num(cap.queue) ?? 0;
  const pred = peakRps === null ? null : predictCapacity(peakRps, conc, queue, obj(cap.serviceTime) as unknown as ServiceTimeInput);
  if (!pred) return [];
  const limits: Array<[string, number]> = [];
  for (const [k, val] of [
    ['http.http2MaxRequests', num(http.http2MaxRequests)],
    ['tcp.maxConnections', num(tcp.maxConnections)],
  ] as const)
    if (val !== undefined) limits.push([k, val]);
  const out: Finding[] = [];
  const tightest = limits.sort((x, y) => x[1] - y[1])[0];
  const numbers = {
    peakRps: pred.peakRps,
    meanServiceMs: pred.meanServiceMs,
    inFlightAtPeak: pred.inFlightAtPeak,
    aMaxRps: pred.aMaxRps,
    aHolds: pred.aHolds,
    limit: tightest?.[1] ?? null,
  };
  const law = `Little's law at the scenario's peak: ${pred.peakRps} req/s × ${pred.meanServiceMs} ms mean service time = ${pred.inFlightAtPeak} requests in flight; A serves at most ${conc} / ${pred.meanServiceMs} ms = ${pred.aMaxRps} req/s and holds ${pred.aHolds} (slots + queue)`;
  if (tightest && tightest[1] < pred.aHolds) {
    const loss1 = rateForLoss(tightest[1], pred.meanServiceMs, 0.01);
    out.push({
      id: 'pool-below-load',
      title: `${drName}: ${tightest[0]}=${tightest[1]} is below what A can hold (${pred.aHolds})`,
      effect: `${law}. With ${tightest[1]} in flight allowed, random arrivals overflow the client's breaker from about ${loss1} req/s (Erlang loss > 1 %; ${Math.round(erlangB(tightest[1], (pred.peakRps * pred.meanServiceMs) / 1000) * 100)} % refused at the peak if A kept up): the client refuses (503 UO) before A is ever overloaded.`,
      source:
        "Little's law and Erlang's loss formula over the capacity model (src/analysis/diagnosis/capacity.ts); envoy-semantics.md §1.2",
      numbers: { ...numbers, overflowFromRps: loss1 },
    });
    out.push({
      id: 'overflow-is-not-a-host-error',
      title: "The client's breaker trips before A fails",
      effect:
        "Circuit-breaker overflow is a local 503 UO, not a host error: outlier detection never counts it, so if the client's limits keep A below its capacity, A is never ejected and traffic is never redirected to B.",
      source: 'envoy#25487 / PR #25488 (2023-02, Envoy 1.26 by merge date); envoy-semantics.md §1.3; istio-translation.md §2',
    });
  } else if (pred.aSaturatesAboveRps !== null) {
    out.push({
      id: 'pool-below-load',
      title: `The scenario's peak (${pred.peakRps} req/s) is above A's capacity (${pred.aMaxRps} req/s)`,
      effect: `${law}. Above ~${pred.aMaxRps} req/s A's queue fills and A refuses (503 from upstream), which outlier detection counts: expect A's ejection once the offered load passes ~${pred.aMaxRps} req/s${tightest ? `; the client's ${tightest[0]}=${tightest[1]} is above what A holds, so the client's breaker is not what trips first` : ''}.`,
      source: "Little's law over the capacity model (src/analysis/diagnosis/capacity.ts)",
      numbers,
    });
  }
  return out;
}

/** A closed loop holds exactly its VU count in flight (Little's law with L fixed): compare it to the limits. */
function closedLoopFindings(vus: number, http: Obj, tcp: Obj, drName: string): Finding[] {
  const req = num(http.http2MaxRequests) ?? num(tcp.maxConnections);
  if (req === undefined || vus <= req) return [];
  const pending = num(http.http1MaxPendingRequests) ?? 0;
  const refused = Math.max(0, vus - req - pending);
  return [
    {
      id: 'pool-below-load',
      title: `${drName}: a closed loop of ${vus} VUs against ${num(http.http2MaxRequests) !== undefined ? `http.http2MaxRequests=${req}` : `tcp.maxConnections=${req}`}`,
      effect: `A closed loop keeps all ${vus} requests in flight: ${req} proceed, ${Math.min(pending, vus - req)} wait as pending${refused ? `, and ${refused} are refused at once (503 UO) again and again, for the whole run` : ''}; the client's breaker, not A, sets the pace.`,
      source: "Little's law with the in-flight count fixed by the VUs; envoy-semantics.md §1.2",
      numbers: { vus, limit: req, overflowFromRps: refused ? 0 : null },
    },
  ];
}

function serviceEntryFindings(ses: Obj[], a: Obj, host: string): Finding[] {
  const out: Finding[] = [];
  const ns = host.split('.')[1];
  const portName = String(obj(a.port).name ?? 'http');
  for (const se of ses) {
    const name = `ServiceEntry/${String(obj(se.metadata).name ?? '?')}`;
    const seNs = obj(se.metadata).namespace;
    if (ns && seNs !== undefined && seNs !== ns) {
      out.push({
        id: 'se-namespace',
        title: `${name} is in namespace ${String(seNs)}, the Service in ${ns}`,
        effect:
          "istiod merges a ServiceEntry's endpoints into the Kubernetes Service's cluster only from the Service's namespace: the gateway endpoint is not added, B is unreachable.",
        source: 'istio-translation.md §7 (EDS shards by namespace)',
      });
    }
    const ports = Array.isArray(obj(se.spec).ports) ? (obj(se.spec).ports as unknown[]).map(obj) : [];
    if (ports.length && !ports.some((p) => p.name === portName)) {
      out.push({
        id: 'se-port-name',
        title: `${name}'s port names (${ports.map((p) => String(p.name)).join(', ')}) differ from the Service's (${portName})`,
        effect:
          "istiod drops endpoints whose port name differs from the winning Kubernetes Service's: the gateway endpoint silently disappears.",
        source: 'istio-translation.md §7 (BuildClusterLoadAssignment port-name check)',
      });
    }
  }
  return out;
}
