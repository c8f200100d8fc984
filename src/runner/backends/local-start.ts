/**
 * The local backend's execute step: start every app and every Envoy through the run's Supervisor
 * and wait until each says it is ready (an app's JSON ready line, an Envoy's /ready).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { SpilloverError } from '../../errors.ts';
import type { Experiment } from '../../experiment/schema.ts';
import { clientsOfPlan, gatewaysOf, ingressGatewaysOf, type MeshPlan, type ProxyCommon } from '../../mesh/plan.ts';
import { envoyFile, RAW } from '../../contracts/raw.ts';
import type { ManagedProcess, Supervisor } from '../../process/processes.ts';
import { CONTROL_TOKEN_ENV } from '../../workload/control-token.ts';
import { REPO_ROOT } from '../../util/repo-root.ts';
import { PORTS } from './local-addresses.ts';
import type { LocalPod } from './local-plan.ts';
import { workloadBundle } from './workload-bundle.ts';

const READY_TIMEOUT_MS = 20_000;

export interface StartContext {
  runDir: string;
  spec: Experiment;
  signal: AbortSignal;
}

/** What src/workload/main.ts is given for one pod. */
export function serviceConfig(spec: Experiment, s: LocalPod) {
  return {
    name: s.name,
    instance: s.topo.instance,
    listen: { ip: s.pod, port: PORTS.app },
    capacity: spec.services[s.name].capacity,
    // Each pod gets its own stream of service times, stable across runs with the same seed.
    seed: spec.seed * 1000 + Object.keys(spec.services).indexOf(s.name) + 100 * s.topo.replica,
  };
}

/**
 * Apps and Envoys all at once: a sidecar's inbound cluster is static, so it does not need its app to
 * be up to start, and a Node start-up (~0.7 s of CPU) then overlaps the Envoys'. The load waits for all.
 * Standby pods (a later `scale` fault creates them) are not started here: local-scale.ts does, at the fault's time.
 */
/** The client sidecars a run starts and scrapes: none for an outside client (client.ingress), whose load skips the mesh's sidecars. */
export const runningClients = (spec: Experiment, plan: MeshPlan) => (spec.client.ingress ? [] : clientsOfPlan(plan));

export async function startAll(sup: Supervisor, c: StartContext, plan: MeshPlan, services: LocalPod[], o: StartOptions): Promise<void> {
  const running = services.filter((s) => !s.topo.standby);
  const sidecars = new Set(running.map((s) => s.w.sidecar.name));
  const appsReady = Promise.all(running.map((s) => startApp(sup, c, s, o)));
  const clients = runningClients(c.spec, plan);
  const order = [
    ...plan.workloads.filter((w) => sidecars.has(w.sidecar.name)).map((w) => w.sidecar),
    ...gatewaysOf(plan),
    ...ingressGatewaysOf(plan),
    ...clients,
  ];
  const envoysReady = Promise.all(order.map((px) => startEnvoy(sup, c, plan, px, o)));
  await Promise.all([appsReady, envoysReady]);
}

export interface StartOptions {
  envoyBin: string;
  controlToken: string;
}

/** One pod (what kubelet starts for a created pod): its app and its sidecar, resolved once both are ready. */
export async function startPod(sup: Supervisor, c: StartContext, plan: MeshPlan, s: LocalPod, o: StartOptions): Promise<ManagedProcess[]> {
  return Promise.all([startApp(sup, c, s, o), startEnvoy(sup, c, plan, s.w.sidecar, o)]);
}

async function startApp(sup: Supervisor, c: StartContext, s: LocalPod, o: StartOptions): Promise<ManagedProcess> {
  const cfg = serviceConfig(c.spec, s);
  // src/workload/main.ts, pre-built (workload-bundle.ts): a Node start without tsx's per-process transform.
  const main = await workloadBundle();
  const p = sup.start(s.proc, process.execPath, [main, '--config', JSON.stringify(cfg)], {
    env: { ...process.env, [CONTROL_TOKEN_ENV]: o.controlToken },
    logFile: path.join(c.runDir, RAW.servicesDir, `${s.proc}.log`),
    captureStdout: true,
    cwd: REPO_ROOT,
  });
  await waitReadyLine(p, `service ${s.proc}`, c.signal);
  return p;
}

async function startEnvoy(sup: Supervisor, c: StartContext, plan: MeshPlan, px: ProxyCommon, o: StartOptions): Promise<ManagedProcess> {
  fs.mkdirSync(path.dirname(px.files.accessLog), { recursive: true });
  const p = sup.start(px.name, o.envoyBin, envoyArgs(c, plan, px), { logFile: envoyFile(c.runDir, px.name, 'envoy.log') });
  await waitEnvoyReady(p, `${px.admin.ip}:${px.admin.port}`, c.signal);
  return p;
}

function envoyArgs(c: StartContext, plan: MeshPlan, px: { name: string; cluster: string }): string[] {
  const level = c.spec.envoy.logLevel === 'warning' ? 'warn' : c.spec.envoy.logLevel;
  return [
    ...['-c', path.join(c.runDir, RAW.configDir, `${px.name}.yaml`)],
    ...['--concurrency', String(plan.envoy.concurrency)],
    ...['--file-flush-interval-msec', String(plan.envoy.fileFlushIntervalMs)],
    '--disable-hot-restart',
    ...['--log-level', level],
    ...['--service-node', px.name],
    ...['--service-cluster', px.cluster],
  ];
}

async function waitReadyLine(p: ManagedProcess, what: string, signal: AbortSignal): Promise<void> {
  const rl = readline.createInterface({ input: p.child.stdout! });
  const timer = AbortSignal.timeout(READY_TIMEOUT_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) =>
        reject(
          new SpilloverError(
            { message: `${what} did not become ready: ${why}`, fix: `see ${what}'s log in the run directory (raw/services/)` },
            1,
          ),
        );
      rl.on('line', (line) => {
        try {
          if ((JSON.parse(line) as { ready?: boolean }).ready) resolve();
        } catch {
          /* not the ready line */
        }
      });
      void p.exited.then(({ code, signal: sig }) => fail(`exited with ${sig ?? `code ${code}`}`));
      timer.addEventListener('abort', () => fail(`no ready line within ${READY_TIMEOUT_MS / 1000}s`));
      signal.addEventListener('abort', () => fail('interrupted'));
    });
  } finally {
    // Keep draining stdout so the child never blocks on a full pipe.
    rl.removeAllListeners('line');
    p.child.stdout!.resume();
  }
}

async function waitEnvoyReady(p: ManagedProcess, admin: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (signal.aborted) throw new SpilloverError({ message: `interrupted while waiting for Envoy ${p.name}` }, 130);
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new SpilloverError(
        {
          message: `Envoy ${p.name} exited during start-up (${p.child.signalCode ?? `code ${p.child.exitCode}`})`,
          fix: `its log says why: raw/envoy/${p.name}/envoy.log`,
        },
        1,
      );
    }
    try {
      const res = await fetch(`http://${admin}/ready`, { signal: AbortSignal.timeout(500) });
      last = `${res.status} ${(await res.text()).trim()}`;
      if (res.status === 200) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new SpilloverError(
    {
      message: `Envoy ${p.name} not ready within ${READY_TIMEOUT_MS / 1000}s (last /ready: ${last})`,
      fix: `see raw/envoy/${p.name}/envoy.log`,
    },
    1,
  );
}
