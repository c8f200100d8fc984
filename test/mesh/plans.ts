/**
 * Fixed MeshPlans for the golden tests: the loopback layout of the local backend with stable
 * addresses, ports and certificate paths, so the generated bootstraps only change when the
 * translation does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { MeshPlan, ProxyCommon, WorkloadPlan } from '../../src/mesh/plan.ts';

/** Run directory the golden plans pretend to use (real runs use results/<exp>/<run-id>). */
export const RUN_DIR = '/run/spillover';

export interface PlanOptions {
  host?: string;
  port?: number;
  portName?: string;
  clientLocality?: string;
  aLocality?: string;
  bLocality?: string;
  /** Identity of B's sidecar; defaults to A's (the study's requirement). */
  bServiceAccount?: string;
  istioVersion?: string;
  wanDelayMs?: number;
  /** Where certificates and Envoy files live (default RUN_DIR). */
  runDir?: string;
  /** Per-proxy admin ports, for booting several Envoys on one address. */
  adminPorts?: Record<string, number>;
}

export const GATEWAY_IP = '127.0.2.3';

export function basePlan(resources: Array<Record<string, unknown>>, o: PlanOptions = {}): MeshPlan {
  const root = o.runDir ?? RUN_DIR;
  const id = (ns: string, sa: string) => ({
    spiffe: `spiffe://cluster.local/ns/${ns}/sa/${sa}`,
    certChain: `${root}/certs/${ns}.${sa}/cert-chain.pem`,
    privateKey: `${root}/certs/${ns}.${sa}/key.pem`,
    rootCert: `${root}/certs/root-cert.pem`,
  });
  const proxy = (name: string, cluster: string, ip: string, locality: string, ns: string, sa: string): ProxyCommon => ({
    name,
    cluster,
    locality,
    network: cluster === 'cluster-1' ? 'network1' : 'network2',
    admin: { ip, port: o.adminPorts?.[name] ?? 15000 },
    files: { accessLog: `${root}/raw/envoy/${name}/access.ndjson`, outlierLog: `${root}/raw/envoy/${name}/outlier.ndjson` },
    identity: id(ns, sa),
  });
  const host = o.host ?? 'a.istio.svc.cluster.local';
  const ns = host.split('.')[1] ?? 'istio';
  const workload = (service: string, cluster: string, ip: string, locality: string, sa: string): WorkloadPlan => ({
    service,
    host,
    namespace: ns,
    serviceAccount: sa,
    port: o.port ?? 80,
    portName: o.portName ?? 'http',
    app: { ip, port: 8080 },
    sidecar: { ...proxy(`${service.toLowerCase()}-sidecar`, cluster, ip, locality, ns, sa), inbound: { ip, port: 15006 } },
  });
  return {
    istioVersion: o.istioVersion ?? '1.29',
    client: {
      ...proxy('client', 'cluster-1', '127.0.1.2', o.clientLocality ?? 'us-east1/us-east1-b', 'istio', 'client'),
      outbound: { ip: '127.0.1.2', port: 15001 },
    },
    workloads: [
      workload('A', 'cluster-1', '127.0.1.10', o.aLocality ?? 'us-east1/us-east1-b', 'a'),
      workload('B', 'cluster-2', '127.0.2.10', o.bLocality ?? 'us-west1/us-west1-b', o.bServiceAccount ?? 'a'),
    ],
    gateway: {
      ...proxy('gateway', 'cluster-2', GATEWAY_IP, 'us-west1/us-west1-b', 'istio-system', 'istio-eastwestgateway'),
      listener: { ip: GATEWAY_IP, port: 15443 },
    },
    resources,
    wanDelayMs: o.wanDelayMs ?? 0,
    envoy: { fileFlushIntervalMs: 100, concurrency: 1 },
    source: { file: 'test', basePath: 'resources' },
  };
}

/** The `resources:` of experiments/peak-load.yaml with the gateway placeholder filled in. */
export function peakLoadResources(): Array<Record<string, unknown>> {
  const file = path.join(import.meta.dirname, '../../experiments/peak-load.yaml');
  const doc = parse(fs.readFileSync(file, 'utf8'));
  return JSON.parse(JSON.stringify(doc.resources).replaceAll('{{gateway.cluster-2}}', GATEWAY_IP));
}

export const dr = (host: string, trafficPolicy?: Record<string, unknown>, name = 'dr') => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name },
  spec: trafficPolicy ? { host, trafficPolicy } : { host },
});
