/**
 * The undici dispatch handler of one request the fast path sends: keeps the identity headers and
 * reports the end exactly once to its listener (the driver, driver-core.ts).
 *
 * It implements undici's own (v7 "legacy") hooks, which its Client calls directly: the newer
 * onRequestStart/onResponseStart form goes through a wrapper that allocates a controller and decodes
 * every header and trailer into an object for each request — measurable at tens of thousands per second.
 * One is allocated per request: its fields are the record's, set in the constructor or once by a hook.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from 'undici';
import type { Iteration } from './scenario-run.ts';

/** Who hears of the request's end. */
export interface ResponseListener {
  /** Called exactly once per request: status 0 and `err` set when there was no complete response. */
  requestDone(h: RequestHandler, endMs: number, status: number, err: unknown): void;
}

/** Response headers the record keeps, by the length of their lower-case name (the only ones decoded). */
const KEPT_HEADERS = new Map<number, string[]>();
for (const h of [
  'x-spillover-service',
  'x-spillover-instance',
  'x-envoy-overloaded',
  'x-envoy-ratelimited',
  'x-envoy-immediate-health-check-fail',
]) {
  KEPT_HEADERS.set(h.length, [...(KEPT_HEADERS.get(h.length) ?? []), h]);
}

export class RequestHandler {
  done = false;
  status = 0;
  client?: Client;
  service?: string;
  instance?: string;
  envoy?: string;
  private abort?: (reason: Error) => void;
  private pendingCut?: Error;

  constructor(
    private readonly listener: ResponseListener,
    readonly it: Iteration,
    readonly id: number,
    readonly rid: string,
    readonly sentMs: number,
  ) {}

  cut(reason: Error): void {
    if (this.done) return;
    if (this.abort) this.abort(reason);
    else this.pendingCut = reason;
  }

  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort;
    if (this.pendingCut) abort(this.pendingCut);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const candidates = KEPT_HEADERS.get(rawHeaders[i].length);
      if (!candidates) continue;
      const name = rawHeaders[i].toString('latin1').toLowerCase();
      if (!candidates.includes(name)) continue;
      const value = rawHeaders[i + 1].toString('latin1');
      switch (name) {
        case 'x-spillover-service':
          this.service = this.service === undefined ? value : `${this.service},${value}`;
          break;
        case 'x-spillover-instance':
          this.instance = this.instance === undefined ? value : `${this.instance},${value}`;
          break;
        default: {
          const flag = name === 'x-envoy-overloaded' ? 'overloaded' : name === 'x-envoy-ratelimited' ? 'ratelimited' : 'health-check-fail';
          if (!this.envoy?.split(',').includes(flag)) this.envoy = this.envoy ? `${this.envoy},${flag}` : flag;
        }
      }
    }
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    this.listener.requestDone(this, performance.now(), this.status, undefined);
  }

  onError(error: Error): void {
    if (this.done) return;
    this.done = true;
    // A response cut after its headers still counts as failed: no complete HTTP response.
    this.listener.requestDone(this, performance.now(), 0, error);
  }
}
