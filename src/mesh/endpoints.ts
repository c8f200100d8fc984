/**
 * Which endpoints a proxy's cluster for a host gets, standing in for EDS (§7 of the fact sheet):
 * the Kubernetes Service in the proxy's cluster wins the Service object; ServiceEntry endpoints for
 * the same host are merged into it only from the same namespace and only under the same port name.
 */
import { gatewaysOf, type WorkloadPlan } from './plan.ts';
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
  /** Pod labels (subsets, failoverPriority); ServiceEntry endpoints carry their own labels. */
  labels?: Record<string, string>;
  /** The endpoint's network; empty or absent: reachable from everywhere (IsSameOrEmpty). */
  network?: string;
  /** The instance behind it (a-0...), when it is one pod. */
  instance?: string;
  /** EDS load_balancing_weight when not 1 (a gateway standing for several pods). */
  weight?: number;
}

export interface ServiceView {
  host: string;
  port: number;
  portName: string;
  namespace: string;
  /** The Kubernetes Service of the proxy's cluster, when there is one (its first pod). */
  kube?: WorkloadPlan;
  /** Every pod of the Service the proxy's istiod sees (all clusters with multi-primary discovery). */
  pods?: WorkloadPlan[];
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
  // Replicated control planes see their own cluster's pods; multi-primary istiods see every cluster's.
  const visible = (w: WorkloadPlan) => w.host === host && (plan.discovery === 'multi-primary' || w.sidecar.cluster === proxyCluster);
  const all = plan.workloads.filter(visible);
  const kube = all.find((w) => w.sidecar.cluster === proxyCluster) ?? all[0];
  // A pod outside the endpoints leaves its Service in place: only its endpoint goes.
  const pods = all.filter((w) => !w.notReady);
  const ses = opts.serviceEntries === false ? [] : resources.serviceEntriesFor(host);
  if (!kube && ses.length === 0) return undefined;

  const sas = new Set<string>();
  const endpoints = kube ? podEndpoints(pods, sas) : [];
  const first = (ses[0]?.spec.ports ?? [])[0] ?? {};
  const port: number = kube ? kube.port : first.number;
  const portName: string = kube ? kube.portName : first.name;
  const namespace = kube ? kube.namespace : seNamespace(ses[0], 'default');
  for (const se of ses) endpoints.push(...serviceEntryEndpoints(se, { host, kube, namespace, portName, sas }, ctx));
  return { host, port, portName, namespace, kube, pods, endpoints, serviceAccounts: [...sas] };
}

/** One endpoint per pod of the Service, at its sidecar's inbound listener; their identities join the SANs. */
function podEndpoints(pods: WorkloadPlan[], sas: Set<string>): EndpointSpec[] {
  return pods.map((w) => {
    const ep: EndpointSpec = {
      ip: w.sidecar.inbound.ip,
      port: w.sidecar.inbound.port,
      locality: w.sidecar.locality,
      service: w.service,
      tlsMode: 'istio',
      origin: `workload ${w.service}`,
    };
    // Only the general topology adds these, so the study's endpoints stay exactly as they were.
    if (w.labels) Object.assign(ep, { labels: w.labels, network: w.sidecar.network, instance: w.instance });
    sas.add(w.sidecar.identity.spiffe);
    return ep;
  });
}

interface SeScope {
  host: string;
  kube?: WorkloadPlan;
  namespace: string;
  portName: string;
  /** The SAN set, extended by the entry's subjectAltNames and endpoint service accounts. */
  sas: Set<string>;
}

/** A ServiceEntry's endpoints for the host, as istiod merges them into the Service (same namespace, same port name). */
function serviceEntryEndpoints(se: IstioResource, o: SeScope, ctx: TranslateContext): EndpointSpec[] {
  const { host, kube, portName, sas } = o;
  const label = ctx.resources.describe(se);
  const ns = seNamespace(se, o.namespace);
  if (kube && ns !== kube.namespace) {
    ctx.warnings.push(
      `${label}: its endpoints are dropped from ${host}: the Kubernetes Service ${host} wins and only ServiceEntries in its namespace "${kube.namespace}" add endpoints (found namespace "${ns}"); set metadata.namespace: ${kube.namespace}`,
    );
    return [];
  }
  const ports: Json[] = se.spec.ports ?? [];
  const sePort = ports.find((p) => p.name === portName);
  if (!sePort) {
    ctx.warnings.push(
      `${label}: its endpoints are dropped from ${host}: no spec.ports entry is named "${portName}" like the Kubernetes Service port (found ${JSON.stringify(ports.map((p) => p.name))}); rename the ServiceEntry port to "${portName}"`,
    );
    return [];
  }
  for (const san of se.spec.subjectAltNames ?? []) sas.add(san);
  const td = trustDomain(ctx.plan.client.identity.spiffe);
  const out: EndpointSpec[] = [];
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
    out.push({
      ip: ep.address,
      port: epPort,
      locality,
      service: behindGateway(ep.address, epPort, host, ctx) ?? 'external',
      tlsMode: labels['security.istio.io/tlsMode'] === 'istio' || ep.serviceAccount ? 'istio' : 'disabled',
      origin: where,
      ...(ep.labels ? { labels: ep.labels } : {}),
      ...(ep.network ? { network: ep.network } : {}),
      ...(ep.weight ? { weight: ep.weight } : {}),
    });
  });
  return out;
}

/** An endpoint at the east-west gateway leads to the workload serving the host in the gateway's cluster. */
function behindGateway(ip: string, port: number, host: string, ctx: TranslateContext): string | undefined {
  const gw = gatewaysOf(ctx.plan).find((g) => g.listener.ip === ip && g.listener.port === port);
  if (!gw) return undefined;
  return ctx.plan.workloads.find((w) => w.host === host && w.sidecar.cluster === gw.cluster)?.service;
}

/**
 * EndpointsByNetworkFilter: endpoints on the proxy's network (or on none) are dialled directly; those
 * on another network are replaced by that network's east-west gateway, one per locality, weighted by
 * the endpoints it stands for. Only mTLS endpoints cross networks (SNI routing needs the mTLS SNI).
 * A gateway itself (sniDnat) only sees its own network (REQUESTED_NETWORK_VIEW).
 */
export function filterByNetwork(
  endpoints: EndpointSpec[],
  proxyNetwork: string,
  ctx: TranslateContext,
  opts: { sniDnat: boolean },
): EndpointSpec[] {
  const out: EndpointSpec[] = [];
  const viaGateway = new Map<string, EndpointSpec>();
  for (const e of endpoints) {
    if (!e.network || e.network === proxyNetwork) {
      out.push(e);
      continue;
    }
    if (opts.sniDnat || e.tlsMode !== 'istio') continue;
    const gw = gatewaysOf(ctx.plan).find((g) => g.network === e.network);
    if (!gw) {
      ctx.warnings.push(
        `${e.origin}: ${e.ip}:${e.port} is on network ${e.network}, which has no east-west gateway, so istiod leaves it out of the endpoints of proxies on ${proxyNetwork}`,
      );
      continue;
    }
    const key = `${e.locality}|${gw.name}`;
    const seen = viaGateway.get(key);
    if (seen) {
      seen.weight = (seen.weight ?? 1) + (e.weight ?? 1);
      continue;
    }
    const ep: EndpointSpec = {
      ip: gw.listener.ip,
      port: gw.listener.port,
      locality: e.locality,
      service: e.service,
      tlsMode: 'istio',
      origin: `east-west gateway ${gw.name} for ${e.origin}`,
      // AugmentLabels(nil, cluster, "", "", network): the gateway endpoint carries no pod or locality labels.
      labels: { 'topology.istio.io/cluster': gw.cluster, 'topology.istio.io/network': gw.network },
      network: gw.network,
      weight: e.weight ?? 1,
    };
    viaGateway.set(key, ep);
    out.push(ep);
  }
  return out;
}
