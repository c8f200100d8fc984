/**
 * The Backend shared by `--backend kind` (creates two kind clusters) and `--backend kube` (two
 * existing kubeconfig contexts): the steps of steps.ts written out by `plan` and executed by `up`,
 * then the telemetry connected through the API server (port-forwards to each proxy's admin port, log
 * streams of each proxy's stdout), so capture and analysis run unchanged.
 *
 * Teardown deletes only what this run created: kind clusters it made, and on existing clusters the
 * objects that did not exist before it applied them (an object that exists without our labels is
 * never overwritten: the run stops instead).
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { isSpilloverError, SpilloverError } from '../../errors.ts';
import { parseDurationMs } from '../../util/duration.ts';
import type { Fault } from '../../experiment/schema.ts';
import type { Backend, BackendContext, Deployment, DryRunPlan, ScrapeTarget } from '../backend.ts';
import { backendReady, defaultContext, runChecks, type CheckOutcome } from '../doctor.ts';
import { cleanupStaleProcesses, sameProcessAlive, stateDir, startTicks, Supervisor } from '../../process/processes.ts';
import { ensureTrustedDir } from '../../process/state-trust.ts';
import { createMeshCas, plannedCas, type ClusterCa } from './cacerts.ts';
import { EASTWEST, ISTIO_NS } from './istio-manifests.ts';
import { requireStudyShape } from './study-shape.ts';
import { KubeClient, kubeConfigFor } from './kube-client.ts';
import {
  CLIENT_NAME,
  cloudProviderContainer,
  DOCKER_RUN_LABEL,
  K6_NAME,
  KIND_PREFIX,
  kindClusterName,
  kindContext,
  LOAD_NAMESPACE,
  MANAGED_BY,
  RUN_LABEL,
  labelValue,
  runPrefix,
  serviceOfHost,
} from './names.ts';
import { kubectlPortForwarder, type Forward, type PortForwarder } from './port-forward.ts';
import { proxyLogSink } from './proxy-log.ts';
import { commandsSh, describeStep, manifestYaml, resolveCall, writeFiles } from './render.ts';
import { buildSteps, federationObjects, TIMEOUTS, type ClusterRef, type Step } from './steps.ts';
import { execaTools, type Tools } from './tools.ts';
import { gatewayEndpointLocality, kubeTopology } from './topology.ts';
import { validateAll, type KubeObject } from './validate.ts';
import { APP_PORT, CLIENT_RELAY_PORT, ENVOY_ADMIN_PORT } from './workloads.ts';
import { PINS } from './versions.ts';
import { k6InClusterEngine } from './k6-in-cluster.ts';
import { REPO_ROOT } from '../../util/repo-root.ts';

/**
 * kind writes each cluster's context here, not into the user's kubeconfig (creating clusters would
 * switch the user's current context), one file per cluster so the parallel creates never share one.
 */
const kindKubeconfig = (cluster: string) => `{run}/kube/kubeconfig-${cluster}`;
const resolveRun = (f: string | undefined, runDir: string) => f?.replace(/^\{run\}/, runDir);

export interface ClusterBackendOptions {
  mode: 'kind' | 'kube';
  /** kube: the contexts of the experiment's two clusters, in topology order. */
  contexts?: [string, string];
  installIstio: boolean;
  /**
   * With load.engine k6: run k6 inside the client's cluster (a paused Job, or a k6-operator TestRun
   * when k6Parallelism > 1), started through the Deployment's `k6.run(runDir, t0Epoch)`. Without it
   * k6 runs on the host and enters the mesh through the port-forwarded client relay.
   */
  k6InCluster?: boolean;
  /** k6 runner pods (>1: k6-operator TestRun). */
  k6Parallelism?: number;
  images?: { service?: string; k6?: string };
  /** Seams for tests: fake binaries on PATH, a kubeconfig pointing at a fake API server. */
  tools?: Tools;
  toolPath?: string;
  kubeconfigFile?: string;
  kubeConfig?: (context: string) => k8s.KubeConfig;
  portForwarder?: (sup: Supervisor) => PortForwarder;
  timeouts?: Partial<typeof TIMEOUTS>;
  pollMs?: number;
  repoRoot?: string;
  /** Checks run before anything is created; default `spillover doctor`'s checks for the backend. */
  preflight?: () => Promise<CheckOutcome[]>;
}

interface KubeState {
  runId: string;
  mode: 'kind' | 'kube';
  ownerPid: number;
  ownerStartTicks: string | null;
  kept?: boolean;
  clusters: ClusterRef[];
  /** kube: objects this run created, per cluster context, in creation order. */
  created: Array<{ context: string; apiVersion: string; kind: string; name: string; namespace?: string }>;
  istioInstalled: string[];
  dockerContainers: string[];
}

// Next to the process supervisor's state files but in a folder of their own: those are read as its own.
const kubeStateDir = () => path.join(stateDir(), 'kube');
const stateFileOf = (runId: string) => path.join(kubeStateDir(), `kube-${runId}.json`);

function liveStates(): KubeState[] {
  let files: string[] = [];
  // They name clusters and containers to delete: read only from a folder that is this user's alone.
  if (fs.existsSync(kubeStateDir())) ensureTrustedDir(kubeStateDir(), 'kube state directory', 'SPILLOVER_STATE_DIR');
  try {
    files = fs.readdirSync(kubeStateDir()).filter((f) => f.startsWith('kube-') && f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    try {
      return [JSON.parse(fs.readFileSync(path.join(kubeStateDir(), f), 'utf8')) as KubeState];
    } catch {
      return [];
    }
  });
}

const ownerAlive = (s: KubeState) => sameProcessAlive(s.ownerPid, s.ownerStartTicks);

export function createClusterBackend(opts: ClusterBackendOptions): Backend {
  const repo = opts.repoRoot ?? REPO_ROOT;
  const tools: Tools = opts.tools ?? execaTools({ path: opts.toolPath ?? process.env.PATH, cwd: repo });
  const toolEnv = opts.toolPath ? { ...process.env, PATH: opts.toolPath } : process.env;
  const timeouts = { ...TIMEOUTS, ...opts.timeouts };
  const clients = new Map<string, KubeClient>();
  let state: KubeState | undefined;
  let supervisor: Supervisor | undefined;
  const stoppers: Array<() => void> = [];

  function clusterRefs(ctx: BackendContext): ClusterRef[] {
    const names = Object.keys(ctx.experiment.spec.topology.clusters);
    if (opts.mode === 'kind')
      return names.map((n) => ({
        name: n,
        kindName: kindClusterName(ctx.runId, n),
        context: kindContext(kindClusterName(ctx.runId, n)),
        kubeconfig: kindKubeconfig(n),
      }));
    const ctxs = opts.contexts!;
    return names.map((n, i) => ({ name: n, context: ctxs[i], kubeconfig: opts.kubeconfigFile }));
  }

  function client(ref: ClusterRef): KubeClient {
    let c = clients.get(ref.name);
    if (!c) {
      c = new KubeClient(opts.kubeConfig ? opts.kubeConfig(ref.context) : kubeConfigFor(ref.context, ref.kubeconfig), ref.name);
      clients.set(ref.name, c);
    }
    return c;
  }

  async function readScript(ctx: BackendContext) {
    return fs.promises.readFile(ctx.experiment.scenarioPath, 'utf8');
  }

  function build(ctx: BackendContext, cas: Record<string, ClusterCa>, script: string) {
    const refs = clusterRefs(ctx);
    const installIstio = opts.mode === 'kind' || opts.installIstio;
    return {
      refs,
      ...buildSteps({
        exp: ctx.experiment,
        runId: ctx.runId,
        mode: opts.mode,
        clusters: refs,
        installIstio,
        cas,
        script,
        k6InCluster: opts.k6InCluster,
        k6Parallelism: opts.k6Parallelism,
        images: opts.images,
      }),
    };
  }

  /** Files of the dry run; `up` writes the same (the CA secret with placeholders, never keys). */
  function render(ctx: BackendContext, built: ReturnType<typeof build>): { files: Record<string, string>; lines: string[] } {
    const files: Record<string, string> = {};
    for (const [name, cfg] of Object.entries(built.kindConfigs)) files[`kube/kind/${name}.yaml`] = manifestYaml([cfg as KubeObject]);
    for (const s of built.steps) {
      if (s.kind === 'apply' || s.kind === 'write') files[s.file] = manifestYaml(s.objects);
      if (s.kind === 'federate') files[s.file] = manifestYaml(federationObjects(ctx.experiment, ctx.runId, {}, true));
    }
    const contextOf = (c: string) => built.refs.find((r) => r.name === c)!.context;
    const kubeconfigOf = (c: string) => built.refs.find((r) => r.name === c)!.kubeconfig;
    files['kube/commands.sh'] = commandsSh(built.steps, contextOf, kubeconfigOf, [
      `What \`spillover run --backend ${opts.mode}\` does for run ${ctx.runId}, in order (generated by --dry-run).`,
      'Kubernetes objects are applied by spillover itself through the API (server-side apply);',
      'the kubectl lines are the equivalents. Istio ' + PINS.istio + ' (istioctl must match).',
    ]);
    return { files, lines: built.steps.map((s) => describeStep(s, contextOf)) };
  }

  function validateSteps(steps: Step[], extra: Array<{ obj: KubeObject; where: string }> = []) {
    validateAll([
      ...steps.flatMap((s) => (s.kind === 'apply' || s.kind === 'write' ? s.objects.map((obj) => ({ obj, where: s.file })) : [])),
      ...extra,
    ]);
  }

  function saveState() {
    if (!state) return;
    ensureTrustedDir(kubeStateDir(), 'kube state directory', 'SPILLOVER_STATE_DIR');
    fs.writeFileSync(stateFileOf(state.runId), JSON.stringify(state, null, 1));
  }

  /** Apply, remembering what we created; refuse to take over objects somebody else owns. */
  async function applyObjects(ref: ClusterRef, objects: KubeObject[]) {
    const c = client(ref);
    for (const obj of objects) {
      if (opts.mode === 'kube') {
        const existing = await c.exists(obj);
        if (existing) {
          const cur = (await c.objects.read({
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
          })) as KubeObject;
          const ours = cur.metadata?.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY['app.kubernetes.io/managed-by'];
          if (obj.kind === 'Namespace' && !ours) continue; // use it as it is; pods opt into injection themselves
          if (!ours) {
            throw new SpilloverError({
              message: `${ref.name} (${ref.context}): ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name} already exists and was not created by spillover`,
              fix: 'spillover never overwrites or deletes objects it did not create: remove or rename it, or run on other clusters',
            });
          }
        } else {
          state!.created.push({
            context: ref.context,
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata.name,
            namespace: obj.metadata.namespace,
          });
          saveState();
        }
      }
      await c.apply(obj);
    }
  }

  async function execute(ctx: BackendContext, built: ReturnType<typeof build>, addresses: Record<string, string>) {
    const refOf = (c: string) => built.refs.find((r) => r.name === c)!;
    const wait = { pollMs: opts.pollMs ?? 2000, signal: ctx.signal };
    const runOne = async (s: Step) => {
      ctx.log(s.title);
      switch (s.kind) {
        case 'tool':
          await tools.run(resolveCall(s.call, ctx.runDir, repo), { signal: ctx.signal });
          if (s.call.cmd === 'kind' && s.call.args[0] === 'create') ctx.event({ kind: 'phase', what: `cluster ${s.call.args[3]} created` });
          if (s.call.cmd === 'istioctl' && s.call.args[0] === 'install' && !state!.istioInstalled.includes(s.call.args[2])) {
            state!.istioInstalled.push(s.call.args[2]);
            saveState();
          }
          return;
        case 'write':
          return;
        case 'apply':
          return applyObjects(refOf(s.cluster), s.objects);
        case 'rollout':
          await client(refOf(s.cluster)).rollout(s.namespace, s.name, { ...wait, timeoutMs: timeouts.rolloutMs });
          return;
        case 'gateway-address':
          addresses[s.cluster] = await client(refOf(s.cluster)).loadBalancerAddress(s.namespace, s.service, {
            ...wait,
            timeoutMs: timeouts.gatewayMs,
          });
          ctx.log(`${s.cluster}: east-west gateway at ${addresses[s.cluster]}`);
          return;
        case 'federate': {
          const objs = federationObjects(ctx.experiment, ctx.runId, addresses, false);
          validateAll(objs.map((obj) => ({ obj, where: s.file })));
          fs.writeFileSync(path.join(ctx.runDir, s.file), manifestYaml(objs));
          return applyObjects(refOf(s.cluster), objs);
        }
      }
    };
    for (let i = 0; i < built.steps.length;) {
      const g = built.steps[i].group;
      let j = i + 1;
      while (g && j < built.steps.length && built.steps[j].group === g) j++;
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await Promise.all(built.steps.slice(i, j).map(runOne));
      i = j;
    }
  }

  return {
    name: opts.mode,

    async plan(ctx): Promise<DryRunPlan> {
      requireStudyShape(ctx, opts.mode);
      const built = build(ctx, plannedCas(Object.keys(ctx.experiment.spec.topology.clusters)), await readScript(ctx));
      validateSteps(
        built.steps,
        federationObjects(ctx.experiment, ctx.runId, {}, true).map((obj) => ({ obj, where: 'federation' })),
      );
      const { files, lines } = render(ctx, built);
      return { files: writeFiles(ctx.runDir, files), steps: lines };
    },

    async up(ctx): Promise<Deployment> {
      requireStudyShape(ctx, opts.mode);
      const checks = await (opts.preflight ?? (() => runChecks(opts.mode, { ...defaultContext(), env: toolEnv })))();
      if (!backendReady(checks)) {
        throw new SpilloverError(
          checks
            .filter((c) => !c.ok && !c.optional)
            .map((c) => ({
              message: `preflight: ${c.name} is not ready for --backend ${opts.mode}`,
              found: c.found,
              fix: c.fix ?? 'run `spillover doctor` for details',
            })),
          2,
        );
      }
      const spec = ctx.experiment.spec;
      const clusterNames = Object.keys(spec.topology.clusters);
      const script = await readScript(ctx);
      const display = build(ctx, plannedCas(clusterNames), script);
      // Everything, the federation rules included, is checked before the first cluster is created.
      validateSteps(
        display.steps,
        federationObjects(ctx.experiment, ctx.runId, {}, true).map((obj) => ({ obj, where: 'federation' })),
      );
      writeFiles(ctx.runDir, render(ctx, display).files);
      const installIstio = opts.mode === 'kind' || opts.installIstio;
      const built = build(
        ctx,
        installIstio ? await createMeshCas(clusterNames, { org: `spillover ${ctx.runId}` }) : plannedCas(clusterNames),
        script,
      );
      built.refs.forEach((r) => (r.kubeconfig = resolveRun(r.kubeconfig, ctx.runDir)));
      state = {
        runId: ctx.runId,
        mode: opts.mode,
        ownerPid: process.pid,
        ownerStartTicks: startTicks(process.pid),
        clusters: built.refs,
        created: [],
        istioInstalled: [],
        dockerContainers: opts.mode === 'kind' ? [cloudProviderContainer(ctx.runId)] : [],
      };
      saveState();
      const versions: Record<string, string> = { istio: installIstio ? PINS.istio : 'existing installation', backend: opts.mode };
      if (opts.mode === 'kind') versions.kind = (await tools.run({ cmd: 'kind', args: ['version'] }, { signal: ctx.signal })).stdout.trim();

      const addresses: Record<string, string> = {};
      await execute(ctx, built, addresses);
      for (const r of built.refs) versions[`kubernetes.${r.name}`] = await client(r).serverVersion();
      return connect(ctx, built.refs, addresses, versions);
    },

    async down({ keep }) {
      for (const stop of stoppers.splice(0)) stop();
      if (supervisor) {
        if (keep) supervisor.detach();
        else await supervisor.stopAll();
      }
      if (!state) return;
      if (keep) {
        state.kept = true;
        saveState();
        return;
      }
      await removeRun(state, tools, (ref) => client(ref), opts.kubeConfig);
      fs.rmSync(stateFileOf(state.runId), { force: true });
      state = undefined;
    },

    async cleanupStale() {
      const removed = cleanupStaleProcesses();
      const states = liveStates();
      const claimed = states.filter((s) => s.kept || ownerAlive(s));
      try {
        for (const s of states) {
          if (claimed.includes(s) || s.mode !== opts.mode) continue;
          removed.push(...(await removeRun(s, tools, undefined, opts.kubeConfig)));
          fs.rmSync(stateFileOf(s.runId), { force: true });
        }
        if (opts.mode === 'kind') {
          // Clusters whose run left no state file at all (killed between create and the first save).
          const claimedClusters = new Set(claimed.flatMap((s) => s.clusters.map((c) => c.kindName)));
          const { stdout, exitCode } = await tools.run({ cmd: 'kind', args: ['get', 'clusters'] }, { allowFail: true });
          if (exitCode === 0) {
            for (const name of stdout
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => l.startsWith(KIND_PREFIX) && !claimedClusters.has(l))) {
              await tools.run({ cmd: 'kind', args: ['delete', 'cluster', '--name', name] }, { allowFail: true });
              removed.push(`kind cluster ${name}`);
            }
          }
          const claimedContainers = new Set(claimed.flatMap((s) => s.dockerContainers));
          const ps = await tools.run(
            { cmd: 'docker', args: ['ps', '-a', '--filter', `label=${DOCKER_RUN_LABEL}`, '--format', '{{.Names}}'] },
            { allowFail: true },
          );
          for (const name of ps.stdout
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l && !claimedContainers.has(l))) {
            await tools.run({ cmd: 'docker', args: ['rm', '-f', name] }, { allowFail: true });
            removed.push(`docker container ${name}`);
          }
        }
      } catch (e) {
        // Without kind or docker there is nothing of ours to find; `up`'s preflight says what is missing.
        if (!isSpilloverError(e) || !/is not installed/.test(e.message)) throw e;
      }
      return removed;
    },
  };

  async function connect(
    ctx: BackendContext,
    refs: ClusterRef[],
    addresses: Record<string, string>,
    versions: Record<string, string>,
  ): Promise<Deployment> {
    const spec = ctx.experiment.spec;
    const wait = { pollMs: opts.pollMs ?? 2000, signal: ctx.signal, timeoutMs: timeouts.podMs };
    const refOf = (c: string) => refs.find((r) => r.name === c)!;
    supervisor = new Supervisor(ctx.runId);
    const pf = opts.portForwarder ? opts.portForwarder(supervisor) : kubectlPortForwarder(supervisor, toolEnv);
    const useK6 = spec.load.engine === 'k6' && Boolean(opts.k6InCluster);

    interface Proxy {
      name: string;
      cluster: string;
      namespace: string;
      selector: string;
      container: string;
      pod?: { name: string; ip: string };
    }
    const local = Object.entries(spec.services).find(([, s]) => s.cluster === spec.client.cluster)!;
    const remote = Object.entries(spec.services).find(([, s]) => s.cluster === spec.gateway!.cluster)!;
    const svc = (s: (typeof local)[1]) => serviceOfHost(s.host);
    const proxies: Proxy[] = [
      {
        name: 'client',
        cluster: spec.client.cluster,
        namespace: LOAD_NAMESPACE,
        selector: `app=${useK6 ? K6_NAME : CLIENT_NAME}`,
        container: 'istio-proxy',
      },
      {
        name: `${local[0].toLowerCase()}-sidecar`,
        cluster: local[1].cluster,
        namespace: svc(local[1]).namespace,
        selector: `app=${svc(local[1]).name}`,
        container: 'istio-proxy',
      },
      {
        name: 'gateway',
        cluster: spec.gateway!.cluster,
        namespace: ISTIO_NS,
        selector: `istio=${EASTWEST.selector.istio}`,
        container: 'istio-proxy',
      },
      {
        name: `${remote[0].toLowerCase()}-sidecar`,
        cluster: remote[1].cluster,
        namespace: svc(remote[1]).namespace,
        selector: `app=${svc(remote[1]).name}`,
        container: 'istio-proxy',
      },
    ];
    await Promise.all(
      proxies.map(async (p) => {
        const c = client(refOf(p.cluster));
        p.pod =
          p.name === 'client' && useK6
            ? await c.runningPod(p.namespace, p.selector, wait)
            : await c.readyPod(p.namespace, p.selector, wait);
      }),
    );
    const fwd = async (name: string, p: Proxy, port: number): Promise<Forward> =>
      pf.forward(
        {
          name,
          context: refOf(p.cluster).context,
          kubeconfig: refOf(p.cluster).kubeconfig,
          namespace: p.namespace,
          pod: p.pod!.name,
          port,
        },
        ctx.signal,
      );
    // All forwards at once: each is a kubectl process and an API-server round trip.
    const services = [
      [local[0], proxies[1]],
      [remote[0], proxies[3]],
    ] as const;
    const entryProxy = async () =>
      useK6
        ? { ...proxies[0], pod: await client(refOf(spec.client.cluster)).readyPod(LOAD_NAMESPACE, `app=${CLIENT_NAME}`, wait) }
        : proxies[0];
    const [adminFwd, appFwd, entry] = await Promise.all([
      Promise.all(proxies.map((p) => fwd(`${p.name}-admin`, p, ENVOY_ADMIN_PORT))),
      Promise.all(services.map(([name, p]) => fwd(`${name.toLowerCase()}-app`, p, APP_PORT))),
      entryProxy().then((p) => fwd('client-relay', p, CLIENT_RELAY_PORT)),
    ]);
    const admin: Record<string, string> = Object.fromEntries(proxies.map((p, i) => [p.name, `127.0.0.1:${adminFwd[i].localPort}`]));
    const serviceFwd: Record<string, Forward> = Object.fromEntries(services.map(([name], i) => [name, appFwd[i]]));
    const scrapeTargets: ScrapeTarget[] = [
      ...proxies.map((p, i) => ({ name: p.name, kind: 'envoy' as const, baseUrl: adminFwd[i].baseUrl })),
      ...services.map(([name], i) => ({ name: name.toLowerCase(), kind: 'service' as const, baseUrl: appFwd[i].baseUrl })),
    ];

    for (const p of proxies) {
      const sink = proxyLogSink(ctx.runDir, p.name);
      const follow = await client(refOf(p.cluster)).followLog(p.namespace, p.pod!.name, p.container, (line) => sink.write(line));
      stoppers.push(() => {
        follow.stop();
        sink.close();
      });
    }

    const gatewayAddress = addresses[spec.gateway!.cluster] ?? '';
    const topology = kubeTopology({
      spec,
      admin,
      localPodIp: proxies[1].pod!.ip,
      appPort: APP_PORT,
      gatewayAddress,
      gatewayLocality: gatewayEndpointLocality(spec),
    });
    const target = local[1];
    const warnings: string[] = [];
    if (opts.mode === 'kube' && !opts.installIstio)
      warnings.push(
        'existing Istio installation: the JSON access log and outlier log need the mesh config of docs/real-clusters.md; without it raw/envoy/*/access.ndjson stays empty',
      );

    const podOfTarget = (t: string) => {
      const key = t.toLowerCase();
      return proxies.find(
        (p) =>
          p.name === key ||
          p.name === `${key}-sidecar` ||
          (key === local[0].toLowerCase() && p === proxies[1]) ||
          (key === remote[0].toLowerCase() && p === proxies[3]),
      );
    };

    return {
      entry: {
        url: `http://${target.host}${target.port.number === 80 ? '' : `:${target.port.number}`}`,
        connectTo: `127.0.0.1:${entry.localPort}`,
      },
      scrapeTargets,
      topology,
      warnings,
      versions,
      casualties: () => supervisor?.casualties() ?? [],
      async fault(f: Fault) {
        const p = podOfTarget(f.target);
        if (!p)
          throw new SpilloverError({
            message: `fault target "${f.target}" is not a workload of this run`,
            expected: proxies.map((x) => x.name).join(', '),
          });
        if (f.action === 'kill') {
          // A killed pod is replaced by its Deployment, as a crashed pod would be on a real cluster.
          await client(refOf(p.cluster)).deletePod(p.namespace, p.pod!.name, f.signal === 'SIGKILL' ? 0 : 30);
        } else if (f.action === 'service-fault') {
          const name = p === proxies[1] ? local[0] : p === proxies[3] ? remote[0] : undefined;
          if (!name)
            throw new SpilloverError({
              message: `service-fault target "${f.target}" is not a service`,
              expected: `${local[0]}, ${remote[0]}`,
            });
          const res = await fetch(`${serviceFwd[name].baseUrl}/_spillover/fault`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ mode: f.mode, durationMs: f.duration ? parseDurationMs(f.duration) : undefined }),
          });
          if (!res.ok) throw new Error(`service ${name} refused the fault: ${res.status}`);
        } else {
          throw new SpilloverError({
            message: `fault "${f.action}" is not available on real clusters`,
            fix: 'a process cannot be frozen through the Kubernetes API; use kill or service-fault, or the local backend',
          });
        }
      },
      describe() {
        return [
          ...refs.map((r) => `${r.name}: kubectl ${r.kubeconfig ? `--kubeconfig ${r.kubeconfig} ` : ''}--context ${r.context} get pods -A`),
          `send requests:   curl -H 'host: ${target.host}' http://127.0.0.1:${entry.localPort}/   (port-forward to the client relay; ends with this process)`,
          ...Object.entries(admin).map(([n, a]) => `admin ${n.padEnd(10)} http://${a}/`),
          `remove it all:   spillover cleanup${opts.mode === 'kind' ? ` (or: ${refs.map((r) => `kind delete cluster --name ${r.kindName}`).join('; ')})` : ''}`,
        ].join('\n');
      },
      // In-cluster load (engine k6): resume the paused k6 at t0 and stream its JSON samples.
      ...(useK6
        ? {
            loadEngine: k6InClusterEngine({
              ref: refOf(spec.client.cluster),
              pod: proxies[0],
              forwarder: pf,
              client: client(refOf(spec.client.cluster)),
              onStop: (stop) => stoppers.push(stop),
              signal: ctx.signal,
            }),
          }
        : {}),
    } as Deployment;
  }
}

/** Delete what one run created. Returns a line per thing removed. */
async function removeRun(
  s: KubeState,
  tools: Tools,
  clientOf: ((ref: ClusterRef) => KubeClient) | undefined,
  kubeConfig?: (context: string) => k8s.KubeConfig,
): Promise<string[]> {
  const removed: string[] = [];
  if (s.mode === 'kind') {
    await Promise.all(
      s.clusters.map(async (c) => {
        const r = await tools.run(
          { cmd: 'kind', args: ['delete', 'cluster', '--name', c.kindName!, ...(c.kubeconfig ? ['--kubeconfig', c.kubeconfig] : [])] },
          { allowFail: true },
        );
        if (r.exitCode === 0) removed.push(`kind cluster ${c.kindName}`);
      }),
    );
    for (const name of s.dockerContainers) {
      const r = await tools.run({ cmd: 'docker', args: ['rm', '-f', name] }, { allowFail: true });
      if (r.exitCode === 0) removed.push(`docker container ${name}`);
    }
    return removed;
  }
  const byContext = (context: string) => {
    const ref = s.clusters.find((c) => c.context === context) ?? { name: context, context };
    return clientOf ? clientOf(ref) : new KubeClient(kubeConfig ? kubeConfig(context) : kubeConfigFor(context, ref.kubeconfig), ref.name);
  };
  // Reverse order: workloads before their namespaces, Istio config before istio-system.
  for (const o of [...s.created].reverse()) {
    try {
      if (
        await byContext(o.context).delete({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace: o.namespace } })
      ) {
        removed.push(`${o.context}: ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`);
      }
    } catch (e) {
      removed.push(`${o.context}: could not delete ${o.kind} ${o.name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Istio itself only where this run installed it into an istio-system it created.
  for (const context of s.istioInstalled) {
    if (s.created.some((o) => o.context === context && o.kind === 'Namespace' && o.name === ISTIO_NS)) {
      const f = s.clusters.find((c) => c.context === context)?.kubeconfig;
      await tools.run(
        { cmd: 'istioctl', args: ['uninstall', '--context', context, '--purge', '-y', ...(f ? ['--kubeconfig', f] : [])] },
        { allowFail: true },
      );
      removed.push(`${context}: Istio (istioctl uninstall --purge)`);
    }
  }
  return removed;
}

export { runPrefix, labelValue, RUN_LABEL };
