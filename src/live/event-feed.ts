/**
 * Live events: the report's own detection (analysis/analyze.ts detectRunEvents) run on the part of a
 * run recorded so far, printing each event once. An event is identified by kind + time + subject;
 * it is released only when no later data can still change it, so the lines printed while the run goes
 * are the lines the report lists afterwards:
 *
 * - an ejection or return read from Envoy's outlier event log, and a harness event (phase, fault), is
 *   exact as soon as it is read: released at once;
 * - anything whose time is the earliest of several sources (overflow: access log, scrape, driver;
 *   no healthy upstream; a /clusters ejection standing in for a log not yet flushed) waits for the
 *   slowest source's lag (Envoy's file flush + one scrape interval + the driver's batch);
 * - redirect onset/end and recovery come from sliding windows over the requests, which need the
 *   window to be over and the requests in flight to have ended.
 */
import { detectRunEvents } from '../analysis/analyze.ts';
import type { DetectedEvent } from '../analysis/events.ts';
import type { LiveRawRun } from './live-raw.ts';

export interface LiveEvent extends DetectedEvent {
  /** kind|t|envoy|host|service|source (|detail for harness events): printed once per id. */
  id: string;
  /** Run seconds at which it was released. */
  liveAt: number;
  /** Offered load taken from the last second the driver has reported (the event's own second is not over yet). */
  offeredFromLastTick?: boolean;
  /** Overflow only: the limits whose Envoy counter had risen at that Envoy (mesh-metrics.ts labels). */
  limits?: string[];
}

export interface FeedOptions {
  /** How late the slowest file source can show something: flush interval + scrape interval + margin, s. */
  lagS: number;
  /** The analysis' sliding window (ANALYZE_DEFAULTS.windowS unless overridden). */
  windowS?: number;
  /** How long a request may still be in flight and missing from requests.ndjson, s. */
  requestLagS?: number;
}

// The source is part of the subject: one Envoy can have a scrape gap and a /clusters gap at one instant.
export const eventId = (e: DetectedEvent) =>
  [e.kind, e.t.toFixed(3), e.envoy, e.host, e.service, e.source, e.kind === 'run' ? e.detail : ''].join('|');

export function settleAfterS(e: DetectedEvent, o: FeedOptions): number {
  if (e.kind === 'run') return 0;
  if (e.source === 'outlier-log') return 0;
  if (e.source === 'requests') return (o.windowS ?? 1) + o.lagS + (o.requestLagS ?? 1);
  return o.lagS;
}

export class LiveEventFeed {
  private readonly released = new Set<string>();

  constructor(
    private readonly raw: LiveRawRun,
    private readonly opts: FeedOptions,
  ) {}

  /**
   * Events settled by run time `now` and not released before. `final` (the run is over and every
   * file read to its end) releases everything still held back.
   */
  poll(now: number, final = false): LiveEvent[] {
    const { events } = detectRunEvents(this.raw.snapshot(), this.opts.windowS ? { windowS: this.opts.windowS } : {});
    const out: LiveEvent[] = [];
    for (const e of events) {
      if (!final && now - e.t < settleAfterS(e, this.opts)) continue;
      const id = eventId(e);
      if (this.released.has(id)) continue;
      this.released.add(id);
      const offered = e.t > this.raw.lastTickT ? this.raw.lastOffered() : null;
      out.push({
        ...e,
        ...(offered !== null ? { offeredRps: offered, offeredFromLastTick: true } : {}),
        id,
        liveAt: Math.round(now * 1000) / 1000,
      });
    }
    return out;
  }
}
