/**
 * The report's plain-words account of what happened, built only from the analysis: the totals, then
 * every event in time order with what caused it, then what it added up to ("A was ejected at 41.2 s
 * after 1 consecutive 5xx response (consecutive5xxErrors=1); from 41.3 s B served 97 % of requests").
 */
import { LOCALITY_RUN } from '../analysis/mesh-summary.ts';
import type { Analysis } from '../analysis/analyze.ts';
import type { DetectedEvent } from '../analysis/events.ts';
import { loadAt, pc, rps, s1 } from './words.ts';

const DETECTOR_WORDS: Record<string, string> = {
  CONSECUTIVE_5XX: 'consecutive 5xx responses',
  CONSECUTIVE_GATEWAY_FAILURE: 'consecutive gateway errors (502/503/504)',
  CONSECUTIVE_LOCAL_ORIGIN_FAILURE: 'consecutive local-origin failures',
  SUCCESS_RATE: 'a low success rate',
  FAILURE_PERCENTAGE: 'a high failure percentage',
};

const SIDE: Record<string, string> = {
  client: "the client's sidecar (outbound, client side)",
  'a-sidecar': "A's own sidecar (inbound, server side: the DestinationRule's pool applies there too)",
  gateway: 'the east-west gateway',
  'ingress-gateway': "the ingress gateway (the mesh's edge: the outside client's requests enter there)",
  'b-sidecar': "B's own sidecar (inbound, server side)",
};

export function narrative(a: Analysis): string[] {
  const out: string[] = [totals(a)];
  const side = (envoy: string) => SIDE[a.roles[envoy] ?? ''] ?? (envoy || 'the client');
  for (const e of a.events) {
    const line = eventLine(a, e, side);
    if (line) out.push(line);
  }
  for (const f of a.summary.mesh?.failovers ?? [])
    out.push(`At ${s1(f.t)} traffic failed over from ${f.from} to ${f.to}, which then answered ${LOCALITY_RUN} or more requests in a row.`);
  const mirrored = a.summary.mesh?.mirrored;
  if (mirrored) {
    const each = Object.entries(mirrored.byInstance)
      .map(([i, n]) => `${i} ${n}`)
      .join(', ');
    out.push(
      `A VirtualService mirror sent ${mirrored.total} shadow copies (${each}); Envoy drops their answers, so they are not in the served-by counts.`,
    );
  }
  out.push(...outcome(a));
  const gaps = a.events.filter((e) => e.kind === 'capture-gap');
  if (gaps.length) out.push(`Telemetry had ${gaps.length} gap(s) (failed scrapes are kept as data; see events.csv).`);
  if (!a.summary.envoyTelemetry) out.push('This run has no Envoy telemetry (e.g. an imported k6 run): the Envoy-side panels are left out.');
  return out;
}

function totals(a: Analysis): string {
  const s = a.summary;
  const ok = `${s.requests.ok} succeeded (${pc(s.successRatio)}), ${s.requests.failed} failed`;
  const peakSent = a.timeseries.reduce((m, r) => Math.max(m, r.sent_rps), 0);
  if (s.loadModel === 'closed') {
    return `${s.requests.total} requests were sent in a closed loop (k6 VU executor: each virtual user sends its next request when the previous one ends, so the rate follows the mesh's response time and there is no offered load); up to ${rps(peakSent)} achieved in a ${a.bucketS} s bucket; ${ok}.`;
  }
  const peak = a.timeseries.reduce((m, r) => Math.max(m, r.target_rps), 0);
  const dropped = s.requests.dropped
    ? `, and the schedule dropped ${s.requests.dropped} iterations it had no free slot for`
    : ', and no scheduled iteration was dropped';
  return `${s.requests.total} requests were sent${s.loadModel === 'open' ? ', open loop,' : ''} at an offered load of up to ${rps(peak)} (up to ${rps(peakSent)} achieved in a ${a.bucketS} s bucket); ${ok}${dropped}.`;
}

function ejectWords(e: DetectedEvent): string {
  const type = /^(\w+)/.exec(e.detail)?.[1] ?? '';
  // The threshold from the configuration turns "consecutive 5xx responses" into "1 consecutive 5xx response".
  const n = Number(
    (type === 'CONSECUTIVE_5XX'
      ? /consecutive5xxErrors=(\d+)/
      : type === 'CONSECUTIVE_GATEWAY_FAILURE'
        ? /consecutive(?:Gateway)?Errors=(\d+)/
        : /$^/
    ).exec(e.cause)?.[1],
  );
  const words = DETECTOR_WORDS[type] ?? (type || 'outlier detection');
  return n > 0 ? `${n} ${n === 1 ? words.replace('responses', 'response').replace('errors', 'error') : words}` : words;
}

function eventLine(a: Analysis, e: DetectedEvent, side: (envoy: string) => string): string | undefined {
  const at = `At ${s1(e.t)}`;
  const load = loadAt(e.offeredRps, e.achievedRps);
  const who = e.service ? `${e.service} (${e.host})` : e.host;
  switch (e.kind) {
    case 'service-rejected':
      return `${at} service ${e.service || e.envoy} was refusing work (its own queue was full, 503): its rejected-requests counter ${e.detail.replace(/^.*rose /, 'rose ')} (/metrics).`;
    case 'connection-limit':
      return `${at} ${side(e.envoy)} reached its connection limit (${e.cause}; upstream_cx_overflow ${e.detail.replace(/^\S+ /, '')}): requests then wait for a connection; this limit alone refuses nothing.`;
    case 'overflow':
      return `${at} the circuit breaker of ${side(e.envoy)} refused its first request (503 UO) ${load}; the limit that tripped: ${e.cause}.`;
    case 'upstream-5xx': {
      if (a.summary.firstEjection && e.envoy !== a.summary.firstEjection.envoy) return undefined;
      const why = a.events.find(
        (x) =>
          (x.kind === 'service-rejected' || (x.kind === 'overflow' && x.service === e.service && x.service !== '')) &&
          Math.abs(x.t - e.t) <= 1,
      );
      const because = why
        ? why.kind === 'service-rejected'
          ? ` (service ${why.service || why.envoy}'s queue was full)`
          : ` (${side(why.envoy)} was refusing with 503 UO)`
        : '';
      return `${at} ${e.envoy} got its first 5xx from upstream ${who}: ${e.detail.replace(/^first /, '')}${because}.${a.roles[e.envoy] === 'client' ? " The client's outlier detection counts these (its own overflow 503s it does not: envoy#25487)." : ''}`;
    }
    case 'detected-not-enforced':
      return `${at} ${e.envoy} detected ${who} as an outlier but did not eject it (${e.detail}).`;
    case 'ejection-blocked':
      return `${at} the outlier detection of ${side(e.envoy)} decided to eject a host but Envoy refused (a blocked ejection): ${e.cause}. Blocked ejections by the end of the run: ${/to (\d+) by the end/.exec(e.detail)?.[1] ?? '?'} (outlier_detection.ejections_overflow); the host stayed in and kept getting traffic.`;
    case 'eject':
      return `${at} ${who} was ejected by ${e.envoy} after ${ejectWords(e)}${e.cause ? ` (${e.cause})` : ''}, ${load}.`;
    case 'uneject':
      return `${at} ${e.service || e.host} was returned to service by ${e.envoy}${e.detail ? ` (${e.detail})` : ''}.`;
    case 'redirect-onset': {
      const r = a.redirects.find((x) => Math.abs(x.onsetS - e.t) < 0.0005);
      const share = r?.shareB === null || r?.shareB === undefined ? 'most' : pc(r.shareB);
      const until = r?.endS !== null && r?.endS !== undefined ? `until ${s1(r.endS)}` : 'until the end of the run';
      return `${at} traffic was redirected to B, caused by ${e.cause}: ${until} B served ${share} of the requests.`;
    }
    case 'no-healthy-upstream':
      return `${at} "no healthy upstream" (503 UH) appeared at ${e.envoy}: ${e.cause}.`;
    case 'recovery':
      return e.service === 'A'
        ? `${at} the run recovered: A served again and ≥ 99 % of requests succeeded.`
        : `${at} ≥ 99 % of requests succeeded again (A was never out, so nothing was redirected).`;
    case 'run': {
      const [kind, ...rest] = e.detail.split(': ');
      const what = rest.join(': ');
      if (kind === 'fault') return `${at} a fault was injected: ${what}.${trafficAfter(a, e.t)}`;
      if (kind === 'process-exit') return `${at} a process of the run ended on its own: ${what}.`;
      if (kind === 'error') return `${at} the run recorded an error: ${what}.`;
      // A scale fault's pods: created, running, ready, terminating, SIGTERM, terminated (runner/backends/local-scale.ts).
      if (kind === 'pod') return `${at} pod ${what}.`;
      if (kind === 'push') {
        const m = /^(.*) -> \S+?( \(not seen applied\))?, applied (\S+) ms after the write$/.exec(what);
        if (!m) return `${at} ${e.detail}.`;
        const applied = m[2] ? ' (not seen applied)' : `, ${m[3]} ms after it was written`;
        // The client's push decides where the load goes next; a gateway's only what it forwards.
        return `${at} ${e.envoy} applied the control plane's push "${m[1]}"${applied}.${e.envoy === 'client' ? trafficAfter(a, e.t) : ''}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * General topology: which instances answered in the buckets after t (served-by.csv), so a drain,
 * readiness failure or DestinationRule change shows what traffic did next.
 */
function trafficAfter(a: Analysis, t: number): string {
  if (!a.servedBy?.length) return '';
  const span = Math.max(1, 2 * a.bucketS);
  const by = new Map<string, number>();
  let total = 0;
  for (const r of a.servedBy) {
    if (r.t + a.bucketS <= t || r.t >= t + span) continue;
    by.set(r.instance, (by.get(r.instance) ?? 0) + r.served);
    total += r.served;
  }
  if (!total) return ` In the next ${span} s no instance answered.`;
  const parts = [...by.entries()].sort((x, y) => y[1] - x[1]).map(([i, n]) => `${i} ${pc(n / total)}`);
  return ` In the next ${span} s the answers came from ${parts.join(', ')}.`;
}

/** What the events added up to, including what did not happen and why. */
function outcome(a: Analysis): string[] {
  const s = a.summary;
  const out: string[] = [];
  const ab = s.servedBy.A + s.servedBy.B;
  if (a.redirects.length) {
    out.push(
      `In all: ${a.redirects.length} redirect episode${a.redirects.length === 1 ? '' : 's'}; ${pc(s.redirectedShare)} of the requests A or B served were served by B during a redirect; B's share over the whole run was ${pc(s.redirectedFraction)}.`,
    );
    return out;
  }
  const why = s.blockedEjections
    ? `outlier detection wanted to eject ${s.blockedEjections.count} time(s) but maxEjectionPercent refused every ejection`
    : s.ejections > 0 && s.firstEjection?.service === 'B'
      ? 'only B was ejected'
      : s.ejections > 0
        ? 'the ejection did not move traffic'
        : s.events.firstOverflowS !== null
          ? "A was never ejected: the circuit breaker's own 503 UO are not host errors, so outlier detection never saw them"
          : 'A was never ejected';
  out.push(`Traffic was never redirected: ${why}.`);
  if (ab > 0 && s.servedBy.B > 0)
    out.push(
      `B served ${pc(s.redirectedFraction)} of the requests through normal load balancing (A and the gateway share a priority unless outlierDetection turns on locality failover); that is not a redirect.`,
    );
  return out;
}
