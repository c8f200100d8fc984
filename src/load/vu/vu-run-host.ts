/**
 * The run-wide host a VU run gives its VUs (vu-state.ts VuHost): k6's HTTP options from the script's
 * options, where a URL connects (the loopback guard, --connect-to, options.hosts; resolved once per
 * origin), k6's log line format, and a host for VUs initialised before the run (prewarmVuRun).
 */
import { resolveTarget } from '../loopback.ts';
import type { DriverOptions } from '../driver-options.ts';
import { MetricStore } from './metric-store.ts';
import type { VuProgram } from './vu-program.ts';
import type { HttpOptions, VuHost } from './vu-state.ts';

/** k6's User-Agent, as k6 v1 sends it (lib/consts): scripts and servers that look at it see k6. */
export const K6_USER_AGENT = 'k6/1.0.0 (https://k6.io/)';

type K6Options = VuProgram['options'];

export function httpOptions(o: K6Options, requestTimeoutMs?: number): HttpOptions {
  return {
    discardResponseBodies: o.discardResponseBodies === true,
    maxRedirects: typeof o.maxRedirects === 'number' ? o.maxRedirects : 10,
    userAgent: typeof o.userAgent === 'string' ? o.userAgent : K6_USER_AGENT,
    throw: o.throw === true,
    timeoutMs: requestTimeoutMs ?? 60_000,
    hosts: (o.hosts ?? {}) as Record<string, string>,
    noCookiesReset: o.noCookiesReset === true,
  };
}

/** `host.resolve`: one lookup per origin (protocol + host), a failed one is retried by the next request. */
export function makeResolver(opts: DriverOptions, prog: VuProgram, hosts: Record<string, string>): VuHost['resolve'] {
  const origins = new Map<string, Promise<{ origin: string }>>();
  let fixed: Promise<{ address: string; port: number }> | undefined;
  if (opts.connectTo) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(opts.connectTo);
    if (m) fixed = resolveTarget(m[1], Number(m[2]), opts.allowNonLoopback ?? false, 'connectTo');
  }
  const lookup = async (url: URL) => {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const mapped = hosts[url.hostname] ?? hosts[`${url.hostname}:${port}`];
    const [h, pp] = mapped
      ? mapped.includes(':') && !mapped.startsWith('[')
        ? [mapped.split(':')[0], Number(mapped.split(':')[1])]
        : [mapped, port]
      : [url.hostname, port];
    const t = fixed
      ? await fixed
      : await resolveTarget(String(h), Number(pp), opts.allowNonLoopback ?? false, `${prog.file} request to ${url.href}`);
    const addr = t.address.includes(':') ? `[${t.address}]` : t.address;
    return { origin: `${url.protocol}//${addr}:${t.port}` };
  };
  return (url: URL) => {
    const key = `${url.protocol}//${url.host}`;
    let p = origins.get(key);
    if (!p) {
      p = lookup(url);
      origins.set(key, p);
      p.catch(() => origins.delete(key));
    }
    return p;
  };
}

/** k6's console line: `INFO[0003] message  source=console`. */
export const k6Logger =
  (t0: () => number): VuHost['log'] =>
  (level, msg) => {
    const el = Math.floor((Date.now() - t0()) / 1000);
    process.stderr.write(
      `${level.toUpperCase().slice(0, 4)}[${String(Math.max(0, el)).padStart(4, '0')}] ${msg}${level === 'info' || level === 'debug' ? '  source=console' : ''}\n`,
    );
  };

/** The host of VUs initialised before the run: no requests, no samples kept; runVuLoad replaces its fields. */
export function idleHost(prog: VuProgram, timeScale?: number): Omit<VuHost, 'realm'> {
  return {
    store: new MetricStore(),
    timeScale,
    runTags: {},
    scriptDir: prog.scriptDir,
    record: () => undefined,
    http: { ...httpOptions({}), discardResponseBodies: false },
    resolve: async () => {
      throw new Error('no requests before the run starts');
    },
    log: (_l: string, m: string) => {
      process.stderr.write(`${m}\n`);
    },
    execution: {
      startMs: Date.now(),
      vusActive: () => 0,
      vusInitialized: () => 0,
      iterationsCompleted: () => 0,
      iterationsInterrupted: () => 0,
      abort: () => undefined,
      options: prog.options,
    },
  };
}
