/**
 * The report's plain-words account of what happened, built only from the analysis: "A was ejected at
 * 41.2 s after 5xx from A (consecutive5xxErrors=1); from 41.3 s B served 97 % of requests".
 */
import { LOCALITY_RUN } from '../analysis/mesh-summary.ts';
import type { Analysis } from '../analysis/analyze.ts';
import type { DetectedEvent } from '../analysis/events.ts';

const s1 = (t: number) => `${t.toFixed(1)} s`;
const pct = (x: number) => `${Math.round(x * 100)} %`;
const rps = (x: number | null) => (x === null ? 'n/a' : `${Math.round(x)} req/s`);

const DETECTOR_WORDS: Record<string, string> = {
  CONSECUTIVE_5XX: 'consecutive 5xx responses',
  CONSECUTIVE_GATEWAY_FAILURE: 'consecutive gateway errors (502/503/504)',
  CONSECUTIVE_LOCAL_ORIGIN_FAILURE: 'consecutive local-origin failures',
  SUCCESS_RATE: 'a low success rate',
  FAILURE_PERCENTAGE: 'a high failure percentage',
};

export function narrative(a: Analysis): string[] {
  const s = a.summary;
  const out: string[] = [];
  const peak = a.timeseries.reduce((m, r) => Math.max(m, r.target_rps), 0);
  out.push(
    `${s.requests.total} requests were sent (offered load up to ${rps(peak)}); ${s.requests.ok} succeeded (${s.successRatio === null ? 'n/a' : pct(s.successRatio)}), ${s.requests.failed} failed` +
      (s.requests.dropped ? `, and the schedule dropped ${s.requests.dropped} iterations it had no free slot for.` : ', and no scheduled iteration was dropped.'),
  );
  const byKind = (k: DetectedEvent['kind']) => a.events.filter((e) => e.kind === k);
  const overflow = byKind('overflow');
  if (overflow.length) {
    for (const e of overflow) out.push(`The circuit breaker of ${e.envoy || 'the client'} first overflowed at ${s1(e.t)} (offered ${rps(e.offeredRps)}, achieved ${rps(e.achievedRps)})${e.cause ? `; limits: ${e.cause}` : ''}.`);
  } else out.push('No circuit-breaker overflow was seen.');
  for (const e of byKind('service-rejected')) out.push(`Service ${e.service || e.envoy} started refusing work (queue full, 503): its rejected-requests counter ${e.detail.replace(/^.*rose /, 'rose ')} (/metrics).`);
  for (const e of byKind('upstream-5xx')) {
    if (a.summary.firstEjection && e.envoy !== a.summary.firstEjection.envoy) continue;
    out.push(`${e.envoy} got its first 5xx from upstream ${e.service ? `${e.service} (${e.host})` : e.host} at ${s1(e.t)}: ${e.detail.replace(/^first /, '')}.`);
  }
  for (const e of byKind('eject')) {
    const type = /^(\w+)/.exec(e.detail)?.[1] ?? '';
    const who = e.service ? `${e.service} (${e.host})` : e.host;
    // The threshold from the configuration turns "consecutive 5xx responses" into "1 consecutive 5xx response".
    const n = Number((type === 'CONSECUTIVE_5XX' ? /consecutive5xxErrors=(\d+)/ : type === 'CONSECUTIVE_GATEWAY_FAILURE' ? /consecutive(?:Gateway)?Errors=(\d+)/ : /$^/).exec(e.cause)?.[1]);
    const words = DETECTOR_WORDS[type] ?? type;
    const what = n > 0 ? `${n} ${n === 1 ? words.replace('responses', 'response').replace('errors', 'error') : words}` : words;
    out.push(`${who} was ejected by ${e.envoy} at ${s1(e.t)} after ${what}${e.cause ? ` (${e.cause})` : ''}, at offered ${rps(e.offeredRps)} and achieved ${rps(e.achievedRps)}.`);
  }
  for (const e of byKind('uneject')) out.push(`${e.service || e.host} was returned to service by ${e.envoy} at ${s1(e.t)}${e.detail ? ` (${e.detail})` : ''}.`);
  for (const r of a.redirects) {
    out.push(`From ${s1(r.onsetS)}${r.endS !== null ? ` to ${s1(r.endS)}` : ' to the end of the run'} B served ${r.shareB === null ? 'most' : pct(r.shareB)} of requests (redirect: B's share over a ${a.windowS} s window ≥ ${pct(a.redirectThreshold)}).`);
  }
  if (!a.redirects.length) out.push(`Traffic was never redirected: B's share over a ${a.windowS} s window stayed below ${pct(a.redirectThreshold)}.`);
  const uh = byKind('no-healthy-upstream');
  for (const e of uh) out.push(`"No healthy upstream" (503 UH) first appeared at ${s1(e.t)} at ${e.envoy}: every host of the cluster was ejected at once.`);
  const rec = byKind('recovery')[0];
  if (rec) out.push(`The run recovered at ${s1(rec.t)}: A served again and ≥ 99 % of requests succeeded.`);
  for (const e of byKind('run').filter((x) => /^(fault|process-exit|error):/.test(x.detail))) {
    const [kind, ...rest] = e.detail.split(': ');
    const what = rest.join(': ');
    out.push(kind === 'fault' ? `A fault was injected at ${s1(e.t)}: ${what}.` : kind === 'process-exit' ? `At ${s1(e.t)} a process of the run ended on its own: ${what}.` : `At ${s1(e.t)} the run recorded an error: ${what}.`);
  }
  for (const e of byKind('run').filter((x) => x.detail.startsWith('push: '))) {
    const m = /^push: (.*) -> \S+?( \(not seen applied\))?, applied (\S+) ms after the write$/.exec(e.detail);
    out.push(m ? `At ${s1(e.t)} ${e.envoy} applied the control plane's push "${m[1]}"${m[2] ? ' (not seen applied)' : `, ${m[3]} ms after it was written`}.` : `At ${s1(e.t)} ${e.detail}.`);
  }
  for (const f of s.mesh?.failovers ?? []) out.push(`At ${s1(f.t)} traffic failed over from ${f.from} to ${f.to}, which then answered ${LOCALITY_RUN} or more requests in a row.`);
  const gaps = byKind('capture-gap');
  if (gaps.length) out.push(`Telemetry had ${gaps.length} gap(s) (failed scrapes are kept as data; see events.csv).`);
  if (!s.envoyTelemetry) out.push('This run has no Envoy telemetry (e.g. an imported k6 run): the Envoy-side panels are left out.');
  return out;
}
