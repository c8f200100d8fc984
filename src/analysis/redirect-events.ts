/**
 * Redirect onset/end and recovery. A redirect is a shift of traffic to B that something caused: A
 * ejected by the client's outlier detection (which moves it out of priority 0), A's host marked
 * unhealthy in /clusters, "no healthy upstream", or an injected fault. B's share crossing a
 * threshold on its own is not one: with A and the gateway in one priority, least-request balancing
 * gives B about half the requests all run long, and its share wanders across 50 % (envoy-semantics
 * §3.1, istio-translation §3: priorities exist only when the DestinationRule has outlierDetection).
 */
import type { DetectedEvent } from './detected-event.ts';
import { bucketIndex, firstCrossing, switchTime, type FineBuckets } from './windows.ts';

type Ev = Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>;

export interface RedirectInputs {
  fine: FineBuckets;
  redirectThreshold: number;
  windowS: number;
  /** Events already detected (ejections, no-healthy-upstream, faults): the possible causes. */
  causes: Ev[];
  /** Envoy names with the client role (ejections elsewhere do not steer the client's traffic). */
  clientEnvoys: Set<string>;
  /**
   * False when the run has no Envoy telemetry (an imported k6 run): no cause can be seen, so a shift
   * is reported as one with its cause unknown rather than dropped.
   */
  causesObservable: boolean;
}

const isCause = (e: Ev, clients: Set<string>) =>
  ((e.kind === 'eject' || e.kind === 'no-healthy-upstream') &&
    (clients.size === 0 || clients.has(e.envoy)) &&
    (e.kind !== 'eject' || e.service !== 'B')) ||
  (e.kind === 'run' && e.detail.startsWith('fault:'));

function causeWords(e: Ev): string {
  if (e.kind === 'eject') return `${e.service || e.host} ejected by ${e.envoy} at ${e.t.toFixed(2)} s`;
  if (e.kind === 'no-healthy-upstream') return `no healthy upstream at ${e.envoy} from ${e.t.toFixed(2)} s`;
  if (e.source === 'requests') return e.detail;
  return `${e.detail} at ${e.t.toFixed(2)} s`;
}

export function redirectEvents(inp: RedirectInputs): Ev[] {
  const out: Ev[] = [];
  const fb = inp.fine;
  const thr = inp.redirectThreshold;
  const minCount = 3;
  const detail = `B's share of served requests over a ${inp.windowS} s window crossed ${Math.round(thr * 100)} %`;
  const share = (s: { a: number; b: number }) => (s.a + s.b === 0 ? NaN : s.b / (s.a + s.b));
  const causes = inp.causes.filter((e) => isCause(e, inp.clientEnvoys)).sort((a, b) => a.t - b.t);
  // A cause counts for a shift that starts up to one window (plus the 1 s outlier tick) after it, or
  // slightly before it (the onset is walked back to the first request B served).
  const causeOf = (t: number) =>
    causes.find((c) => c.t >= t - inp.windowS && c.t <= t + 0.05) ?? causes.find((c) => c.t < t && c.t >= t - inp.windowS - 1);
  let from = 0;
  let firstTrouble: number | undefined;
  for (;;) {
    const on = firstCrossing(fb, from, inp.windowS, minCount, (s) => s.a + s.b >= 1 && share(s) >= thr);
    if (!on) break;
    const tOn = switchTime(fb, on.j, 'B');
    const off = firstCrossing(fb, on.i + 1, inp.windowS, minCount, (s) => s.a + s.b >= 1 && share(s) < thr);
    const c0 =
      causeOf(tOn) ??
      (inp.causesObservable
        ? undefined
        : ({
            t: tOn,
            kind: 'run',
            envoy: '',
            host: '',
            service: '',
            source: 'requests',
            cause: '',
            detail: "cause unknown (no Envoy telemetry): B's share crossed the threshold",
          } as Ev));
    if (c0) {
      // A request sent a few ms before the ejection can still be routed after it: the first request B
      // served may precede the logged ejection, but the redirect does not precede its cause.
      const t = Math.max(tOn, c0.t);
      firstTrouble ??= t;
      const c = c0;
      out.push({ t, kind: 'redirect-onset', envoy: '', host: '', service: 'B', source: 'requests', cause: causeWords(c), detail });
      if (off)
        out.push({
          t: switchTime(fb, off.j, 'A'),
          kind: 'redirect-end',
          envoy: '',
          host: '',
          service: 'A',
          source: 'requests',
          cause: '',
          detail: detail.replace('crossed', 'fell back below'),
        });
    }
    if (!off) break;
    from = off.i + 1;
  }
  // Recovery: after the first sign of trouble, the first window where ≥ 99 % succeed and, if A was
  // out (ejected or redirected away from), A serves again. A run without trouble has no recovery.
  const aOut = firstTrouble !== undefined || causes.some((c) => c.kind === 'eject');
  const failWindow = firstCrossing(fb, 0, inp.windowS, minCount, (s) => s.ok / s.total < 0.99);
  const firstEject = causes.find((c) => c.kind === 'eject')?.t;
  const troubleT = Math.min(firstTrouble ?? Infinity, firstEject ?? Infinity, failWindow ? fb.t0 + failWindow.j * fb.stepS : Infinity);
  if (Number.isFinite(troubleT)) {
    const from2 = Math.max(0, bucketIndex(fb, troubleT) + Math.max(1, Math.round(inp.windowS / fb.stepS)));
    const rec = firstCrossing(
      fb,
      from2,
      inp.windowS,
      minCount,
      (s) => s.ok / s.total >= 0.99 && (!aOut || (s.a + s.b > 0 && s.a / (s.a + s.b) >= 1 - thr)),
    );
    if (rec) {
      out.push(
        aOut
          ? {
              t: switchTime(fb, rec.j, 'A'),
              kind: 'recovery',
              envoy: '',
              host: '',
              service: 'A',
              source: 'requests',
              cause: '',
              detail: `A serving ≥ ${Math.round((1 - thr) * 100)} % again and ≥ 99 % success over ${inp.windowS} s`,
            }
          : {
              t: fb.t0 + rec.j * fb.stepS,
              kind: 'recovery',
              envoy: '',
              host: '',
              service: '',
              source: 'requests',
              cause: '',
              detail: `≥ 99 % success again over ${inp.windowS} s (A was never out)`,
            },
      );
    }
  }
  return out;
}
