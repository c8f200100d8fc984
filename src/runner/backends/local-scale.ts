/**
 * `kubectl scale` on the local backend, as Kubernetes and Istio do it between them:
 *
 * - up: each new pod is created at the fault's time -- its app and sidecar processes start then, not
 *   with the run. kubelet's readiness probe ticks every period from the pod's start; the first tick
 *   after both processes are up passes, and after successThreshold passes the pod is ready; istiod
 *   debounces and pushes the new endpoints (control-plane.ts podsRunning).
 * - down: the highest replicas are deleted (the ReplicaSet's choice for equal pods). A deleted pod
 *   leaves the endpoints at once (pushed after the debounce) while its sidecar drains (what
 *   pilot-agent does on SIGTERM: drain_listeners?graceful&inboundonly, for Istio's
 *   terminationDrainDuration, 5 s); then app and sidecar get SIGTERM, and SIGKILL if they are still
 *   there when kubelet's terminationGracePeriodSeconds (30 s) since the deletion has passed.
 *
 * Each step is a `pod` run event (created, running, ready, terminating, SIGTERM sent, terminated).
 * The two grace periods are the Kubernetes/Istio defaults scaled with --time-scale.
 */
import type { RunEvent } from '../../contracts/raw.ts';
import type { MeshPlan } from '../../mesh/plan.ts';
import type { ManagedProcess, Supervisor } from '../../process/processes.ts';
import type { FileControlPlane, ReadinessTiming } from '../control-plane.ts';
import { PORTS } from './local-addresses.ts';
import type { LocalPod } from './local-plan.ts';
import { startPod, type StartContext, type StartOptions } from './local-start.ts';

/** Istio's terminationDrainDuration and kubelet's terminationGracePeriodSeconds (defaults). */
export const TERMINATION = { drainMs: 5000, graceMs: 30_000 } as const;

export interface ScaleHost {
  sup: Supervisor;
  start: StartContext;
  plan: MeshPlan;
  startOptions: StartOptions;
  cp: FileControlPlane;
  timing: ReadinessTiming;
  timeScale: number;
  event(e: Omit<RunEvent, 't'>): void;
}

/** The pods of a run and which of them exist now; scale() moves a deployment to a replica count. */
export class LocalScaler {
  /** proc -> its processes once started, for the pods that exist (created and not deleted). */
  private readonly live = new Map<string, Promise<ManagedProcess[]>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Process names of the pods of scaled deployments that are up now (running, not yet sent SIGTERM). */
  private readonly up = new Set<string>();
  /** proc -> until its deleted processes have exited (a pod scaled up again reuses the address). */
  private readonly exiting = new Map<string, Promise<unknown>>();
  /** Process names of every pod a scale fault may create or delete. */
  readonly scaled: Set<string>;

  constructor(
    private readonly h: ScaleHost,
    pods: LocalPod[],
    scaledServices: string[],
  ) {
    const names = (s: LocalPod) => [s.proc, s.w.sidecar.name];
    const scaled = new Set(scaledServices.map((n) => n.toLowerCase()));
    this.scaled = new Set(pods.filter((s) => scaled.has(s.name.toLowerCase())).flatMap(names));
    for (const s of pods.filter((p) => !p.topo.standby)) {
      const procs = [h.sup.find(s.proc), h.sup.find(s.w.sidecar.name)].filter((p): p is ManagedProcess => !!p);
      this.live.set(s.proc, Promise.resolve(procs));
      for (const n of names(s)) this.up.add(n);
    }
  }

  /** Whether the process `name` (an app or a sidecar) is up: only a scaled deployment's pods come and go. */
  exists(name: string): boolean {
    return !this.scaled.has(name) || this.up.has(name);
  }

  /** The run is over: no more steps or events (the teardown stops whatever still runs). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private event(e: Omit<RunEvent, 't'>): void {
    if (!this.stopped) this.h.event(e);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => (this.timers.delete(t), r()), Math.max(0, ms));
      this.timers.add(t);
    });
  }

  /** `deployment`: the service's pods in replica order. Resolves once the created pods run and the deleted ones got SIGTERM. */
  async scale(deployment: LocalPod[], replicas: number): Promise<void> {
    const up = deployment.slice(0, replicas).filter((s) => !this.live.has(s.proc));
    const down = deployment.slice(replicas).filter((s) => this.live.has(s.proc));
    await Promise.all([...up.map((s) => this.create(s, replicas)), this.delete(down, replicas)]);
  }

  private async create(s: LocalPod, replicas: number): Promise<void> {
    const { h } = this;
    const createdAt = Date.now();
    this.event({ kind: 'pod', what: `${s.topo.instance} created (scale ${s.name} to ${replicas})`, detail: podDetail(s, 'created') });
    // Kubernetes would give the new pod a new address; here it reuses the old one, so the old processes go first.
    const previous = this.exiting.get(s.proc);
    const starting = (previous ?? Promise.resolve()).then(() => startPod(h.sup, h.start, h.plan, s, h.startOptions));
    this.live.set(s.proc, starting);
    let procs: ManagedProcess[];
    try {
      procs = await starting;
    } catch (e) {
      // The run ended while the pod started (the teardown stopped it): nothing failed.
      if (this.stopped) return;
      throw e;
    }
    if (this.live.get(s.proc) === starting) for (const p of procs) this.up.add(p.name);
    const upMs = Date.now() - createdAt;
    this.event({
      kind: 'pod',
      what: `${s.topo.instance} running (app and sidecar ready ${upMs} ms after creation)`,
      detail: { ...podDetail(s, 'running'), startMs: upMs, pids: procs.map((p) => p.pid) },
    });
    // kubelet probes at creation + k x period; the first tick at or after start-up passes.
    const { periodMs, successThreshold } = h.timing;
    const readyAt = Math.ceil(upMs / periodMs) * periodMs + (successThreshold - 1) * periodMs;
    await this.sleep(createdAt + readyAt - Date.now());
    // Deleted meanwhile (a scale-down before it was ready): it never joins.
    if (this.stopped || this.live.get(s.proc) !== starting) return;
    this.event({ kind: 'pod', what: `${s.topo.instance} ready (readiness probe passed)`, detail: podDetail(s, 'ready') });
    h.cp.podsReady([s.w]);
  }

  private async delete(pods: LocalPod[], replicas: number): Promise<void> {
    if (!pods.length) return;
    const { h } = this;
    const drainMs = TERMINATION.drainMs * h.timeScale;
    const killAtMs = TERMINATION.graceMs * h.timeScale;
    const deletedAt = Date.now();
    h.cp.podsDeleted(pods.map((s) => s.w));
    await Promise.all(
      pods.map(async (s) => {
        const starting = this.live.get(s.proc)!;
        this.live.delete(s.proc);
        let exited!: () => void;
        this.exiting.set(s.proc, new Promise<void>((r) => (exited = r)));
        this.event({
          kind: 'pod',
          what: `${s.topo.instance} terminating (scale ${s.name} to ${replicas}): leaves the endpoints, sidecar drains for ${drainMs} ms`,
          detail: { ...podDetail(s, 'terminating'), drainMs },
        });
        // A pod deleted while it starts is terminated once its processes are there.
        const procs = await starting.catch(() => [] as ManagedProcess[]);
        await fetch(`http://${s.pod}:${PORTS.admin}/drain_listeners?graceful&inboundonly`, { method: 'POST' })
          .then((r) => r.text())
          .catch(() => undefined);
        await this.sleep(deletedAt + drainMs - Date.now());
        this.event({ kind: 'pod', what: `${s.topo.instance}: SIGTERM to app and sidecar`, detail: podDetail(s, 'sigterm') });
        for (const p of procs) this.up.delete(p.name);
        const graceMs = Math.max(0, deletedAt + killAtMs - Date.now());
        // Supervisor.stop: SIGTERM, then SIGKILL once the grace period is over; the exit is not a crash.
        void Promise.all(procs.map((p) => h.sup.stop(p, graceMs))).then(() => {
          exited();
          this.event({
            kind: 'pod',
            what: `${s.topo.instance} terminated (${procs.map((p) => `${p.name} ${exitOf(p)}`).join(', ')})`,
            detail: podDetail(s, 'terminated'),
          });
        });
      }),
    );
  }
}

const podDetail = (s: LocalPod, step: string) => ({ pod: s.topo.instance, service: s.name, proc: s.proc, step });

function exitOf(p: ManagedProcess): string {
  const { exitCode, signalCode } = p.child;
  return signalCode ? `by ${signalCode}` : `exit ${exitCode}`;
}
