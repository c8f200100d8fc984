/** Rows of the summary table, shared by report.md and report.html so they cannot disagree. */
import type { Summary } from '../analysis/summary.ts';

const n = (x: number | null, unit = '') => (x === null ? '—' : `${x}${unit}`);
const pc = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);

export function summaryRows(s: Summary): Array<[string, string]> {
  return [
    ['experiment / run', `${s.experiment} / ${s.runId}`],
    ['backend / engine', `${s.backend} / ${s.engine}`],
    ['requests (ok / failed / dropped)', `${s.requests.total} (${s.requests.ok} / ${s.requests.failed} / ${s.requests.dropped})`],
    ['success ratio', pc(s.successRatio)],
    ['served by A / B', `${s.servedBy.A} / ${s.servedBy.B}`],
    ['redirected fraction (B / (A+B))', pc(s.redirectedFraction)],
    ['first circuit-breaker overflow', n(s.events.firstOverflowS, ' s')],
    ['first ejection', s.firstEjection ? `${n(s.events.firstEjectionS, ' s')} (${s.firstEjection.service || s.firstEjection.host} by ${s.firstEjection.envoy})` : '—'],
    ['offered / achieved load at first ejection', `${n(s.loadAtFirstEjectionRps, ' req/s')} / ${n(s.achievedAtFirstEjectionRps, ' req/s')}`],
    ['redirect onset / end', `${n(s.events.redirectOnsetS, ' s')} / ${n(s.events.redirectEndS, ' s')}`],
    ['no healthy upstream', n(s.events.noHealthyUpstreamS, ' s')],
    ['recovery', n(s.events.recoveryS, ' s')],
    ['latency p50 / p95 / p99 / max', `${n(s.latencyMs.p50)} / ${n(s.latencyMs.p95)} / ${n(s.latencyMs.p99)} / ${n(s.latencyMs.max)} ms`],
  ];
}
