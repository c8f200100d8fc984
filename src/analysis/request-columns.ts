/**
 * The driver's requests as typed columns: a million-request run costs ~20 MB here instead of a
 * million objects, and every later pass (buckets, percentiles, windows) is a loop over arrays.
 */
import type { RequestRecord } from '../contracts/raw.ts';
import { grown } from './typed-arrays.ts';

/** Destination codes: who served a request. A is the local service, B the remote one. */
export const DEST = { none: 0, A: 1, B: 2, other: 3 } as const;
export const destOfService = (s: string | undefined): number => (!s ? DEST.none : s === 'A' ? DEST.A : s === 'B' ? DEST.B : DEST.other);

/** What the client saw, from the driver's own record (works for k6 imports too). */
export const OUTCOME = { ok: 0, overflow503: 1, upstream5xx: 2, client4xx: 3, transport: 4 } as const;

export function outcomeOf(r: Pick<RequestRecord, 'status' | 'envoy'>): number {
  if (r.status === 0) return OUTCOME.transport;
  if (r.status < 400) return OUTCOME.ok;
  if (r.status < 500) return OUTCOME.client4xx;
  if (r.status === 503 && r.envoy === 'overloaded') return OUTCOME.overflow503;
  return OUTCOME.upstream5xx;
}

export interface RequestColumns {
  n: number;
  sent: Float64Array;
  /** end − intended, in ms: latency free of coordinated omission. */
  latencyMs: Float64Array;
  status: Uint16Array;
  dest: Uint8Array;
  outcome: Uint8Array;
  /** Index into `instanceNames` of the instance that served each request (0: none). */
  instance?: Uint16Array;
  /** Instance names by index; [0] is "" (no x-spillover-instance header). */
  instanceNames?: string[];
  /** sent − intended, in ms: how late the driver sent it (its start lag; a contention signal). */
  lagMs?: Float32Array;
}

export class RequestColumnsBuilder {
  private cap: number;
  private n = 0;
  private sent: Float64Array;
  private lat: Float64Array;
  private status: Uint16Array;
  private dest: Uint8Array;
  private outcome: Uint8Array;
  private inst: Uint16Array;
  private names: string[] = [''];
  private index = new Map<string, number>([['', 0]]);
  private lag: Float32Array;

  constructor(capacityHint = 1024) {
    this.cap = Math.max(16, capacityHint);
    this.sent = new Float64Array(this.cap);
    this.lat = new Float64Array(this.cap);
    this.status = new Uint16Array(this.cap);
    this.dest = new Uint8Array(this.cap);
    this.outcome = new Uint8Array(this.cap);
    this.inst = new Uint16Array(this.cap);
    this.lag = new Float32Array(this.cap);
  }

  add(r: RequestRecord): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.sent[i] = r.sent;
    this.lat[i] = (r.end - r.intended) * 1000;
    this.status[i] = r.status;
    this.dest[i] = destOfService(r.service);
    this.outcome[i] = outcomeOf(r);
    const name = r.instance ?? '';
    let k = this.index.get(name);
    if (k === undefined && this.names.length < 65535) {
      k = this.names.push(name) - 1;
      this.index.set(name, k);
    }
    this.inst[i] = k ?? 0;
    this.lag[i] = (r.sent - r.intended) * 1000;
  }

  private grow(): void {
    this.cap *= 2;
    const g = <T extends Float64Array | Float32Array | Uint16Array | Uint8Array>(a: T): T => grown(a, this.cap);
    this.sent = g(this.sent);
    this.lat = g(this.lat);
    this.status = g(this.status);
    this.dest = g(this.dest);
    this.outcome = g(this.outcome);
    this.inst = g(this.inst);
    this.lag = g(this.lag);
  }

  build(): RequestColumns {
    const n = this.n;
    return {
      n,
      sent: this.sent.subarray(0, n),
      latencyMs: this.lat.subarray(0, n),
      status: this.status.subarray(0, n),
      dest: this.dest.subarray(0, n),
      outcome: this.outcome.subarray(0, n),
      lagMs: this.lag.subarray(0, n),
      instance: this.inst.subarray(0, n),
      instanceNames: [...this.names],
    };
  }
}

export function requestColumns(records: Iterable<RequestRecord>): RequestColumns {
  const b = new RequestColumnsBuilder();
  for (const r of records) b.add(r);
  return b.build();
}
