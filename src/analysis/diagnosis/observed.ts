/**
 * Which predicted pitfalls the run shows: each finding checked against the summary of a run of that
 * configuration. "happened" is true or false only when the run carries the evidence; null means the
 * run cannot tell (e.g. it never reached the load the prediction needs).
 */
import type { Summary } from '../summary.ts';
import type { Finding } from './pitfalls.ts';

export interface Observation {
  happened: boolean | null;
  evidence: string;
}

const at = (t: number | null | undefined) => (t === null || t === undefined ? '' : ` at ${t.toFixed(2)} s`);

export function observe(f: Finding, s: Summary): Observation {
  const aSide = s.breakers.filter((b) => /A's own sidecar/.test(b.side));
  const client = s.breakers.filter((b) => /client/.test(b.side) && b.counter !== 'upstream_cx_overflow');
  switch (f.id) {
    case 'max-ejection-percent':
      return s.blockedEjections
        ? {
            happened: true,
            evidence: `${s.blockedEjections.count} ejections refused (outlier_detection.ejections_overflow) from ${s.blockedEjections.firstS} s; ${s.ejections} enforced`,
          }
        : {
            happened: s.ejections > 0 ? false : null,
            evidence:
              s.ejections > 0 ? `${s.ejections} ejection(s) went through` : 'no ejection was attempted (ejections_overflow never rose)',
          };
    case 'consecutive-errors-ignored':
      return {
        happened: null,
        evidence: s.ejections ? `A was ejected ${s.ejections} time(s) (by the threshold that applies)` : 'A was never ejected',
      };
    case 'failover-needs-outlier-detection':
      return s.servedBy.B > 0 && s.redirectedShare === 0
        ? {
            happened: true,
            evidence: `B served ${(100 * (s.redirectedFraction ?? 0)).toFixed(1)} % by plain balancing; no redirect episode`,
          }
        : {
            happened: s.servedBy.B === 0 ? false : null,
            evidence: s.servedBy.B === 0 ? 'B served nothing' : 'B served during redirect episodes',
          };
    case 'single-gateway-endpoint':
      return s.firstEjection?.service === 'B'
        ? { happened: true, evidence: `the gateway endpoint was ejected${at(s.events.firstEjectionS)}: all of B was out` }
        : { happened: null, evidence: 'the gateway endpoint was not ejected in this run' };
    case 'inbound-pool':
      return aSide.length
        ? { happened: true, evidence: aSide.map((b) => `${b.counter} ×${b.count} at A's sidecar from ${b.firstS} s`).join('; ') }
        : { happened: false, evidence: "A's sidecar never overflowed" };
    case 'pending-and-max-requests-per-connection': {
      const p = s.breakers.find((b) => b.counter === 'upstream_rq_pending_overflow');
      return p
        ? { happened: true, evidence: `upstream_rq_pending_overflow ×${p.count} at ${p.envoy} from ${p.firstS} s` }
        : { happened: false, evidence: 'no pending overflow' };
    }
    case 'tls-under-spec':
      return s.servedBy.B === 0 || s.firstEjection?.service === 'B'
        ? { happened: true, evidence: s.firstEjection?.service === 'B' ? `B ejected${at(s.events.firstEjectionS)}` : 'B served nothing' }
        : { happened: false, evidence: `B served ${s.servedBy.B} requests` };
    case 'retries-hide-5xx':
      return { happened: null, evidence: 'see the outcomes figure: the retried line counts requests Envoy retried' };
    case 'panic-threshold':
      return s.events.noHealthyUpstreamS !== null
        ? { happened: true, evidence: `503 UH from ${s.events.noHealthyUpstreamS} s` }
        : { happened: false, evidence: 'never every host ejected at once' };
    case 'pool-below-load': {
      const from = f.numbers?.overflowFromRps;
      if (from !== undefined)
        return client.length
          ? {
              happened: true,
              evidence: `the client's breaker overflowed from ${s.events.firstOverflowS} s (${client.map((b) => `${b.counter} ×${b.count}`).join(', ')})`,
            }
          : { happened: false, evidence: "the client's breaker never overflowed" };
      if (s.ejections > 0)
        return {
          happened: true,
          evidence: `A ejected${at(s.events.firstEjectionS)} at offered ${s.loadAtFirstEjectionRps ?? '?'} req/s (predicted above ~${f.numbers?.aMaxRps} req/s)`,
        };
      return s.outcomes.upstream5xx > 0
        ? {
            happened: true,
            evidence: `A refused ${s.outcomes.upstream5xx} request(s) with 503 from upstream, but was not ejected${s.blockedEjections ? ' (its ejections were blocked)' : ''}`,
          }
        : { happened: false, evidence: 'A never refused a request' };
    }
    case 'overflow-is-not-a-host-error':
      return client.length && s.ejections === 0
        ? { happened: true, evidence: `the client overflowed from ${s.events.firstOverflowS} s and A was never ejected` }
        : {
            happened: client.length ? false : null,
            evidence: client.length ? `A was ejected ${s.ejections} time(s) anyway` : "the client's breaker never overflowed",
          };
    case 'shared-breaker':
      return { happened: null, evidence: 'not separable in the counters (one cluster)' };
    case 'se-namespace':
    case 'se-port-name':
      return s.servedBy.B === 0
        ? { happened: true, evidence: 'B served nothing' }
        : { happened: false, evidence: `B served ${s.servedBy.B} requests` };
  }
}
