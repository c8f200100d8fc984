/**
 * Which endpoints a proxy's cluster for a host gets, standing in for EDS (§7 of the fact sheet):
 * the Kubernetes Service in the proxy's cluster wins the Service object; ServiceEntry endpoints for
 * the same host are merged into it only from the same namespace and only under the same port name.
 */
import type { WorkloadPlan } from './plan.ts';
import type { TranslateContext } from './context.ts';
import type { Json, IstioResource } from './resources.ts';
import { isIP } from 'node:net';

export interface EndpointSpec {
  ip: string;
  port: number;
  locality: string;
  /** Experiment-level service the endpoint leads to (A, B) or "external". */
  service: string;
  /** Auto-mTLS: does istiod consider the endpoint mTLS-capable (tlsMode=istio)? */
  tlsMode: 'istio' | 'disabled';
  /** Where it came from, for messages: "workload A" or "ServiceEntry a ... endpoints[0]". */
  origin: string;
}

export interface ServiceView {
  host: string;
  port: number;
  portName: string;
  namespace: string;
  /** The Kubernetes Service of the proxy's cluster, when there is one. */
  kube?: WorkloadPlan;
  endpoints: EndpointSpec[];
  /** SPIFFE identities istiod would put in the SAN check (PushContext.ServiceAccounts). */
  serviceAccounts: string[];
}

const trustDomain = (spiffe: string) => /^spiffe:\/\/([^/]+)/.exec(spiffe)?.[1] ?? 'cluster.local';

/**
 * A ServiceEntry without metadata.namespace is taken to live in the namespace of the service it
 * names, as `kubectl apply -n <that namespace>` would place it; an explicit namespace is honoured.
 */
const seNamespace = (se: IstioResource, fallback: string) => se.namespace ?? fallback;

/**
 * The service as a proxy in `proxyCluster` sees it. ServiceEntries are the client cluster's resources
 * (the study applies them there); the gateway's view passes serviceEntries: false so that it does not
 * route to itself.
 */
export function serviceView(
  host: string,
  proxyCluster: string,
  ctx: TranslateContext,
  opts: { serviceEntries?: boolean } = {},
): ServiceView | undefined {
  const { plan, resources } = ctx;
  const kube = plan.workloads.find((w) => w.host === host && w.sidecar.cluster === proxyCluster);
  const ses = opts.serviceEntries === false ? [] : resources.serviceEntriesFor(host);
  if (!kube && ses.length === 0) return undefined;

  const td = trustDomain(plan.client.identity.spiffe);
  const endpoints: EndpointSpec[] = [];
  const sas = new Set<string>();
  let port: number;
  let portName: string;
  let namespace: string;

  if (kube) {
    port = kube.port;
    portName = kube.portName;
    namespace = kube.namespace;
    endpoints.push({
      ip: kube.sidecar.inbound.ip,
      port: kube.sidecar.inbound.port,
      locality: kube.sidecar.locality,
      service: kube.service,
      tlsMode: 'istio',
      origin: `workload ${kube.service}`,
    });
    sas.add(kube.sidecar.identity.spiffe);
  } else {
    const first = ses[0];
    const p = (first.spec.ports ?? [])[0] ?? {};
    port = p.number;
    portName = p.name;
    namespace = seNamespace(first, 'default');
  }

  for (const se of ses) {
    const label = ctx.resources.describe(se);
    const ns = seNamespace(se, namespace);
    if (kube && ns !== kube.namespace) {
      ctx.warnings.push(
        `${label}: its endpoints are dropped from ${host}: the Kubernetes Service ${host} wins and only ServiceEntries in its namespace "${kube.namespace}" add endpoints (found namespace "${ns}"); set metadata.namespace: ${kube.namespace}`,
      );
      continue;
    }
    const ports: Json[] = se.spec.ports ?? [];
    const sePort = ports.find((p) => p.name === portName);
    if (!sePort) {
      ctx.warnings.push(
        `${label}: its endpoints are dropped from ${host}: no spec.ports entry is named "${portName}" like the Kubernetes Service port (found ${JSON.stringify(ports.map((p) => p.name))}); rename the ServiceEntry port to "${portName}"`,
      );
      continue;
    }
    for (const san of se.spec.subjectAltNames ?? []) sas.add(san);
    (se.spec.endpoints ?? []).forEach((ep: Json, i: number) => {
      const where = `${label}: spec.endpoints[${i}]`;
      if (!isIP(String(ep.address ?? ''))) {
        ctx.warnings.push(
          `${where}: address ${JSON.stringify(ep.address)} is not an IP address, so istiod leaves it out of a STATIC ServiceEntry's endpoints; use the gateway's IP (placeholder {{gateway.<cluster>}})`,
        );
        return;
      }
      const epPort = Number(ep.ports?.[portName] ?? sePort.targetPort ?? sePort.number);
      const labels = ep.labels ?? {};
      const locality = ep.locality ?? (labels['topology.istio.io/locality'] ?? labels['istio-locality'] ?? '').replaceAll('.', '/');
      if (ep.serviceAccount) sas.add(`spiffe://${td}/ns/${ns}/sa/${ep.serviceAccount}`);
      endpoints.push({
        ip: ep.address,
        port: epPort,
        locality,
        service: behindGateway(ep.address, epPort, host, ctx) ?? 'external',
        tlsMode: labels['security.istio.io/tlsMode'] === 'istio' || ep.serviceAccount ? 'istio' : 'disabled',
        origin: where,
      });
    });
  }
  return { host, port, portName, namespace, kube, endpoints, serviceAccounts: [...sas] };
}

/** An endpoint at the east-west gateway leads to the workload serving the host in the gateway's cluster. */
function behindGateway(ip: string, port: number, host: string, ctx: TranslateContext): string | undefined {
  const gw = ctx.plan.gateway;
  if (gw.listener.ip !== ip || gw.listener.port !== port) return undefined;
  return ctx.plan.workloads.find((w) => w.host === host && w.sidecar.cluster === gw.cluster)?.service;
}
