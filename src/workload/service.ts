/**
 * One service instance (A or B): plain HTTP on a loopback address, answering through the capacity
 * model, with its own /metrics, /healthz and a fault switch that tests and the `faults:` feature use.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SpilloverError } from '../errors.ts';
import { INSTANCE_HEADER, SERVICE_HEADER } from '../contracts/headers.ts';
import { CapacityModel } from './capacity.ts';
import { effectiveSeed, parseServiceConfig, type ServiceConfigInput } from './config.ts';
import { isShadowRequest, createServiceMetrics } from './metrics.ts';
import { serviceTimeSampler } from './service-time.ts';
import { FaultSwitch, type ServiceFault } from './fault-switch.ts';
import { faultControl } from './fault-control.ts';

export const FAULT_PATH = '/_spillover/fault';
export { CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER } from './control-token.ts';

export { ServiceFaultSpec, type ServiceFault } from './fault-switch.ts';

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
  const stalled = new Set<Job>();
  const m = createServiceMetrics(config.name, config.instance, {
    inFlight: () => model.inFlight,
    queued: () => model.queued,
    stalled: () => stalled.size,
  });
  const reply = replier({ [SERVICE_HEADER]: config.name, [INSTANCE_HEADER]: config.instance });
  const timers = new Set<NodeJS.Timeout>();
  const admit = admitter(config, model, m, reply, timers);
  const faults = new FaultSwitch((f) => {
    if (f.mode === 'stall') return;
    const release = [...stalled];
    stalled.clear();
    for (const job of release) if (!job.res.destroyed) admit(job);
  });

  const work = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    if (isShadowRequest(req.headers)) m.countShadow();
    const v = faults.verdict();
    if (v.kind === 'status' || v.kind === 'reset') m.requests.labels('fault').inc();
    if (v.kind === 'status') return reply(res, v.status, 'fault\n');
    if (v.kind === 'reset') return req.socket.destroy();
    const job: Job = { res, started: false };
    if (v.kind === 'delay') {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) admit(job);
      }, v.ms);
      timers.add(t);
    } else if (v.kind === 'stall') {
      stalled.add(job);
      res.once('close', () => void (job.started || stalled.delete(job)));
    } else admit(job);
  };

  const control = faultControl(opts.controlToken, (f) => faults.set(f), reply);
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?', 1)[0];
    if (path === '/healthz') return reply(res, 200, 'ok\n');
    if (path === '/metrics') {
      return void m.registry.metrics().then(
        (text) => reply(res, 200, text, m.registry.contentType),
        (e) => reply(res, 500, String(e)),
      );
    }
    if (path === FAULT_PATH && req.method === 'POST') return control(req, res);
    work(req, res);
  });
  const { url, port } = await listen(server, config.listen);
  return {
    url,
    address: { ip: config.listen.ip, port },
    setFault: (f) => faults.set(f),
    metrics: () => m.registry.metrics(),
    close: async () => {
      faults.clear();
      for (const t of timers) clearTimeout(t);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

type Reply = (res: http.ServerResponse, status: number, body: Buffer | string, type?: string) => void;

/** Every answer names the service and instance that gave it (the analysis reads these headers). */
function replier(identity: Record<string, string>): Reply {
  return (res, status, body, type = 'text/plain') => {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { ...identity, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/** Admission through the capacity model: run now, queue, or refuse with 503 when the queue is full. */
function admitter(
  config: ReturnType<typeof parseServiceConfig>,
  model: CapacityModel<Job>,
  m: ReturnType<typeof createServiceMetrics>,
  reply: Reply,
  timers: Set<NodeJS.Timeout>,
): (job: Job) => void {
  const sample = serviceTimeSampler(config.capacity.serviceTime, effectiveSeed(config));
  const okBody = Buffer.from(JSON.stringify({ service: config.name, instance: config.instance }) + '\n');
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
  return (job) => {
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
}

async function listen(server: http.Server, at: { ip: string; port: number }): Promise<{ url: string; port: number }> {
  // Envoy keeps upstream connections for up to an hour; a server closing idle ones first races with
  // reuse and shows up as spurious resets, so idle connections stay open, and stalls are not cut short.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.listen(at.port, at.ip);
  // events.once rejects on 'error' while waiting for 'listening', which is how a taken address shows up.
  await once(server, 'listening').catch((e: NodeJS.ErrnoException) => Promise.reject(listenError(e, at)));
  const { port } = server.address() as AddressInfo;
  const host = at.ip.includes(':') ? `[${at.ip}]` : at.ip;
  return { url: `http://${host}:${port}`, port };
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
