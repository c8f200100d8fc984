/**
 * Istio resources -> one Envoy bootstrap per proxy, the way istiod would configure them for the
 * experiment's Istio release (see ../shared/facts/istio-translation.md and src/mesh/README.md for
 * the known differences from a real istiod + istio-proxy).
 */
import { gatewaysOf, ingressGatewaysOf, type MeshConfig, type MeshPlan } from './plan.ts';
import type { TranslateContext } from './context.ts';
import { Resources } from './resources.ts';
import { parseIstioVersion } from './istio-version.ts';
import { clientBootstrap } from './client-proxy.ts';
import { inboundSidecarBootstrap } from './inbound-sidecar.ts';
import { gatewayBootstrap } from './gateway.ts';
import { validateIstioResources } from './validate.ts';
import { SpilloverError } from '../errors.ts';
import { untranslatedCaveats } from './untranslated.ts';
import { ingressGatewayBootstrap } from './ingress-gateway.ts';
import { gatewayBindingCaveats } from './gateway-binding.ts';

export function translate(plan: MeshPlan): MeshConfig {
  const source = plan.source ?? { file: 'experiment', basePath: 'resources' };
  const problems = validateIstioResources(plan.resources, { ...source, hosts: plan.workloads.map((w) => w.host) });
  if (problems.length) throw new SpilloverError(problems);

  const ctx: TranslateContext = {
    plan,
    version: parseIstioVersion(plan.istioVersion, { file: source.file, path: 'istio' }),
    resources: new Resources(plan.resources, source),
    warnings: [],
  };
  ctx.warnings.push(...untranslatedCaveats(ctx.resources));

  // Each proxy sees the config of its own cluster only (see Resources.inCluster).
  const inCluster = (cluster: string): TranslateContext => ({ ...ctx, resources: ctx.resources.inCluster(cluster, plan.client.cluster) });
  const bootstraps: MeshConfig['bootstraps'] = {};
  const client = clientBootstrap(inCluster(plan.client.cluster));
  bootstraps[plan.client.name] = client.bootstrap;
  for (const w of plan.workloads) {
    const local = w.sidecar.cluster === plan.client.cluster;
    bootstraps[w.sidecar.name] = inboundSidecarBootstrap(w, inCluster(w.sidecar.cluster), {
      role: local ? 'a-sidecar' : 'b-sidecar',
      // WAN stand-in: cross-cluster requests arrive at cluster-2's sidecars, so delay them there.
      delayMs: local ? 0 : plan.wanDelayMs,
    });
  }
  for (const gw of gatewaysOf(plan)) bootstraps[gw.name] = gatewayBootstrap(inCluster(gw.cluster), gw);
  // Each further client as istiod would configure it: its own cluster's view, its own locality.
  let otherClients: MeshConfig['otherClients'];
  for (const c of plan.clients ?? []) {
    const built = clientBootstrap({ ...inCluster(c.cluster), plan: { ...plan, client: c } });
    bootstraps[c.name] = built.bootstrap;
    (otherClients ??= {})[c.name] = { authority: built.authority, clientCluster: built.clusterName };
  }
  for (const gw of ingressGatewaysOf(plan)) bootstraps[gw.name] = ingressGatewayBootstrap(inCluster(gw.cluster), gw);
  ctx.warnings.push(...gatewayBindingCaveats(ctx, (c) => ctx.resources.inCluster(c, plan.client.cluster)));

  warnMissingGatewayChains(client.clusters, bootstraps, ctx);

  const endpoints: MeshConfig['endpoints'] = {};
  for (const e of client.built.endpoints)
    endpoints[`${e.ip}:${e.port}`] = { service: e.service, locality: e.locality, priority: e.priority };
  // Beyond the study's one host: every client cluster's endpoints (gateway addresses repeat per locality).
  const clientClusters = client.clusters.length > 1 || plan.gateways ? clientClusterEndpoints(client.clusters) : undefined;

  const envoyArgs: MeshConfig['envoyArgs'] = {};
  for (const name of Object.keys(bootstraps)) {
    envoyArgs[name] = [
      '--concurrency',
      String(plan.envoy.concurrency),
      '--file-flush-interval-msec',
      String(plan.envoy.fileFlushIntervalMs),
      // Several Envoys share the machine: no hot-restart shared memory, so no base-id clashes.
      '--disable-hot-restart',
    ];
  }

  return {
    bootstraps,
    warnings: [...new Set(ctx.warnings)],
    clientCluster: client.clusterName,
    endpoints,
    authority: client.authority,
    envoyArgs,
    ...(clientClusters ? { clientClusters } : {}),
    ...(otherClients ? { otherClients } : {}),
  };
}

/** Each client cluster's endpoints by address and locality, as the oracle and the report see them. */
function clientClusterEndpoints(clusters: ReturnType<typeof clientBootstrap>['clusters']): NonNullable<MeshConfig['clientClusters']> {
  const out: NonNullable<MeshConfig['clientClusters']> = {};
  for (const c of clusters) {
    const eps: NonNullable<MeshConfig['clientClusters']>[string] = {};
    for (const e of c.built.endpoints)
      eps[`${e.ip}:${e.port}|${e.locality}`] = {
        service: e.service,
        locality: e.locality,
        priority: e.priority,
        ...(e.weight && e.weight !== 1 ? { weight: e.weight } : {}),
      };
    out[c.name] = eps;
  }
  return out;
}

/**
 * A subset routed through another network's gateway only works if that gateway has a chain for the
 * subset's SNI, i.e. if the DestinationRule is applied in the gateway's cluster too (each istiod
 * builds its gateway's chains from its own cluster's DestinationRules).
 */
function warnMissingGatewayChains(
  clusters: Array<{ name: string; built: { endpoints: Array<{ ip: string; port: number }> } }>,
  bootstraps: MeshConfig['bootstraps'],
  ctx: TranslateContext,
) {
  for (const gw of gatewaysOf(ctx.plan)) {
    const chains = new Set(((bootstraps[gw.name] as any)?.static_resources?.listeners?.[0]?.filter_chains ?? []).map((c: any) => c.name));
    for (const c of clusters) {
      const [, port, subset, host] = c.name.split('|');
      if (!subset || !c.built.endpoints.some((e) => e.ip === gw.listener.ip && e.port === gw.listener.port)) continue;
      const sni = `outbound_.${port}_.${subset}_.${host}`;
      if (chains.size && !chains.has(sni) && !chains.has('auto-passthrough')) {
        ctx.warnings.push(
          `${c.name}: its endpoints behind ${gw.name} (cluster ${gw.cluster}) are unreachable: that gateway has no filter chain for ${sni}, because no DestinationRule with subset "${subset}" is applied in ${gw.cluster}; apply it there too (metadata.annotations["spillover.dev/clusters"])`,
        );
      }
    }
  }
}
