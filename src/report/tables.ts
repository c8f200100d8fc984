/** Rows of the summary table, shared by report.md and report.html so they cannot disagree. */
import type { Summary } from '../analysis/summary.ts';

import { pc } from './words.ts';

const n = (x: number | null, unit = '') => (x === null ? '—' : `${x}${unit}`);
const ENDING: Record<string, string> = { completed: 'completed', interrupted: 'INTERRUPTED', killed: 'KILLED', failed: 'FAILED' };

export function summaryRows(s: Summary): Array<[string, string]> {
  return [
    ['experiment / run', `${s.experiment} / ${s.runId}`],
    ['run ended', `${ENDING[s.ending.ending]}${s.ending.reason ? ` (${s.ending.reason})` : ''}`],
    [
      'contention',
      s.contention.contended
        ? `yes: ${s.contention.reasons.join('; ')}`
        : `none seen (driver p99 start lag ${n(s.contention.startLagP99Ms, ' ms')})`,
    ],
    [
      'backend / engine / load',
      `${s.backend} / ${s.engine} / ${s.loadModel === 'closed' ? 'closed loop (VUs)' : s.loadModel === 'open' ? 'open loop (arrival rate)' : s.loadModel}`,
    ],
    ['requests (ok / failed / dropped)', `${s.requests.total} (${s.requests.ok} / ${s.requests.failed} / ${s.requests.dropped})`],
    ['success ratio', pc(s.successRatio)],
    ['served by A / B', `${s.servedBy.A} / ${s.servedBy.B}`],
    ['share served by B (B / (A+B))', pc(s.redirectedFraction)],
    ['redirected to B (in redirect episodes)', pc(s.redirectedShare)],
    ['first circuit-breaker overflow', n(s.events.firstOverflowS, ' s')],
    [
      'circuit breakers that tripped',
      s.breakers.length ? s.breakers.map((b) => `${b.envoy}: ${b.counter} ×${b.count} from ${b.firstS} s`).join('; ') : '—',
    ],
    [
      'blocked ejections (maxEjectionPercent)',
      s.blockedEjections ? `${s.blockedEjections.count} from ${s.blockedEjections.firstS} s (${s.blockedEjections.envoy})` : '—',
    ],
    [
      'first ejection',
      s.firstEjection
        ? `${n(s.events.firstEjectionS, ' s')} (${s.firstEjection.service || s.firstEjection.host} by ${s.firstEjection.envoy})`
        : '—',
    ],
    [
      s.loadModel === 'closed' ? 'achieved load at first ejection' : 'offered / achieved load at first ejection',
      s.loadModel === 'closed'
        ? n(s.achievedAtFirstEjectionRps, ' req/s')
        : `${n(s.loadAtFirstEjectionRps, ' req/s')} / ${n(s.achievedAtFirstEjectionRps, ' req/s')}`,
    ],
    ['redirect onset / end', `${n(s.events.redirectOnsetS, ' s')} / ${n(s.events.redirectEndS, ' s')}`],
    ['no healthy upstream', n(s.events.noHealthyUpstreamS, ' s')],
    ['recovery', n(s.events.recoveryS, ' s')],
    ['latency p50 / p95 / p99 / max', `${n(s.latencyMs.p50)} / ${n(s.latencyMs.p95)} / ${n(s.latencyMs.p99)} / ${n(s.latencyMs.max)} ms`],
  ];
}
