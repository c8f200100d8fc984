/**
 * A rehearsal of the script before scenario time zero (prewarmVuRun, on the driver thread): a few
 * throwaway VUs run the scenarios' exec functions for a fraction of a second against a private loopback
 * server, so V8 has compiled the script and the whole request path (transform output, k6-http,
 * samples, record) before the first due iteration; and the origins the script asked for are noted, so
 * the run can open its connections to them before t0 (preconnect.ts), as the fast path does.
 *
 * Why (measured, bench/vu-compare.ts, see the note): without it the first second of a 2000/s run had
 * iterations of 120-200 ms (cold code plus a handshake per VU) and dropped hundreds of iterations,
 * while seconds 3 and 4 ran at 0.5 ms. The real VUs are not the ones rehearsed: k6 VUs start from their
 * init context, so module state, __ITER and VU tags must not carry over; the rehearsal VUs share
 * the compiled code (one module function for the whole context), which is what the warm-up is for.
 * Nothing reaches the target: requests go to the private server, samples to a store that is dropped,
 * console output is muted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricStore } from './metric-store.ts';
import { sharedTransport } from './http-send.ts';
import type { VuRuntime } from './runtime.ts';
import type { VuHost } from './vu-state.ts';

export interface RehearsalOptions {
  execs: string[];
  env: Record<string, string>;
  vus: number;
  ms: number;
}

async function privateServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'x-spillover-service': 'rehearsal' });
    res.end('ok\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Runs the rehearsal; returns the origins (protocol//host) the script's requests named. */
export async function rehearseVus(rt: VuRuntime, o: RehearsalOptions): Promise<string[]> {
  const host = rt.realmHost as VuHost;
  const saved: Pick<VuHost, 'store' | 'record' | 'resolve' | 'log'> = {
    store: host.store,
    record: host.record,
    resolve: host.resolve,
    log: host.log,
  };
  const seen = new Set<string>();
  const server = await privateServer();
  host.store = new MetricStore();
  host.record = () => undefined;
  host.log = () => undefined;
  host.resolve = async (url: URL) => {
    seen.add(`${url.protocol}//${url.host}`);
    return { origin: server.origin };
  };
  const until = performance.now() + o.ms;
  const one = async (i: number) => {
    const vu = await rt.init(rt.newState(i + 1, { ...o.env }));
    const stop = setTimeout(() => vu.state.interrupt.abort('rehearsal over'), Math.max(1, until - performance.now()));
    for (let n = 0; performance.now() < until && !vu.state.interrupt.signal.aborted; n++) {
      const fn = vu.exports[o.execs[n % o.execs.length]];
      if (typeof fn !== 'function') break;
      vu.state.iter = n;
      vu.state.jar.clearAll();
      try {
        await (fn as (d: unknown) => unknown).call(undefined, undefined);
      } catch {
        // The script's own errors (no setup() data here) and the interruption at the end: not reported.
      }
    }
    clearTimeout(stop);
  };
  try {
    await Promise.all(Array.from({ length: o.vus }, (_, i) => one(i)));
  } finally {
    Object.assign(host, saved);
    await sharedTransport().closeOrigin(server.origin);
    await server.close();
  }
  return [...seen];
}
