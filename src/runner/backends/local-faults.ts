/**
 * Faults on the local backend: signals to processes (kill, stall), Envoy's drain on a pod's sidecar,
 * and per-instance misbehaviour of the app (HTTP errors at a rate, added latency, resets) through
 * its fault switch. A target names a process (a, a-0-sidecar, gateway), an instance (a-0) or a
 * service (A: every replica).
 */
import { SpilloverError } from '../../errors.ts';
import type { TimedFault } from '../../experiment/normalise.ts';
import type { Supervisor } from '../../process/processes.ts';
import { CONTROL_TOKEN_HEADER } from '../../workload/control-token.ts';
import { PORTS } from './local-addresses.ts';

export interface FaultPod {
  /** Experiment-level service name. */
  name: string;
  proc: string;
  instance: string;
  /** The pod's loopback address (app, sidecar admin and inbound). */
  pod: string;
}

/** The pods a target names: a process/instance name picks one, a service name all its replicas. */
export function podsOf(target: string, pods: FaultPod[]): FaultPod[] {
  const t = target.toLowerCase();
  const one = pods.filter((p) => p.proc === t || p.instance === t || `${p.proc}-sidecar` === t);
  return one.length ? one : pods.filter((p) => p.name.toLowerCase() === t);
}

async function post(url: string, body?: unknown, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  await res.text();
  if (!res.ok) throw new Error(`${url} refused: ${res.status}`);
}

/** What the app's fault switch gets for a fault, or undefined when the fault is not the app's. */
function appFault(f: TimedFault): Record<string, unknown> | undefined {
  const durationMs = f.durationMs;
  switch (f.action) {
    case 'service-fault':
      return { mode: f.mode, durationMs };
    case 'http-error':
      return { mode: 'error', code: f.code, rate: f.rate, durationMs };
    case 'latency':
      return { mode: 'delay', delayMs: f.delayMs, durationMs };
    case 'reset':
      return { mode: 'reset', rate: f.rate, durationMs };
    default:
      return undefined;
  }
}

/** `controlToken`: the run's secret for the apps' fault switch (workload/control-token.ts). */
export async function injectLocalFault(f: TimedFault, sup: Supervisor, pods: FaultPod[], controlToken: string): Promise<void> {
  const notAProcess = () =>
    new SpilloverError({
      message: `fault target "${f.target}" is not a process of this run`,
      expected: sup
        .list()
        .map((p) => p.name)
        .join(', '),
    });
  if (f.action === 'kill' || f.action === 'stall') {
    const proc = sup.find(f.target) ?? sup.find(f.target.toLowerCase()) ?? sup.find(podsOf(f.target, pods)[0]?.proc ?? '');
    if (!proc) throw notAProcess();
    if (f.action === 'kill') {
      proc.stopping = true; // an injected kill is not a crash
      process.kill(-proc.pid, f.signal);
      return;
    }
    // SIGSTOP freezes every socket of the process: its admin endpoint stalls along with its traffic.
    process.kill(-proc.pid, 'SIGSTOP');
    setTimeout(() => {
      try {
        process.kill(-proc.pid, 'SIGCONT');
      } catch {
        /* ended meanwhile */
      }
    }, f.durationMs).unref();
    return;
  }
  const targets = podsOf(f.target, pods);
  if (!targets.length)
    throw new SpilloverError({
      message: `fault target "${f.target}" is not a service, instance or pod of this run`,
      expected: [...new Set(pods.flatMap((p) => [p.name, p.instance]))].join(', '),
    });
  if (f.action === 'drain') {
    // What `kubectl exec ... curl -X POST localhost:15000/drain_listeners` does in Istio's failover task:
    // the sidecar's inbound listener closes at once (no ?graceful), so new connections are refused.
    await Promise.all(targets.map((p) => post(`http://${p.pod}:${PORTS.admin}/drain_listeners?inboundonly`)));
    return;
  }
  const body = appFault(f);
  if (!body)
    throw new SpilloverError({ message: `fault action "${(f as { action: string }).action}" is not supported by the local backend` });
  await Promise.all(
    targets.map((p) => post(`http://${p.pod}:${PORTS.app}/_spillover/fault`, body, { [CONTROL_TOKEN_HEADER]: controlToken })),
  );
}
