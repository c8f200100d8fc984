/**
 * The MeshPlan of the general topology on loopback: every pod's app and sidecar at its own address,
 * the gateways, the client, identities and Envoy files. Pure given the addresses and an identity
 * source, so golden tests build exactly the plan a run builds.
 */
import path from 'node:path';
import type { RunTiming } from '../../experiment/normalise.ts';
import type { Experiment } from '../../experiment/schema.ts';
import type { MeshTopology, TopologyPod } from '../../experiment/topology.ts';
import type { ClientProxyPlan, IdentityFiles, MeshPlan, ProxyCommon, WorkloadPlan } from '../../mesh/plan.ts';
import { envoyFile } from '../../contracts/raw.ts';
import { PORTS } from './local-addresses.ts';

/** One pod as the local backend runs it: the app process `proc` at `pod`, and its sidecar. */
export interface LocalPod {
  name: string;
  proc: string;
  pod: string;
  w: WorkloadPlan;
  topo: TopologyPod;
}

export interface PlanInputs {
  spec: Experiment;
  /** The durations the plan uses, in ms (the loader's ResolvedExperiment.timing). */
  timing: Pick<RunTiming, 'wanDelayMs' | 'fileFlushIntervalMs'>;
  topo: MeshTopology;
  ips: Record<string, string>;
  runDir: string;
  /** e.g. experiments/peak-load.yaml, for messages. */
  sourceFile: string;
  identity(namespace: string, serviceAccount: string): Promise<IdentityFiles>;
}

/** Identity files where the run's CA would write them, for plans that issue nothing (dry run, goldens). */
export function plannedIdentity(caDir: string) {
  return async (namespace: string, serviceAccount: string): Promise<IdentityFiles> => ({
    spiffe: `spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`,
    certChain: path.join(caDir, `${namespace}.${serviceAccount}`, 'cert-chain.pem'),
    privateKey: path.join(caDir, `${namespace}.${serviceAccount}`, 'key.pem'),
    rootCert: path.join(caDir, 'root-cert.pem'),
  });
}

export async function localMeshPlan(inp: PlanInputs): Promise<{ plan: MeshPlan; services: LocalPod[] }> {
  const { spec, topo, ips } = inp;
  const clusterOf = (n: string) => topo.clusters.find((c) => c.name === n)!;
  // One identity per namespace/service account, however many pods share it.
  const issued = new Map<string, Promise<IdentityFiles>>();
  const identity = (ns: string, sa: string) => {
    const key = `${ns}/${sa}`;
    if (!issued.has(key)) issued.set(key, inp.identity(ns, sa));
    return issued.get(key)!;
  };
  const files = (name: string) => ({
    accessLog: envoyFile(inp.runDir, name, 'access.ndjson'),
    outlierLog: envoyFile(inp.runDir, name, 'outlier.ndjson'),
  });
  const proxy = async (name: string, cluster: string, ip: string, ns: string, sa: string, locality: string): Promise<ProxyCommon> => ({
    name,
    cluster,
    locality,
    network: clusterOf(cluster).network,
    admin: { ip, port: PORTS.admin },
    files: files(name),
    identity: await identity(ns, sa),
  });

  const services = await localPods(inp, proxy);
  const gateways = await Promise.all(
    topo.gateways.map(async (g) => ({
      ...(await proxy(g.name, g.cluster, ips[g.name], 'istio-system', 'istio-eastwestgateway', clusterOf(g.cluster).locality)),
      listener: { ip: ips[g.name], port: g.port },
    })),
  );
  const ingressGateways = await Promise.all(
    (topo.ingressGateways ?? []).map(async (g) => ({
      ...(await proxy(g.name, g.cluster, ips[g.name], 'istio-system', 'istio-ingressgateway-service-account', g.locality)),
      ip: ips[g.name],
      labels: g.labels,
    })),
  );
  let text = JSON.stringify(spec.resources);
  for (const g of topo.gateways) text = text.replaceAll(`{{gateway.${g.cluster}}}`, ips[g.name]);
  // Every client its own sidecar: its address, cluster, locality and namespace (service account "client").
  const topoClients = topo.clients?.length
    ? topo.clients
    : [{ envoy: 'client', cluster: spec.client.cluster, locality: topo.client.locality, namespace: 'istio' }];
  const clients: ClientProxyPlan[] = await Promise.all(
    topoClients.map(async (c) => ({
      ...(await proxy(c.envoy, c.cluster, ips[c.envoy], c.namespace, 'client', c.locality)),
      outbound: { ip: ips[c.envoy], port: PORTS.outbound },
    })),
  );
  const plan: MeshPlan = {
    istioVersion: spec.istio.version,
    client: clients[0],
    ...(clients.length > 1 ? { clients: clients.slice(1) } : {}),
    workloads: services.map((s) => s.w),
    gateway: gateways[0],
    // The study's shorthand keeps its one `gateway`; the general model lists every network's.
    ...(spec.gateway ? {} : { gateways }),
    ...(topo.discovery === 'multi-primary' ? { discovery: 'multi-primary' as const } : {}),
    ...(ingressGateways.length ? { ingressGateways } : {}),
    resources: JSON.parse(text) as Array<Record<string, unknown>>,
    source: { file: inp.sourceFile, basePath: 'resources' },
    wanDelayMs: inp.timing.wanDelayMs,
    envoy: { fileFlushIntervalMs: inp.timing.fileFlushIntervalMs, concurrency: spec.envoy.concurrency },
  };
  return { plan, services };
}

type ProxyOf = (name: string, cluster: string, ip: string, ns: string, sa: string, locality: string) => Promise<ProxyCommon>;

/** Every pod of the topology: its app address and its sidecar, as the mesh plan and the backend see it. */
async function localPods(inp: PlanInputs, proxy: ProxyOf): Promise<LocalPod[]> {
  const { spec, topo, ips } = inp;
  const services: LocalPod[] = [];
  for (const pod of topo.pods) {
    const s = spec.services[pod.service];
    const ip = ips[pod.proc];
    const w: WorkloadPlan = {
      service: pod.service,
      host: s.host,
      namespace: pod.namespace,
      serviceAccount: s.serviceAccount,
      port: s.port.number,
      portName: s.port.name,
      app: { ip, port: PORTS.app },
      sidecar: {
        ...(await proxy(`${pod.proc}-sidecar`, pod.cluster, ip, pod.namespace, s.serviceAccount, pod.locality)),
        inbound: { ip, port: PORTS.inbound },
      },
      labels: pod.labels,
      instance: pod.instance,
    };
    services.push({ name: pod.service, proc: pod.proc, pod: ip, w, topo: pod });
  }
  return services;
}
