/**
 * The harness's control plane: what kubelet, the endpoints controller and istiod do between them
 * during a run, for the proxies that take their clusters over (file-based) xDS -- the client and the
 * east-west gateways. A pod whose readiness probe fails leaves their endpoints after probe period x
 * failure threshold plus istiod's debounce; an applied Istio resource is pushed after the debounce.
 * Every push is re-translated from the plan (src/mesh, the same translation as at start-up), only
 * the files whose content changed are rewritten (atomic rename in the watched directory), and the
 * moment each Envoy applied it is read from Envoy's own counters: cluster_manager.cds.update_success
 * for CDS, cluster.<name>.update_success for EDS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CDS_FILE, toFileXds } from '../mesh/file-xds.ts';
import type { MeshConfig, MeshPlan, WorkloadPlan } from '../mesh/plan.ts';
import { translate } from '../mesh/translate.ts';
import type { RunEvent } from '../contracts/raw.ts';

export interface ReadinessTiming {
  periodMs: number;
  failureThreshold: number;
  successThreshold: number;
  debounceMs: number;
}

export interface ControlPlaneOptions {
  plan: MeshPlan;
  /** Directory for the proxies' xDS files: <dir>/<proxy>/. */
  dir: string;
  /** Proxies that take CDS/EDS from files. */
  proxies: string[];
  adminOf(proxy: string): string;
  timing: ReadinessTiming;
  event(e: Omit<RunEvent, 't'>): void;
}

const APPLIED_WAIT_MS = 5000;

const names = (ws: WorkloadPlan[]) => ws.map((w) => w.instance ?? w.service).join(',');

export class FileControlPlane {
  /** Sidecar names of pods whose readiness probe fails. */
  private readonly unready = new Set<string>();
  /** Sidecar names of pods outside the deployment's current replicas (standby for a scale-up, or scaled down). */
  private readonly scaledOut = new Set<string>();
  private resources: MeshPlan['resources'];
  /** proxy -> file -> JSON last written (without version). */
  private readonly written = new Map<string, Map<string, string>>();
  private version = 1;
  private readonly timers = new Set<NodeJS.Timeout>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: ControlPlaneOptions) {
    this.resources = o.plan.resources;
  }

  /**
   * The start-up bootstraps: the xDS proxies' clusters move to files, which are written now. Pods
   * listed in `outside` (standby pods of a later scale-up) start outside the endpoints.
   */
  initial(mesh: MeshConfig, outside: WorkloadPlan[] = []): MeshConfig['bootstraps'] {
    for (const w of outside) this.scaledOut.add(w.sidecar.name);
    // Every pod keeps its own (static) bootstrap; only the xDS proxies' endpoints leave the outside ones out.
    const view = outside.length ? translate(this.currentPlan()) : mesh;
    const out = { ...mesh.bootstraps };
    for (const p of this.o.proxies) {
      const x = toFileXds(view.bootstraps[p], this.dirOf(p), String(this.version));
      out[p] = x.bootstrap;
      fs.mkdirSync(this.dirOf(p), { recursive: true });
      const seen = new Map<string, string>();
      for (const [f, body] of Object.entries(x.files)) {
        this.writeAtomic(p, f, body);
        seen.set(f, JSON.stringify(body.resources));
      }
      this.written.set(p, seen);
    }
    return out;
  }

  /** Readiness fails now: the pods leave the endpoints once kubelet and istiod have noticed. */
  setUnready(pods: WorkloadPlan[], durationMs?: number): void {
    const t = this.o.timing;
    this.later(t.periodMs * t.failureThreshold + t.debounceMs, () => {
      for (const w of pods) this.unready.add(w.sidecar.name);
      return this.push(`unready ${names(pods)}`);
    });
    if (durationMs !== undefined) {
      this.later(durationMs + t.periodMs * t.successThreshold + t.debounceMs, () => {
        for (const w of pods) this.unready.delete(w.sidecar.name);
        return this.push(`ready ${names(pods)}`);
      });
    }
  }

  /** Pods a scale-up created passed their readiness probe: they join the endpoints after istiod's debounce. */
  podsReady(pods: WorkloadPlan[]): void {
    this.later(this.o.timing.debounceMs, () => {
      for (const w of pods) this.scaledOut.delete(w.sidecar.name);
      return this.push(`scale up ${names(pods)}`);
    });
  }

  /** Pods a scale-down deleted: they leave the endpoints at once (no probe involved), then istiod debounces. */
  podsDeleted(pods: WorkloadPlan[]): void {
    this.later(this.o.timing.debounceMs, () => {
      for (const w of pods) this.scaledOut.add(w.sidecar.name);
      return this.push(`scale down ${names(pods)}`);
    });
  }

  /** `kubectl apply`: same kind and name replaces, anything else is added; pushed after the debounce. */
  apply(resource: Record<string, unknown>): void {
    this.later(this.o.timing.debounceMs, () => {
      const key = (r: Record<string, unknown>) => `${String(r.kind)}/${String((r.metadata as { name?: string } | undefined)?.name)}`;
      const i = this.resources.findIndex((r) => key(r) === key(resource));
      this.resources = i >= 0 ? this.resources.map((r, j) => (j === i ? resource : r)) : [...this.resources, resource];
      return this.push(`apply ${key(resource)}`);
    });
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Pushes run one after another, in the order they fell due. */
  private later(ms: number, fn: () => Promise<void>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.chain = this.chain
        .then(fn)
        .catch((e) => this.o.event({ kind: 'error', what: `control plane push failed: ${(e as Error).message}` }));
    }, ms);
    this.timers.add(t);
  }

  private dirOf(p: string) {
    return path.join(this.o.dir, p);
  }

  private writeAtomic(proxy: string, file: string, body: unknown): void {
    const target = path.join(this.dirOf(proxy), file);
    const tmp = path.join(this.dirOf(proxy), `.${file}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(body));
    // Envoy reloads on a move into the watched directory: the rename is the push.
    fs.renameSync(tmp, target);
  }

  private currentPlan(): MeshPlan {
    return {
      ...this.o.plan,
      // Kept, marked: a Service whose every pod is out keeps its host (no endpoints, 503 "no healthy upstream").
      workloads: this.o.plan.workloads.map((w) =>
        this.unready.has(w.sidecar.name) || this.scaledOut.has(w.sidecar.name) ? { ...w, notReady: true } : w,
      ),
      resources: this.resources,
    };
  }

  private async push(reason: string): Promise<void> {
    const mesh = translate(this.currentPlan());
    this.version++;
    await Promise.all(
      this.o.proxies.map(async (p) => {
        const x = toFileXds(mesh.bootstraps[p], this.dirOf(p), String(this.version));
        const seen = this.written.get(p)!;
        const changed = Object.entries(x.files).filter(([f, body]) => seen.get(f) !== JSON.stringify(body.resources));
        if (!changed.length) return;
        const stats = changed.map(([f, body]) =>
          f === CDS_FILE
            ? 'cluster_manager.cds.update_success'
            : `cluster.${(body.resources[0] as { cluster_name: string }).cluster_name}.update_success`,
        );
        const before = await readCounters(this.o.adminOf(p), stats);
        const writtenAt = Date.now();
        // EDS first, then CDS: a cluster the new CDS adds finds its endpoints file already in place.
        for (const [f, body] of changed.sort((a, b) => (a[0] === CDS_FILE ? 1 : 0) - (b[0] === CDS_FILE ? 1 : 0))) {
          this.writeAtomic(p, f, body);
          seen.set(f, JSON.stringify(body.resources));
        }
        const applied = await waitForIncrease(this.o.adminOf(p), stats, before, writtenAt + APPLIED_WAIT_MS);
        this.o.event({
          kind: 'push',
          what: `${reason} -> ${p}${applied === undefined ? ' (not seen applied)' : ''}`,
          detail: {
            envoy: p,
            reason,
            resources: changed.map(([f]) => f),
            stats,
            latencyMs: applied === undefined ? null : applied - writtenAt,
            version: this.version,
          },
        });
      }),
    );
  }
}

/** Envoy's counters by name from /stats (missing counters read as 0). */
export async function readCounters(admin: string, names: string[]): Promise<Record<string, number>> {
  const res = await fetch(`http://${admin}/stats?filter=update_success`, { signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    const i = line.lastIndexOf(': ');
    const name = line.slice(0, i);
    if (name in out) out[name] = Number(line.slice(i + 2));
  }
  return out;
}

async function waitForIncrease(
  admin: string,
  names: string[],
  before: Record<string, number>,
  deadline: number,
): Promise<number | undefined> {
  while (Date.now() < deadline) {
    const now = await readCounters(admin, names).catch(() => undefined);
    if (now && names.every((n) => now[n] > before[n])) return Date.now();
    await new Promise((r) => setTimeout(r, 5));
  }
  return undefined;
}
