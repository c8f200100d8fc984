/**
 * After the steps: the telemetry of a real-cluster run through the API server -- each proxy's pod
 * found, port-forwards to its admin port (and to each app and the client relay), its stdout streamed
 * into raw/envoy/<name>/ -- so capture and analysis run unchanged; and the faults a cluster can do.
 */
import type { Fault } from '../../experiment/schema.ts';
import type { TimedFault } from '../../experiment/normalise.ts';
import { SpilloverError } from '../../errors.ts';
import type { BackendContext, Deployment, ScrapeTarget } from '../backend.ts';
import type { KubeClient } from './kube-client.ts';
import { entryService, resourceClusters } from './kube-model.ts';
import { validateAll, type KubeObject } from './validate.ts';
import { CLIENT_NAME, LOAD_NAMESPACE, runLabels } from './names.ts';
import type { Forward, PortForwarder } from './port-forward.ts';
import { proxyLogSink } from './proxy-log.ts';
import { appName, proxiesForTarget, proxiesOf, type Proxy } from './proxies.ts';
import type { ClusterRef } from './step-types.ts';
import { runTopology } from './run-topology.ts';
import { APP_PORT, CLIENT_RELAY_PORT, ENVOY_ADMIN_PORT } from './workloads.ts';

export interface ConnectDeps {
  mode: 'kind' | 'kube';
  installIstio: boolean;
  refs: ClusterRef[];
  client: (ref: ClusterRef) => KubeClient;
  forwarder: PortForwarder;
  useK6: boolean;
  podMs: number;
  pollMs: number;
  onStop: (stop: () => void) => void;
  /** Apply objects to a cluster as the steps do (on existing clusters: recorded for teardown, never taking over). */
  apply: (cluster: string, objects: KubeObject[]) => Promise<void>;
}

export interface Connected {
  proxies: Proxy[];
  admin: Record<string, string>;
  apps: Map<Proxy, Forward>;
  entry: Forward;
  scrapeTargets: ScrapeTarget[];
}

const refIn = (d: ConnectDeps, cluster: string) => d.refs.find((r) => r.name === cluster)!;

async function findPods(d: ConnectDeps, ctx: BackendContext, proxies: Proxy[]) {
  const wait = { pollMs: d.pollMs, signal: ctx.signal, timeoutMs: d.podMs };
  const lists = new Map<string, Promise<Array<{ name: string; ip: string }>>>();
  await Promise.all(
    proxies.map(async (p) => {
      const c = d.client(refIn(d, p.cluster));
      if (p.name === 'client' && d.useK6) p.pod = await c.runningPod(p.namespace, p.selector, wait);
      else if (!p.count || p.count === 1) p.pod = await c.readyPod(p.namespace, p.selector, wait);
      else {
        const key = `${p.cluster}/${p.namespace}/${p.selector}`;
        if (!lists.has(key)) lists.set(key, c.readyPods(p.namespace, p.selector, p.count, wait));
        p.pod = (await lists.get(key)!)[p.replica!];
      }
    }),
  );
}

/** All forwards at once: each is a kubectl process and an API-server round trip. */
export async function connectProxies(d: ConnectDeps, ctx: BackendContext): Promise<Connected> {
  const spec = ctx.experiment.spec;
  const proxies = proxiesOf(spec, d.useK6);
  await findPods(d, ctx, proxies);
  const fwd = (name: string, p: Proxy, port: number): Promise<Forward> => {
    const ref = refIn(d, p.cluster);
    return d.forwarder.forward(
      { name, context: ref.context, kubeconfig: ref.kubeconfig, namespace: p.namespace, pod: p.pod!.name, port },
      ctx.signal,
    );
  };
  const services = proxies.filter((p) => p.service);
  const entryProxy = async () =>
    d.useK6
      ? {
          ...proxies[0],
          pod: await d.client(refIn(d, spec.client.cluster)).readyPod(LOAD_NAMESPACE, `app=${CLIENT_NAME}`, {
            pollMs: d.pollMs,
            signal: ctx.signal,
            timeoutMs: d.podMs,
          }),
        }
      : proxies[0];
  const [adminFwd, appFwd, entry] = await Promise.all([
    Promise.all(proxies.map((p) => fwd(`${p.name}-admin`, p, ENVOY_ADMIN_PORT))),
    Promise.all(services.map((p) => fwd(`${appName(p)}-app`, p, APP_PORT))),
    entryProxy().then((p) => fwd('client-relay', p, CLIENT_RELAY_PORT)),
  ]);
  for (const p of proxies) {
    const sink = proxyLogSink(ctx.runDir, p.name);
    const follow = await d.client(refIn(d, p.cluster)).followLog(p.namespace, p.pod!.name, p.container, (line) => sink.write(line));
    d.onStop(() => {
      follow.stop();
      sink.close();
    });
  }
  return {
    proxies,
    admin: Object.fromEntries(proxies.map((p, i) => [p.name, `127.0.0.1:${adminFwd[i].localPort}`])),
    apps: new Map(services.map((p, i) => [p, appFwd[i]])),
    entry,
    scrapeTargets: [
      ...proxies.map((p, i) => ({ name: p.name, kind: 'envoy' as const, baseUrl: adminFwd[i].baseUrl })),
      ...services.map((p, i) => ({ name: appName(p), kind: 'service' as const, baseUrl: appFwd[i].baseUrl })),
    ],
  };
}

async function post(url: string, body: unknown, what: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${what} refused the fault: ${res.status}`);
}

/** kill: delete the pod (its Deployment replaces it, as after a crash); service-fault: the app's fault API; drain: Envoy's; apply: the API server's. */
/** `kubectl apply` of an Istio resource mid-run, in every cluster whose istiod reads the experiment's resources. */
export function faultObject(f: Extract<Fault, { action: 'apply' }>, runId: string): KubeObject {
  const o = structuredClone(f.resource) as unknown as KubeObject;
  return { ...o, metadata: { ...o.metadata, labels: { ...(o.metadata?.labels ?? {}), ...runLabels(runId) } } };
}

export function clusterFault(d: ConnectDeps, c: Connected, ctx: BackendContext) {
  return async (f: TimedFault) => {
    if (f.action === 'apply') {
      const obj = faultObject(f, ctx.runId);
      validateAll([{ obj, where: `faults (apply at ${f.at})` }]);
      for (const cluster of resourceClusters(ctx.experiment.spec)) await d.apply(cluster, [obj]);
      ctx.log(`applied ${obj.kind}/${obj.metadata.name} (fault at ${f.at})`);
      return;
    }
    const targets = proxiesForTarget(c.proxies, f.target);
    if (!targets.length)
      throw new SpilloverError({
        message: `fault target "${f.target}" is not a workload of this run`,
        expected: c.proxies.map((x) => x.name).join(', '),
      });
    if (f.action === 'kill') {
      for (const p of targets) await d.client(refIn(d, p.cluster)).deletePod(p.namespace, p.pod!.name, f.signal === 'SIGKILL' ? 0 : 30);
    } else if (f.action === 'service-fault') {
      const apps = targets.filter((p) => c.apps.has(p));
      if (!apps.length)
        throw new SpilloverError({
          message: `service-fault target "${f.target}" is not a service`,
          expected: [...c.apps.keys()].map(appName).join(', '),
        });
      const body = { mode: f.mode, durationMs: f.durationMs };
      await Promise.all(apps.map((p) => post(`${c.apps.get(p)!.baseUrl}/_spillover/fault`, body, `service ${appName(p)}`)));
    } else if (f.action === 'drain') {
      // What Istio's failover task does with `kubectl exec ... curl -X POST localhost:15000/drain_listeners`.
      await Promise.all(targets.map((p) => post(`http://${c.admin[p.name]}/drain_listeners?inboundonly`, {}, `${p.name} admin`)));
    } else {
      throw new SpilloverError({
        message: `fault "${f.action}" is not available on real clusters`,
        fix: 'use kill, service-fault, drain or apply, or the local backend',
      });
    }
  };
}

export function deploymentOf(
  d: ConnectDeps,
  ctx: BackendContext,
  c: Connected,
  versions: Record<string, string>,
  addresses: Record<string, string>,
) {
  const spec = ctx.experiment.spec;
  const target = entryService(spec);
  const warnings: string[] = [];
  if (d.mode === 'kube' && !d.installIstio)
    warnings.push(
      'existing Istio installation: the JSON access log and outlier log need the mesh config of docs/real-clusters.md; without it raw/envoy/*/access.ndjson stays empty',
    );
  const describe = () =>
    [
      ...d.refs.map((r) => `${r.name}: kubectl ${r.kubeconfig ? `--kubeconfig ${r.kubeconfig} ` : ''}--context ${r.context} get pods -A`),
      `send requests:   curl -H 'host: ${target.host}' http://127.0.0.1:${c.entry.localPort}/   (port-forward to the client relay; ends with this process)`,
      ...Object.entries(c.admin).map(([n, a]) => `admin ${n.padEnd(10)} http://${a}/`),
      `remove it all:   spillover cleanup${d.mode === 'kind' ? ` (or: ${d.refs.map((r) => `kind delete cluster --name ${r.kindName}`).join('; ')})` : ''}`,
    ].join('\n');
  return {
    entry: {
      url: `http://${target.host}${target.port.number === 80 ? '' : `:${target.port.number}`}`,
      connectTo: `127.0.0.1:${c.entry.localPort}`,
    },
    scrapeTargets: c.scrapeTargets,
    topology: runTopology(spec, c, addresses),
    warnings,
    versions,
    fault: clusterFault(d, c, ctx),
    describe,
  } satisfies Partial<Deployment>;
}
