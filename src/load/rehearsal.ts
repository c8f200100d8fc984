/**
 * A rehearsal of a scenario against the private warm-up server (warm-up.ts), for callers that can
 * afford it before they fix time zero (the driver thread does): the same requests (method, path,
 * headers, body, the target's Host), the same kind of executor and slot pool, 0.25 s at the scenario's
 * peak rate (at most 24k/s). It gives V8 the type feedback of this very run, so the run does not start
 * by deoptimising. Measured with `npm run bench:driver` (each trial a fresh driver thread, against
 * nginx): without it, p99 start lag was 0.99-1.09 ms at every rate from 2k to 48k/s; with it,
 * 0.31-0.84 ms up to 32k/s.
 */
import { peakRate, peakVus } from './executors/registry.ts';
import { isArrivalRate, type Scenario, type ScenarioSpec } from './types.ts';
import { runPrivately, warmUp, withWarmUpServer } from './warm-up.ts';

/** The rehearsal's version of `s`, sending to `origin`. */
function rehearsalOf(s: ScenarioSpec, origin: string): ScenarioSpec {
  const requests = s.requests.map((r) => {
    const u = new URL(r.url);
    const headers = { host: u.host, ...(r.headers ?? {}) };
    return { ...r, url: `${origin}${u.pathname}${u.search}`, headers };
  });
  const common = { name: s.name, startTime: 0, gracefulStop: 1, exec: s.exec, env: s.env, requests };
  if (isArrivalRate(s)) {
    const slots = Math.min(256, s.maxVUs);
    return {
      ...common,
      executor: 'constant-arrival-rate',
      rate: Math.max(1, Math.round(Math.min(24000, peakRate(s)))),
      timeUnit: 1,
      duration: 0.25,
      preAllocatedVUs: Math.min(slots, s.preAllocatedVUs),
      maxVUs: slots,
    };
  }
  return { ...common, executor: 'constant-vus', vus: Math.max(1, Math.min(64, peakVus(s))), duration: 0.25 };
}

export async function rehearse(scenario: Scenario): Promise<void> {
  await warmUp();
  // The VU runtime initialises the script's VUs instead (k6 does that before the test starts too).
  if (scenario.vu) return (await import('./vu/engine.ts')).prewarmVuRun(scenario);
  await withWarmUpServer(async (origin) => {
    await runPrivately([scenario.scenarios.map((s) => rehearsalOf(s, origin))]);
  });
}
