/**
 * The workloads: service A in the client's cluster and B in the gateway's cluster, both as Service
 * `a` in namespace `istio` with service account `a` (the study's setup: cluster-2's gateway routes on
 * the SNI of a.istio, and cluster-1's sidecar checks the peer identity .../ns/istio/sa/a; facts §5-§7),
 * run from the same service code as the local backend (deploy/service/Dockerfile), and an in-mesh
 * load client in the client's cluster.
 *
 * The service listens on loopback only (src/workload/config.ts refuses anything else), so a Sidecar
 * resource points the inbound listener at 127.0.0.1 (Istio's `ingress.defaultEndpoint`), which is how
 * Istio runs apps that bind localhost.
 */
import type { Experiment, ServiceDef } from '../../experiment/schema.ts';
import { clientLocality, deploymentName, entryService, serviceLocality } from './kube-model.ts';
import { CLIENT_NAME, LOAD_NAMESPACE, serviceOfHost } from './names.ts';
import { proxyConfigAnnotation } from './istio-manifests.ts';
import { SERVICE_IMAGE } from './versions.ts';
import type { KubeObject } from './validate.ts';

export const APP_PORT = 8080;
/** Port of the client pod's relay: a port-forward to it enters the mesh through the client sidecar. */
export const CLIENT_RELAY_PORT = 9080;
export const ENVOY_ADMIN_PORT = 15000;

/** Pods opt into injection themselves, so an existing namespace without the injection label works too. */
export const INJECT = { 'sidecar.istio.io/inject': 'true' } as const;

/** Pod label Istio reads as the workload locality (`.`-separated), overriding the node's labels. */
export const istioLocalityLabel = (locality: string) => ({ 'istio-locality': locality.split('/').join('.') });

export function namespace(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...labels, 'istio-injection': 'enabled' } } };
}

export interface ServiceWorkload {
  service: string;
  cluster: string;
  namespace: string;
  /** The Deployment's name (kube-model.ts deploymentName). */
  deployment: string;
  objects: KubeObject[];
}

export type PodPlacement = (cluster: string, node: string | undefined, locality: string) => Record<string, string> | undefined;

/** Same seed rule as the local backend, so both backends draw the same service times. */
function serviceConfig(spec: Experiment, service: string, index: number) {
  const s = spec.services[service];
  return {
    name: service,
    // Replicas of one Deployment share their args: each reports its pod name, expanded by the kubelet.
    instance: s.replicas > 1 ? '$(POD_NAME)' : `${service.toLowerCase()}-0`,
    listen: { ip: '127.0.0.1', port: APP_PORT },
    capacity: s.capacity,
    seed: spec.seed * 1000 + index,
  };
}

function serviceObjects(s: ServiceDef, labels: Record<string, string>): KubeObject[] {
  const { name, namespace: ns } = serviceOfHost(s.host);
  const app = { app: name };
  return [
    namespace(ns, labels),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: s.serviceAccount, namespace: ns, labels } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, labels: { ...labels, ...app } },
      spec: { selector: app, ports: [{ name: s.port.name, port: s.port.number, targetPort: APP_PORT, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'Sidecar',
      metadata: { name, namespace: ns, labels },
      spec: {
        workloadSelector: { labels: app },
        ingress: [{ port: { number: APP_PORT, protocol: 'HTTP', name: s.port.name }, defaultEndpoint: `127.0.0.1:${APP_PORT}` }],
      },
    },
  ];
}

function deployment(spec: Experiment, service: string, index: number, labels: Record<string, string>, image: string, place?: PodPlacement) {
  const s = spec.services[service];
  const { name, namespace: ns } = serviceOfHost(s.host);
  const deploy = deploymentName(spec, service);
  const locality = serviceLocality(spec, s);
  const app = { app: name };
  // Two deployments of one Service in a cluster must not select each other's pods.
  const selector = deploy === name ? app : { ...app, 'spillover.dev/service': service };
  const podLabels = { ...(s.labels ?? {}), ...labels, ...app, ...(s.version ? { version: s.version } : {}) };
  const nodeSelector = place?.(s.cluster, s.node, locality);
  const podName = s.replicas > 1 ? { env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } : {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deploy, namespace: ns, labels: { ...labels, ...app } },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...podLabels, ...INJECT, 'spillover.dev/service': service, ...istioLocalityLabel(locality) },
          annotations: { ...proxyConfigAnnotation() },
        },
        spec: {
          serviceAccountName: s.serviceAccount,
          ...(nodeSelector ? { nodeSelector } : {}),
          containers: [
            {
              name: 'service',
              image,
              imagePullPolicy: 'IfNotPresent',
              args: ['--config', JSON.stringify(serviceConfig(spec, service, index))],
              ...podName,
              ports: [{ name: 'http', containerPort: APP_PORT }],
            },
          ],
        },
      },
    },
  } satisfies KubeObject;
}

export function serviceWorkloads(
  spec: Experiment,
  labels: Record<string, string>,
  image = SERVICE_IMAGE,
  place?: PodPlacement,
): ServiceWorkload[] {
  return Object.entries(spec.services).map(([service, s], index) => ({
    service,
    cluster: s.cluster,
    namespace: serviceOfHost(s.host).namespace,
    deployment: deploymentName(spec, service),
    objects: [...serviceObjects(s, labels), deployment(spec, service, index, labels, image, place)],
  }));
}

/**
 * The in-mesh load client: a relay (socat, from the service image) whose outbound connections the
 * client sidecar captures, so a port-forward from the host enters the mesh exactly where an in-cluster
 * caller would. Its sidecar is the `client` Envoy of the topology.
 */
export function clientWorkload(
  spec: Experiment,
  labels: Record<string, string>,
  image = SERVICE_IMAGE,
  place?: PodPlacement,
): KubeObject[] {
  const target = entryService(spec);
  const locality = clientLocality(spec);
  const nodeSelector = place?.(spec.client.cluster, spec.client.node, locality);
  const app = { app: CLIENT_NAME };
  return [
    namespace(LOAD_NAMESPACE, labels),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: CLIENT_NAME, namespace: LOAD_NAMESPACE, labels: { ...labels, ...app } },
      spec: {
        replicas: 1,
        selector: { matchLabels: app },
        template: {
          metadata: {
            labels: { ...labels, ...app, ...INJECT, ...istioLocalityLabel(locality) },
            annotations: { ...proxyConfigAnnotation() },
          },
          spec: {
            ...(nodeSelector ? { nodeSelector } : {}),
            containers: [
              {
                name: 'relay',
                image,
                imagePullPolicy: 'IfNotPresent',
                command: ['socat'],
                args: [`TCP-LISTEN:${CLIENT_RELAY_PORT},fork,reuseaddr,bind=127.0.0.1`, `TCP:${target.host}:${target.port.number}`],
              },
            ],
          },
        },
      },
    },
  ];
}
