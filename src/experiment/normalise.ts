/**
 * The experiment's harness-level durations as numbers of milliseconds, parsed once when the experiment
 * loads (after validation and the time scale), so no phase, backend or control plane parses a duration
 * string again. The spec itself keeps the text the user wrote: it is rendered back (resolved-experiment
 * yaml, manifest.json, kind/kube manifests, explain), and Istio's own durations inside `resources:` stay
 * Istio's YAML for src/mesh to translate.
 *
 * The floors the harness applies (the scrape minimum) live here too, as named constants, and the
 * effective values after scaling and floors are what the manifest records (`effectiveTiming`).
 */
import type { EffectiveTiming } from '../contracts/raw.ts';
import { parseDurationMs } from '../util/duration.ts';
import { clientsOf } from './clients.ts';
import type { Experiment, Fault } from './schema.ts';

/**
 * Scrapes are never more often than every 50 ms. Every scrape is a request to an Envoy's admin
 * endpoint, served on its main thread, for every pod of the run on one timer: a shorter interval would
 * spend the harness's and Envoy's CPU on scraping rather than on the traffic being measured, and leave
 * a scrape (timeout 90 % of the interval) too little time to answer. A smaller `scrape.interval` is
 * raised to this; the manifest records both. (The value dates from the first capture, c8f52c4; no
 * measurement of the knee is recorded.)
 */
export const SCRAPE_INTERVAL_FLOOR_MS = 50;

/**
 * A scrape is abandoned at 90 % of its interval, so a hung endpoint is given up before its next slot
 * comes round -- but never sooner than 50 ms, so a short `clustersInterval` (not floored) still lets a
 * loaded admin endpoint answer.
 */
export const SCRAPE_TIMEOUT_FLOOR_MS = 50;
const SCRAPE_TIMEOUT_SHARE = 0.9;

/** How long one scrape may take at a given interval (the floor applied). */
export const scrapeTimeoutMs = (intervalMs: number) => Math.max(SCRAPE_TIMEOUT_FLOOR_MS, Math.floor(intervalMs * SCRAPE_TIMEOUT_SHARE));

/**
 * Kubernetes' readiness probe (periodSeconds 10, failureThreshold 3, successThreshold 1) and istiod's
 * push debounce (PILOT_DEBOUNCE_AFTER 100ms): the timing of the harness's pushes unless `pushTiming:`
 * says otherwise. These defaults are scaled by the time scale like the durations a user sets.
 */
export const DEFAULT_PUSH_TIMING = { readinessPeriodMs: 10_000, failureThreshold: 3, successThreshold: 1, debounceMs: 100 } as const;

/** A fault with its times in ms (the spec's strings stay beside them, for the event log). */
export type TimedFault = Fault & { atMs: number; durationMs?: number; delayMs?: number };

export type PushTimingMs = EffectiveTiming['push'];

/**
 * intervalMs is `scrape.interval` raised to SCRAPE_INTERVAL_FLOOR_MS; timeoutMs has SCRAPE_TIMEOUT_FLOOR_MS
 * applied; clustersIntervalMs (absent: the stats interval) is not floored, as it never was.
 */
export type ScrapeTimingMs = EffectiveTiming['scrape'];

/** Every duration the harness itself schedules from, in ms. */
export interface RunTiming {
  wanDelayMs: number;
  requestTimeoutMs: number;
  /** Each client's own `load.requestTimeout` (clientsOf order; the first is requestTimeoutMs). */
  requestTimeoutMsByClient: Record<string, number>;
  fileFlushIntervalMs: number;
  scrape: ScrapeTimingMs;
  push: PushTimingMs;
  /** `faults:` in order, each with atMs (and durationMs / delayMs where the fault has them). */
  faults: TimedFault[];
}

const optionalMs = (s: string | undefined) => (s ? parseDurationMs(s) : undefined);

/** The spec was validated (every duration parses) and scaled; `timeScale` scales the push defaults. */
export function normaliseTiming(spec: Experiment, timeScale = 1): RunTiming {
  const requestedIntervalMs = parseDurationMs(spec.scrape.interval);
  const intervalMs = Math.max(SCRAPE_INTERVAL_FLOOR_MS, requestedIntervalMs);
  const clustersIntervalMs = optionalMs(spec.scrape.clustersInterval);
  const c = spec.pushTiming ?? {};
  return {
    wanDelayMs: parseDurationMs(spec.topology.wanDelay),
    requestTimeoutMs: parseDurationMs(spec.load.requestTimeout),
    requestTimeoutMsByClient: Object.fromEntries(clientsOf(spec).map((x) => [x.name, parseDurationMs(x.load.requestTimeout)])),
    fileFlushIntervalMs: parseDurationMs(spec.envoy.fileFlushInterval),
    scrape: {
      requestedIntervalMs,
      intervalMs,
      floorMs: SCRAPE_INTERVAL_FLOOR_MS,
      timeoutMs: scrapeTimeoutMs(intervalMs),
      ...(clustersIntervalMs !== undefined ? { clustersIntervalMs, clustersTimeoutMs: scrapeTimeoutMs(clustersIntervalMs) } : {}),
    },
    push: {
      readinessPeriodMs: optionalMs(c.readinessPeriod) ?? DEFAULT_PUSH_TIMING.readinessPeriodMs * timeScale,
      failureThreshold: c.failureThreshold ?? DEFAULT_PUSH_TIMING.failureThreshold,
      successThreshold: c.successThreshold ?? DEFAULT_PUSH_TIMING.successThreshold,
      debounceMs: optionalMs(c.debounce) ?? DEFAULT_PUSH_TIMING.debounceMs * timeScale,
    },
    faults: spec.faults.map(timedFault),
  };
}

function timedFault(f: Fault): TimedFault {
  const durationMs = 'duration' in f ? optionalMs(f.duration) : undefined;
  return {
    ...f,
    atMs: parseDurationMs(f.at),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(f.action === 'latency' ? { delayMs: parseDurationMs(f.delay) } : {}),
  };
}

/** What manifest.json records: the values the run used, after the time scale and the floors. */
export function effectiveTiming(t: RunTiming): EffectiveTiming {
  return {
    scrape: t.scrape,
    fileFlushIntervalMs: t.fileFlushIntervalMs,
    requestTimeoutMs: t.requestTimeoutMs,
    wanDelayMs: t.wanDelayMs,
    push: t.push,
    faults: t.faults.map((f) => ({
      action: f.action,
      target: f.target,
      atMs: f.atMs,
      ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}),
      ...(f.delayMs !== undefined ? { delayMs: f.delayMs } : {}),
    })),
  };
}
