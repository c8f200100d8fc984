/**
 * The Backend shared by `--backend kind` (creates one kind cluster per experiment cluster) and
 * `--backend kube` (existing kubeconfig contexts), as explicit state: the plan (plan-build.ts) written
 * out by `plan` and executed by `up` (execute-steps.ts), then the telemetry connected through the API
 * server (connect.ts), and teardown (teardown.ts) from the state file of what this run created.
 *
 * Teardown deletes only what this run created: kind clusters it made, and on existing clusters the
 * objects that did not exist before it applied them (an object that exists without our labels is
 * never overwritten: the run stops instead).
 */
import fs from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { SpilloverError } from '../../errors.ts';
import type { Backend, BackendContext, Deployment, DryRunPlan } from '../backend.ts';
import { backendReady, defaultContext, runChecks, type CheckOutcome } from '../doctor.ts';
import { startTicks, Supervisor } from '../../process/processes.ts';
import { createMeshCas, plannedCas } from './cacerts.ts';
import { refuseUnrunnable } from './caveats.ts';
import { connectProxies, deploymentOf, type ConnectDeps } from './connect.ts';
import { StepExecutor } from './execute-steps.ts';
import { KubeClient, kubeConfigFor } from './kube-client.ts';
import { removeStateFile, saveState, type KubeState } from './kube-state.ts';
import { cloudProviderContainer, labelValue, RUN_LABEL, runPrefix } from './names.ts';
import { buildPlan, renderPlan, validatePlan, type PlanOptions } from './plan-build.ts';
import { kubectlPortForwarder, type PortForwarder } from './port-forward.ts';
import { writeFiles } from './render.ts';
import { TIMEOUTS, type ClusterRef } from './step-types.ts';
import { cleanupStale, removeRun } from './teardown.ts';
import { execaTools, type Tools } from './tools.ts';
import { PINS } from './versions.ts';
import { k6InClusterEngine } from './k6-in-cluster.ts';
import { REPO_ROOT } from '../../util/repo-root.ts';

export interface ClusterBackendOptions extends PlanOptions {
  /**
   * With load.engine k6: run k6 inside the client's cluster (a paused Job, or a k6-operator TestRun
   * when k6Parallelism > 1), started through the Deployment's `k6.run(runDir, t0Epoch)`. Without it
   * k6 runs on the host and enters the mesh through the port-forwarded client relay.
   */
  k6InCluster?: boolean;
  /** Seams for tests: fake binaries on PATH, a kubeconfig pointing at a fake API server. */
  tools?: Tools;
  toolPath?: string;
  kubeConfig?: (context: string) => k8s.KubeConfig;
  portForwarder?: (sup: Supervisor) => PortForwarder;
  timeouts?: Partial<typeof TIMEOUTS>;
  pollMs?: number;
  repoRoot?: string;
  /** Checks run before anything is created; default `spillover doctor`'s checks for the backend. */
  preflight?: () => Promise<CheckOutcome[]>;
}

const resolveRun = (f: string | undefined, runDir: string) => f?.replace(/^\{run\}/, runDir);

export class ClusterBackend implements Backend {
  readonly name: 'kind' | 'kube';
  private readonly repo: string;
  private readonly tools: Tools;
  private readonly toolEnv: NodeJS.ProcessEnv;
  private readonly timeouts: typeof TIMEOUTS;
  private readonly clients = new Map<string, KubeClient>();
  /** What this run created, saved after every creation (null before `up`, and after `down`). */
  private state: KubeState | undefined;
  private supervisor: Supervisor | undefined;
  /** Log streams and the k6 engine's forwards, stopped first on `down`. */
  private readonly stoppers: Array<() => void> = [];

  constructor(private readonly opts: ClusterBackendOptions) {
    this.name = opts.mode;
    this.repo = opts.repoRoot ?? REPO_ROOT;
    this.tools = opts.tools ?? execaTools({ path: opts.toolPath ?? process.env.PATH, cwd: this.repo });
    this.toolEnv = opts.toolPath ? { ...process.env, PATH: opts.toolPath } : process.env;
    this.timeouts = { ...TIMEOUTS, ...opts.timeouts };
  }

  private get installIstio() {
    return this.opts.mode === 'kind' || this.opts.installIstio;
  }

  private client(ref: ClusterRef): KubeClient {
    let c = this.clients.get(ref.name);
    if (!c) {
      const kc = this.opts.kubeConfig ? this.opts.kubeConfig(ref.context) : kubeConfigFor(ref.context, ref.kubeconfig);
      c = new KubeClient(kc, ref.name);
      this.clients.set(ref.name, c);
    }
    return c;
  }

  private readScript(ctx: BackendContext) {
    return fs.promises.readFile(ctx.experiment.scenarioPath, 'utf8');
  }

  async plan(ctx: BackendContext): Promise<DryRunPlan> {
    const built = buildPlan(this.opts, ctx, plannedCas(Object.keys(ctx.experiment.spec.topology.clusters)), await this.readScript(ctx));
    validatePlan(ctx, built.steps);
    const { files, lines } = renderPlan(this.opts.mode, ctx, built);
    return { files: writeFiles(ctx.runDir, files), steps: lines };
  }

  private async preflight() {
    const checks = await (this.opts.preflight ?? (() => runChecks(this.opts.mode, { ...defaultContext(), env: this.toolEnv })))();
    if (backendReady(checks)) return;
    throw new SpilloverError(
      checks
        .filter((c) => !c.ok && !c.optional)
        .map((c) => ({
          message: `preflight: ${c.name} is not ready for --backend ${this.opts.mode}`,
          found: c.found,
          fix: c.fix ?? 'run `spillover doctor` for details',
        })),
      2,
    );
  }

  async up(ctx: BackendContext): Promise<Deployment> {
    const clusterNames = Object.keys(ctx.experiment.spec.topology.clusters);
    const script = await this.readScript(ctx);
    const display = buildPlan(this.opts, ctx, plannedCas(clusterNames), script);
    // Everything -- what the clusters cannot do, every manifest, the federation rules -- is checked before the first cluster is created.
    refuseUnrunnable(display.caveats, ctx.experiment.file, this.opts.mode);
    await this.preflight();
    validatePlan(ctx, display.steps);
    writeFiles(ctx.runDir, renderPlan(this.opts.mode, ctx, display).files);
    const cas = this.installIstio ? await createMeshCas(clusterNames, { org: `spillover ${ctx.runId}` }) : plannedCas(clusterNames);
    const built = buildPlan(this.opts, ctx, cas, script);
    built.refs.forEach((r) => (r.kubeconfig = resolveRun(r.kubeconfig, ctx.runDir)));
    this.state = {
      runId: ctx.runId,
      mode: this.opts.mode,
      ownerPid: process.pid,
      ownerStartTicks: startTicks(process.pid),
      clusters: built.refs,
      created: [],
      istioInstalled: [],
      dockerContainers: this.opts.mode === 'kind' ? [cloudProviderContainer(ctx.runId)] : [],
    };
    saveState(this.state);
    const versions: Record<string, string> = { istio: this.installIstio ? PINS.istio : 'existing installation', backend: this.opts.mode };
    if (this.opts.mode === 'kind')
      versions.kind = (await this.tools.run({ cmd: 'kind', args: ['version'] }, { signal: ctx.signal })).stdout.trim();
    const exec = new StepExecutor(
      {
        mode: this.opts.mode,
        tools: this.tools,
        repo: this.repo,
        state: this.state,
        refs: built.refs,
        client: (r) => this.client(r),
        timeouts: this.timeouts,
        pollMs: this.opts.pollMs ?? 2000,
      },
      ctx,
    );
    await exec.run(built.steps);
    for (const r of built.refs) versions[`kubernetes.${r.name}`] = await this.client(r).serverVersion();
    const deployment = await this.connect(ctx, exec, built.refs, versions);
    return { ...deployment, warnings: [...deployment.warnings, ...display.caveats.map((c) => `${c.path}: ${c.text}`)] };
  }

  private async connect(ctx: BackendContext, exec: StepExecutor, refs: ClusterRef[], versions: Record<string, string>) {
    const spec = ctx.experiment.spec;
    this.supervisor = new Supervisor(ctx.runId);
    const deps: ConnectDeps = {
      mode: this.opts.mode,
      installIstio: this.installIstio,
      refs,
      client: (r) => this.client(r),
      forwarder: this.opts.portForwarder ? this.opts.portForwarder(this.supervisor) : kubectlPortForwarder(this.supervisor, this.toolEnv),
      useK6: spec.load.engine === 'k6' && Boolean(this.opts.k6InCluster),
      podMs: this.timeouts.podMs,
      pollMs: this.opts.pollMs ?? 2000,
      onStop: (stop) => this.stoppers.push(stop),
      apply: (cluster, objects) =>
        exec.applyObjects(
          refs.find((r) => r.name === cluster)!,
          objects,
        ),
    };
    const connected = await connectProxies(deps, ctx);
    const clientRef = refs.find((r) => r.name === spec.client.cluster)!;
    return {
      ...deploymentOf(deps, ctx, connected, versions, exec.addresses),
      casualties: () => this.supervisor?.casualties() ?? [],
      // In-cluster load (engine k6): resume the paused k6 at t0 and stream its JSON samples.
      ...(deps.useK6
        ? {
            loadEngine: k6InClusterEngine({
              ref: clientRef,
              pod: connected.proxies[0],
              forwarder: deps.forwarder,
              client: this.client(clientRef),
              onStop: deps.onStop,
              signal: ctx.signal,
            }),
          }
        : {}),
    } as Deployment;
  }

  async down({ keep }: { keep: boolean }): Promise<void> {
    for (const stop of this.stoppers.splice(0)) stop();
    if (this.supervisor) {
      if (keep) this.supervisor.detach();
      else await this.supervisor.stopAll();
    }
    if (!this.state) return;
    if (keep) {
      this.state.kept = true;
      saveState(this.state);
      return;
    }
    await removeRun(this.state, this.tools, (ref) => this.client(ref), this.opts.kubeConfig);
    removeStateFile(this.state.runId);
    this.state = undefined;
  }

  cleanupStale(): Promise<string[]> {
    return cleanupStale(this.opts.mode, this.tools, this.opts.kubeConfig);
  }
}

export function createClusterBackend(opts: ClusterBackendOptions): Backend {
  return new ClusterBackend(opts);
}

export { runPrefix, labelValue, RUN_LABEL };
