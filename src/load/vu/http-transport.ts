/**
 * The VU runtime's HTTP transport: undici's dispatcher API through the fast path's OriginConnections
 * (connections.ts: one keep-alive connection per request in flight, reused last-in first-out, so a VU
 * keeps its connection as in k6), with undici's legacy handler hooks.
 *
 * Why not `Agent.request()` (what this runtime used first): measured with a CPU profile of a VU run at
 * 2000/s against nginx (see /work/notes/h13perf.md), `Agent.request` builds a Readable body stream,
 * an EventEmitter, an AbortSignal listener and a promise chain per request, and its Pool decodes every
 * header into an object; the dispatcher form with our own handler does none of that: body chunks are
 * kept as Buffers and the header list stays raw until a script reads it (response.ts decodes lazily).
 */
import type { Client, Dispatcher } from 'undici';
import { OriginConnections } from '../connections.ts';

export interface RawResponse {
  status: number;
  /** undici's raw list: name, value, name, value … (Buffers). */
  rawHeaders: Buffer[];
  /** Empty when the body was not kept (responseType "none"). */
  body: Buffer;
  bodyBytes: number;
  /** performance.now() when the status line and headers had arrived. */
  headersAt: number;
}

export class TransportError extends Error {
  constructor(
    readonly reason: unknown,
    readonly headersAt: number,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

const EMPTY = Buffer.alloc(0);

/** One request in flight: `done` settles once; `cut()` ends it with an error (timeout, interruption). */
export class InFlight {
  readonly done: Promise<RawResponse>;
  private finished = false;
  private status = 0;
  private rawHeaders: Buffer[] = [];
  private headersAt = 0;
  private bytes = 0;
  private chunks: Buffer[] | undefined;
  private single: Buffer | undefined;
  private abort?: (reason: Error) => void;
  private pendingCut?: Error;
  private resolve!: (r: RawResponse) => void;
  private reject!: (e: TransportError) => void;
  client?: Client;

  constructor(
    private readonly pool: OriginConnections,
    private readonly keepBody: boolean,
    private readonly reconnectOnError = false,
  ) {
    this.done = new Promise<RawResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  cut(reason: Error): void {
    if (this.finished) return;
    if (this.abort) this.abort(reason);
    else this.pendingCut = reason;
  }

  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort;
    if (this.pendingCut) abort(this.pendingCut);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx informational responses come before the real one; keep only the final status and headers.
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    this.headersAt = performance.now();
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (!this.keepBody) return true;
    if (this.single === undefined && this.chunks === undefined) this.single = chunk;
    else {
      this.chunks ??= [this.single!];
      this.single = undefined;
      this.chunks.push(chunk);
    }
    return true;
  }

  onComplete(): void {
    if (this.finished) return;
    this.finished = true;
    // load.reconnectOnError: fortio closes its connection after an error response and dials again.
    if (this.status >= 400 && this.reconnectOnError) this.pool.discard(this.client!);
    else this.pool.release(this.client!);
    const body = this.single ?? (this.chunks ? Buffer.concat(this.chunks) : EMPTY);
    this.resolve({ status: this.status, rawHeaders: this.rawHeaders, body, bodyBytes: this.bytes, headersAt: this.headersAt });
  }

  onError(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    // undici is still failing this connection's queue when it calls back: a request dispatched onto
    // it from here would break its bookkeeping (see driver.ts requestDone), so it is idle a moment later.
    const client = this.client!;
    queueMicrotask(() => this.pool.release(client));
    this.reject(new TransportError(error, this.headersAt));
  }
}

export class VuTransport {
  private readonly pools = new Map<string, OriginConnections>();
  /** Close the connection after an error response instead of keeping it (load.reconnectOnError, as fortio does). */
  reconnectOnError = false;

  constructor(private readonly connectTimeoutMs = 10_000) {}

  private pool(origin: string): OriginConnections {
    let p = this.pools.get(origin);
    if (!p) {
      p = new OriginConnections(origin, this.connectTimeoutMs);
      this.pools.set(origin, p);
    }
    return p;
  }

  /** Opens up to `count` connections to `origin` ahead of the requests (preconnect.ts). */
  preconnect(origin: string, count: number): Promise<number> {
    return this.pool(origin).preconnect(count);
  }

  /** `headers` is undici's flat list (name, value, …). With keepBody false only the body's length is counted. */
  request(origin: string, method: string, path: string, headers: string[], body: string | Buffer | null, keepBody: boolean): InFlight {
    const pool = this.pool(origin);
    const h = new InFlight(pool, keepBody, this.reconnectOnError);
    h.client = pool.dispatch({ path, method: method as Dispatcher.HttpMethod, headers, body }, h as unknown as Dispatcher.DispatchHandler);
    return h;
  }

  /** Ends the connections to one origin (the rehearsal's private server). */
  async closeOrigin(origin: string): Promise<void> {
    const p = this.pools.get(origin);
    this.pools.delete(origin);
    await p?.destroy();
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}
