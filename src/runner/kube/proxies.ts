/**
 * Which proxies a real-cluster run watches, and how to find their pods: the study's four (client,
 * a-sidecar, gateway, b-sidecar, named as they always were), or for the general topology the client,
 * every replica's sidecar (named as the local backend names them: <service>[-<replica>]-sidecar) and
 * every east-west gateway (gateway-<cluster>).
 */
import type { Experiment } from '../../experiment/schema.ts';
import { EASTWEST, ISTIO_NS } from './istio-manifests.ts';
import { eastWestClusters } from './kube-model.ts';
import { CLIENT_NAME, K6_NAME, LOAD_NAMESPACE, serviceOfHost } from './names.ts';

export interface Proxy {
  name: string;
  cluster: string;
  namespace: string;
  selector: string;
  container: string;
  /** Experiment service whose pod this sidecar is in, and the replica. */
  service?: string;
  replica?: number;
  /** Pods that share the selector (replicas): this proxy is the replica-th of `count` ready ones. */
  count?: number;
  pod?: { name: string; ip: string };
}

const SIDECAR = 'istio-proxy';

function clientProxy(spec: Experiment, useK6: boolean): Proxy {
  return {
    name: 'client',
    cluster: spec.client.cluster,
    namespace: LOAD_NAMESPACE,
    selector: `app=${useK6 ? K6_NAME : CLIENT_NAME}`,
    container: SIDECAR,
  };
}

function gatewayProxy(name: string, cluster: string): Proxy {
  return { name, cluster, namespace: ISTIO_NS, selector: `istio=${EASTWEST.selector.istio}`, container: SIDECAR };
}

/** The study: A in the client's cluster, B in the gateway's, one pod each. */
function studyProxies(spec: Experiment, useK6: boolean): Proxy[] {
  const local = Object.entries(spec.services).find(([, s]) => s.cluster === spec.client.cluster)!;
  const remote = Object.entries(spec.services).find(([, s]) => s.cluster === spec.gateway!.cluster)!;
  const sidecar = ([service, s]: typeof local): Proxy => ({
    name: `${service.toLowerCase()}-sidecar`,
    cluster: s.cluster,
    namespace: serviceOfHost(s.host).namespace,
    selector: `app=${serviceOfHost(s.host).name}`,
    container: SIDECAR,
    service,
    replica: 0,
  });
  return [clientProxy(spec, useK6), sidecar(local), gatewayProxy('gateway', spec.gateway!.cluster), sidecar(remote)];
}

export function proxiesOf(spec: Experiment, useK6: boolean): Proxy[] {
  if (spec.gateway) return studyProxies(spec, useK6);
  const sidecars = Object.entries(spec.services).flatMap(([service, s]) =>
    Array.from({ length: s.replicas }, (_, r) => ({
      name: `${service.toLowerCase()}${s.replicas === 1 ? '' : `-${r}`}-sidecar`,
      cluster: s.cluster,
      namespace: serviceOfHost(s.host).namespace,
      selector: `spillover.dev/service=${service}`,
      container: SIDECAR,
      service,
      replica: r,
      count: s.replicas,
    })),
  );
  return [clientProxy(spec, useK6), ...sidecars, ...eastWestClusters(spec).map((c) => gatewayProxy(`gateway-${c}`, c))];
}

/** Proxies a fault target names: a service (all its pods), a pod (`a-0`) or a sidecar (`a-0-sidecar`), or a gateway. */
export function proxiesForTarget(proxies: Proxy[], target: string): Proxy[] {
  const key = target.toLowerCase().replace(/-sidecar$/, '');
  const exact = proxies.filter((p) => p.name === key || p.name === `${key}-sidecar`);
  if (exact.length) return exact;
  const byService = proxies.filter((p) => p.service?.toLowerCase() === key);
  if (byService.length) return byService;
  return proxies.filter((p) => p.service && `${p.service.toLowerCase()}-${p.replica}` === key);
}

/** The instance name a pod's app reports (workloads.ts serviceConfig). */
export const instanceOf = (spec: Experiment, p: Proxy) =>
  spec.services[p.service!].replicas > 1 ? p.pod!.name : `${p.service!.toLowerCase()}-0`;

/** Local name of the app forward and scrape target of a pod (`a` for the study, else the sidecar's name without -sidecar). */
export const appName = (p: Proxy) => p.name.replace(/-sidecar$/, '');
