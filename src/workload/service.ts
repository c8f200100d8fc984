/**
 * One service instance (A or B): plain HTTP on a loopback address, answering through the capacity
 * model, with its own /metrics, /healthz and a fault switch that tests and the `faults:` feature use.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { SpilloverError } from '../errors.ts';
import { INSTANCE_HEADER, SERVICE_HEADER } from '../contracts/headers.ts';
import { CapacityModel } from './capacity.ts';
import { effectiveSeed, parseServiceConfig, type ServiceConfigInput } from './config.ts';
import { createServiceMetrics } from './metrics.ts';
import { serviceTimeSampler } from './service-time.ts';
import { CONTROL_TOKEN_HEADER } from './control-token.ts';

export const FAULT_PATH = '/_spillover/fault';
export { CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER } from './control-token.ts';

export const ServiceFaultSpec = z.strictObject({
  /**
   * ok: normal; error503: every request gets 503; error: a share (`rate`) gets `code`; reset: (a share
   * of) connections are cut; delay: every request waits `delayMs` first; stall: requests hang.
   */
  mode: z.enum(['ok', 'error503', 'error', 'reset', 'delay', 'stall']),
  /** After this long the service returns to ok (stalled requests then proceed); absent = until changed. */
  durationMs: z.number().nonnegative().optional(),
  code: z.number().int().min(500).max(599).optional(),
  /** Share of requests affected (error, reset); default 1. */
  rate: z.number().min(0).max(1).optional(),
  delayMs: z.number().nonnegative().optional(),
});
export type ServiceFault = z.infer<typeof ServiceFaultSpec>;

export interface RunningService {
  url: string;
  address: { ip: string; port: number };
  setFault(fault: ServiceFault): void;
  close(): Promise<void>;
  metrics(): Promise<string>;
}

interface Job {
  res: http.ServerResponse;
  started: boolean;
}

export async function startService(
  input: ServiceConfigInput | unknown,
  source?: string,
  opts: { controlToken?: string } = {},
): Promise<RunningService> {
  const config = parseServiceConfig(input, source);
  const model = new CapacityModel<Job>(config.capacity.concurrency, config.capacity.queue);
  const sample = serviceTimeSampler(config.capacity.serviceTime, effectiveSeed(config));
  let stalled: Job[] = [];
  const m = createServiceMetrics(config.name, config.instance, {
    inFlight: () => model.inFlight,
    queued: () => model.queued,
    stalled: () => stalled.length,
  });
  const identity = { [SERVICE_HEADER]: config.name, [INSTANCE_HEADER]: config.instance };
  const okBody = Buffer.from(JSON.stringify({ service: config.name, instance: config.instance }) + '\n');
  const timers = new Set<NodeJS.Timeout>();

  let fault: ServiceFault['mode'] = 'ok';
  let faultSpec: ServiceFault = { mode: 'ok' };
  let faultTimer: NodeJS.Timeout | undefined;
  // A rate is applied evenly, not randomly: every request adds `rate`, each whole unit is one fault,
  // so 0.25 faults exactly every fourth request and runs with the same seed stay comparable.
  let faultCredit = 0;
  const faultDue = () => {
    faultCredit += faultSpec.rate ?? 1;
    if (faultCredit < 1 - 1e-9) return false;
    faultCredit -= 1;
    return true;
  };

  const reply = (res: http.ServerResponse, status: number, body: Buffer | string, type = 'text/plain') => {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { ...identity, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  // A client that gives up mid-request does not free the slot early: the work was already under way,
  // as in a real server, so an impatient caller cannot make the service look faster than it is.
  const run = (job: Job) => {
    job.started = true;
    const ms = sample();
    const t = setTimeout(() => {
      timers.delete(t);
      m.serviceTime.observe(ms / 1000);
      m.requests.labels('served').inc();
      reply(job.res, 200, okBody, 'application/json');
      const next = model.done();
      if (next) run(next);
    }, ms);
    timers.add(t);
  };

  const admit = (job: Job) => {
    const verdict = model.offer(job);
    if (verdict === 'run') return run(job);
    if (verdict === 'rejected') {
      m.requests.labels('rejected').inc();
      return reply(job.res, 503, 'overloaded\n');
    }
    job.res.once('close', () => {
      if (!job.started) model.cancel(job);
    });
  };

  const setFault = (f: ServiceFault) => {
    clearTimeout(faultTimer);
    fault = f.mode;
    faultSpec = f;
    faultCredit = 0;
    if (f.mode !== 'ok' && f.durationMs !== undefined) faultTimer = setTimeout(() => setFault({ mode: 'ok' }), f.durationMs);
    if (f.mode !== 'stall') {
      const release = stalled;
      stalled = [];
      for (const job of release) if (!job.res.destroyed) admit(job);
    }
  };

  const work = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    if (fault === 'error503') {
      m.requests.labels('fault').inc();
      return reply(res, 503, 'fault\n');
    }
    if (fault === 'error' && faultDue()) {
      m.requests.labels('fault').inc();
      return reply(res, faultSpec.code ?? 503, 'fault\n');
    }
    if (fault === 'reset' && faultDue()) {
      m.requests.labels('fault').inc();
      return req.socket.destroy();
    }
    const job: Job = { res, started: false };
    if (fault === 'delay' && (faultSpec.delayMs ?? 0) > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) admit(job);
      }, faultSpec.delayMs);
      timers.add(t);
      return;
    }
    if (fault === 'stall') {
      stalled.push(job);
      res.once('close', () => {
        if (!job.started) stalled = stalled.filter((j) => j !== job);
      });
      return;
    }
    admit(job);
  };

  // Without a token (a service started by hand, or in a pod of the kube backend) the endpoint stays open.
  const expected = opts.controlToken === undefined ? undefined : Buffer.from(opts.controlToken);
  const controlAllowed = (req: http.IncomingMessage) => {
    if (!expected) return true;
    const got = Buffer.from(String(req.headers[CONTROL_TOKEN_HEADER] ?? ''));
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  };
  const control = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    let parsed: ReturnType<typeof ServiceFaultSpec.safeParse>;
    try {
      parsed = ServiceFaultSpec.safeParse(JSON.parse(body));
    } catch {
      return reply(res, 400, 'expected a JSON body like {"mode":"error503","durationMs":2000}\n');
    }
    if (!parsed.success) return reply(res, 400, `${z.prettifyError(parsed.error)}\n`);
    setFault(parsed.data);
    reply(res, 200, JSON.stringify({ fault: parsed.data }) + '\n', 'application/json');
  };

  const server = http.createServer((req, res) => {
    const path = req.url?.split('?', 1)[0];
    if (path === '/healthz') return reply(res, 200, 'ok\n');
    if (path === '/metrics') {
      return void m.registry.metrics().then(
        (text) => reply(res, 200, text, m.registry.contentType),
        (e) => reply(res, 500, String(e)),
      );
    }
    if (path === FAULT_PATH && req.method === 'POST') {
      if (!controlAllowed(req)) return void reply(res, 403, 'forbidden: the fault-control endpoint answers only the harness of this run\n');
      return void control(req, res).catch((e) => reply(res, 500, String(e)));
    }
    work(req, res);
  });
  // Envoy keeps upstream connections for up to an hour; a server closing idle ones first races with
  // reuse and shows up as spurious resets, so idle connections stay open, and stalls are not cut short.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  server.listen(config.listen.port, config.listen.ip);
  // events.once rejects on 'error' while waiting for 'listening', which is how a taken address shows up.
  await once(server, 'listening').catch((e: NodeJS.ErrnoException) => Promise.reject(listenError(e, config.listen)));
  const { port } = server.address() as AddressInfo;
  const host = config.listen.ip.includes(':') ? `[${config.listen.ip}]` : config.listen.ip;

  return {
    url: `http://${host}:${port}`,
    address: { ip: config.listen.ip, port },
    setFault,
    metrics: () => m.registry.metrics(),
    close: async () => {
      clearTimeout(faultTimer);
      for (const t of timers) clearTimeout(t);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function listenError(e: NodeJS.ErrnoException, at: { ip: string; port: number }): Error {
  if (e.code !== 'EADDRINUSE' && e.code !== 'EADDRNOTAVAIL') return e;
  return new SpilloverError(
    {
      path: 'listen',
      message: `service cannot listen on ${at.ip}:${at.port} (${e.code})`,
      found: e.code === 'EADDRINUSE' ? 'the address is taken by another process' : 'the address is not on this machine',
      fix:
        e.code === 'EADDRINUSE'
          ? `see who holds it (ss -ltnp | grep ${at.ip}:${at.port}); a run kept with --keep is ended by \`spillover cleanup\``
          : 'use a loopback address (127.0.0.0/8)',
    },
    1,
  );
}
