/**
 * Limits a valid-looking experiment must still respect, checked before anything starts: each one would
 * otherwise surface later as an Envoy that refuses its flags, a timer that overflows (Node fires a
 * setTimeout of more than 2^31-1 ms at once), a workload that crashes on start, or a fault aimed at
 * nothing. Problems carry a path; the loader adds the line.
 */
import type { ProblemDetail } from '../errors.ts';
import { didYouMean } from './did-you-mean.ts';
import { parseDurationMs } from '../util/duration.ts';
import type { Experiment } from './schema.ts';
import { clientsOf } from './clients.ts';
import { normaliseTopology, type MeshTopology } from './topology.ts';

export type PathProblem = Omit<ProblemDetail, 'path'> & { path: Array<string | number> };

/** Newest Istio release whose translation is modelled (src/mesh/istio-version.ts CURRENT_ISTIO). */
const NEWEST_ISTIO_MINOR = 29;
/** Istio's Envoy admin port; the local backend gives every pod one (src/runner/backends/local-addresses.ts). */
const ADMIN_PORT = 15000;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Limit {
  /** Smallest allowed, in ms, and whether equal is allowed. */
  min: number;
  minInclusive: boolean;
  max: number;
  why: string;
}

const MS = (ms: number) => (ms >= HOUR ? `${ms / HOUR}h` : ms >= 60_000 ? `${ms / 60_000}m` : ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`);

function durationLimit(out: PathProblem[], p: Array<string | number>, text: string | undefined, l: Limit): void {
  if (text === undefined) return;
  const ms = parseDurationMs(text);
  const low = l.minInclusive ? ms < l.min : ms <= l.min;
  if (!low && ms <= l.max) return;
  const lo = l.minInclusive ? `at least ${MS(l.min)}` : `more than ${MS(l.min)}`;
  out.push({
    path: p,
    message: low ? `${l.minInclusive ? 'too short' : 'must be more than ' + MS(l.min)}: ${l.why}` : `too long: ${l.why}`,
    expected: `a duration ${lo} and at most ${MS(l.max)}`,
    found: JSON.stringify(text),
    fix: low ? `use e.g. ${MS(Math.max(l.min, 1) * 10)}` : `use at most ${MS(l.max)}`,
  });
}

function intLimit(out: PathProblem[], p: Array<string | number>, n: number | undefined, max: number, why: string): void {
  if (n === undefined || n <= max) return;
  out.push({ path: p, message: `too large: ${why}`, expected: `a whole number <= ${max}`, found: String(n), fix: `use a value <= ${max}` });
}

export function checkLimits(spec: Experiment): PathProblem[] {
  const out: PathProblem[] = [];
  const [major, minor] = spec.istio.version.split('.').map(Number);
  if (major === 1 && minor > NEWEST_ISTIO_MINOR) {
    out.push({
      path: ['istio', 'version'],
      message: `Istio ${spec.istio.version} is newer than the newest release whose translation this harness models (1.${NEWEST_ISTIO_MINOR})`,
      expected: `1.0 to 1.${NEWEST_ISTIO_MINOR}`,
      found: JSON.stringify(spec.istio.version),
      fix: `use istio.version "1.${NEWEST_ISTIO_MINOR}" (and check the release notes of the newer one for translation changes)`,
    });
  }
  durationLimit(out, ['topology', 'wanDelay'], spec.topology.wanDelay, {
    min: 0,
    minInclusive: true,
    max: 60_000,
    why: 'a one-way WAN delay is milliseconds, at most seconds',
  });
  for (const c of clientsOf(spec))
    durationLimit(out, [...c.loadAt, 'requestTimeout'], c.load.requestTimeout, {
      min: 0,
      minInclusive: false,
      max: HOUR,
      why: 'a request needs time to complete, and the driver waits for it at the end',
    });
  durationLimit(out, ['scrape', 'interval'], spec.scrape.interval, {
    min: 0,
    minInclusive: false,
    max: 60_000,
    why: 'telemetry is scraped at this period during the run',
  });
  durationLimit(out, ['scrape', 'clustersInterval'], spec.scrape.clustersInterval, {
    min: 0,
    minInclusive: false,
    max: 60_000,
    why: '/clusters is polled at this period during the run',
  });
  const flush = spec.envoy.fileFlushInterval;
  durationLimit(out, ['envoy', 'fileFlushInterval'], flush, {
    min: 1,
    minInclusive: true,
    max: 60_000,
    why: "Envoy's --file-flush-interval-msec is a whole number of milliseconds > 0",
  });
  if (parseDurationMs(flush) >= 1 && !Number.isInteger(parseDurationMs(flush))) {
    out.push({
      path: ['envoy', 'fileFlushInterval'],
      message: "not a whole number of milliseconds (Envoy's --file-flush-interval-msec)",
      expected: 'whole milliseconds, e.g. 100ms',
      found: JSON.stringify(flush),
      fix: `use ${Math.round(parseDurationMs(flush))}ms`,
    });
  }
  intLimit(out, ['envoy', 'concurrency'], spec.envoy.concurrency, 64, 'Envoy starts this many worker threads in each of the five proxies');
  intLimit(out, ['seed'], spec.seed, 4294967295, 'seeds are 32-bit');
  for (const [name, s] of Object.entries(spec.services)) checkService(out, name, s);
  checkGateway(out, spec);
  checkEnv(out, spec);
  checkFaults(out, spec);
  return out;
}

function checkService(out: PathProblem[], name: string, s: Experiment['services'][string]): void {
  const at = ['services', name, 'capacity'];
  intLimit(out, [...at, 'concurrency'], s.capacity.concurrency, 100_000, 'each slot is a request held in the service process');
  intLimit(out, [...at, 'queue'], s.capacity.queue, 1_000_000, 'each queued request is held in the service process');
  const st = s.capacity.serviceTime;
  const svc = { min: 0, minInclusive: false, max: HOUR, why: 'a service time is what one request costs' };
  if (st.distribution === 'fixed') durationLimit(out, [...at, 'serviceTime', 'value'], st.value, { ...svc, minInclusive: true });
  if (st.distribution === 'exponential') durationLimit(out, [...at, 'serviceTime', 'mean'], st.mean, svc);
  if (st.distribution === 'lognormal') {
    durationLimit(out, [...at, 'serviceTime', 'median'], st.median, { ...svc, why: 'a lognormal has no median of 0' });
    durationLimit(out, [...at, 'serviceTime', 'p99'], st.p99, svc);
    if (parseDurationMs(st.p99) < parseDurationMs(st.median)) {
      out.push({
        path: [...at, 'serviceTime', 'p99'],
        message: 'the 99th percentile is below the median',
        expected: `p99 >= median (${st.median})`,
        found: JSON.stringify(st.p99),
        fix: 'swap the two values, or raise p99',
      });
    }
  }
}

function checkGateway(out: PathProblem[], spec: Experiment): void {
  if (!spec.gateway) return;
  const port = spec.gateway.port;
  if (port === ADMIN_PORT) {
    out.push({
      path: ['gateway', 'port'],
      message: `port ${ADMIN_PORT} is the gateway Envoy's own admin port (Istio's convention), so the gateway could not listen on it`,
      expected: `a port other than ${ADMIN_PORT}; Istio's east-west gateway uses 15443`,
      found: String(port),
      fix: 'use gateway.port: 15443',
    });
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (port < 1024 && !root) {
    out.push({
      path: ['gateway', 'port'],
      message: 'ports below 1024 need root to listen on',
      expected: 'a port from 1024 to 65535',
      found: String(port),
      fix: 'use gateway.port: 15443',
    });
  }
}

function checkEnv(out: PathProblem[], spec: Experiment): void {
  for (const c of clientsOf(spec)) checkEnvOf(out, c.load.env, c.loadAt);
}

function checkEnvOf(out: PathProblem[], env: Record<string, string>, at: string[]): void {
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      out.push({
        path: [...at, 'env', k],
        message: 'not an environment variable name (the script reads it as __ENV.NAME, k6 gets it as -e NAME=value)',
        expected: 'letters, digits and "_", not starting with a digit',
        found: JSON.stringify(k),
        fix: 'rename it, e.g. PEAK_RATE',
      });
    }
    if (v.includes('\0'))
      out.push({
        path: [...at, 'env', k],
        message: 'an environment value cannot hold a NUL character',
        found: JSON.stringify(v),
        fix: 'remove the NUL character',
      });
  }
}

/**
 * What a fault can name: the processes the local backend starts (runner/backends/local.ts: client,
 * gateways, each pod and its sidecar), each pod's instance name (a-0) and each service (all its pods).
 */
export function faultTargets(spec: Experiment): { processes: string[]; services: string[]; pods: string[] } {
  const services = Object.keys(spec.services);
  let topo: MeshTopology | undefined;
  try {
    topo = normaliseTopology(spec);
  } catch {
    // An inconsistent topology is reported by the cross-checks; the names below are the study's.
  }
  if (!topo) {
    const processes = ['client', 'gateway', ...services.flatMap((s) => [s.toLowerCase(), `${s.toLowerCase()}-sidecar`])];
    return { processes, services, pods: [] };
  }
  const gateways = topo.gateways.map((g) => g.name);
  const procs = topo.pods.flatMap((p) => [p.proc, `${p.proc}-sidecar`]);
  const pods = [...new Set(topo.pods.flatMap((p) => [p.proc, p.instance]))];
  return { processes: [...new Set(['client', ...gateways, ...procs])], services, pods };
}

/** kill/stall name a process (or a pod, a service: its first pod); the app's faults a service or a pod; apply names istiod. */
function namesFor(action: string, t: ReturnType<typeof faultTargets>): string[] {
  if (action === 'apply') return ['istiod'];
  if (action === 'kill' || action === 'stall') return [...new Set([...t.processes, ...t.pods])];
  if (action === 'scale' || action === 'service-fault') return t.services;
  return [...t.services, ...t.pods];
}

function checkFaults(out: PathProblem[], spec: Experiment): void {
  const targets = faultTargets(spec);
  spec.faults.forEach((f, i) => {
    const at = ['faults', i];
    durationLimit(out, [...at, 'at'], f.at, { min: 0, minInclusive: true, max: DAY, why: 'a fault fires this long after the load starts' });
    if ('duration' in f)
      durationLimit(out, [...at, 'duration'], f.duration, { min: 0, minInclusive: false, max: DAY, why: 'the fault lasts this long' });
    const names = namesFor(f.action, targets);
    if (!names.some((n) => n.toLowerCase() === f.target.toLowerCase())) {
      const guess = didYouMean(f.target, names);
      out.push({
        path: [...at, 'target'],
        message:
          f.action === 'service-fault' || f.action === 'scale'
            ? `"${f.target}" is not a service of the experiment`
            : f.action === 'kill' || f.action === 'stall'
              ? `"${f.target}" is not a process of the run`
              : `"${f.target}" is not a service or pod of the run`,
        expected: `one of ${names.join(', ')}`,
        found: JSON.stringify(f.target),
        fix: guess ? `did you mean "${guess}"?` : `name one of ${names.join(', ')}`,
      });
    }
  });
}
