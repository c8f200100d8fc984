/**
 * What the local backend hands the run once everything is up: where the load goes in, what to
 * scrape, which proxy is which, and the fault switch (signals, drains and app faults directly; the
 * control plane's readiness, scale and apply through its pushes).
 */
import { SpilloverError } from '../../errors.ts';
import { RAW } from '../../contracts/raw.ts';
import type { TimedFault } from '../../experiment/normalise.ts';
import { clientsOfPlan, gatewaysOf, ingressGatewaysOf, type ProxyCommon } from '../../mesh/plan.ts';
import { ingressEntry } from './local-ingress.ts';
import { runningClients } from './local-start.ts';
import type { Supervisor } from '../../process/processes.ts';
import type { BackendContext, Deployment, ScrapeTarget } from '../backend.ts';
import type { FileControlPlane } from '../control-plane.ts';
import { PORTS } from './local-addresses.ts';
import { injectLocalFault, podsOf, type FaultPod } from './local-faults.ts';
import type { Prepared } from './local-prepare.ts';
import type { LocalScaler } from './local-scale.ts';

export interface Running {
  ctx: BackendContext;
  prepared: Prepared;
  sup: Supervisor;
  controlToken: string;
  envoyVersion: string;
  /** Creates and deletes pods for `scale` faults (only when the run has a control plane). */
  scaler?: LocalScaler;
}

export function localDeployment(r: Running): Deployment {
  const { ctx, sup } = r;
  const { plan, mesh, services } = r.prepared;
  const clients = runningClients(ctx.experiment.spec, plan);
  const proxies: ProxyCommon[] = [...clients, ...gatewaysOf(plan), ...ingressGatewaysOf(plan), ...plan.workloads.map((w) => w.sidecar)];
  // A pod a scale fault creates or deletes is scraped only while it is up.
  const exists = r.scaler && ((name: string) => ({ exists: () => r.scaler!.exists(name) }));
  const scrapeTargets: ScrapeTarget[] = [
    ...proxies.map((px) => ({
      name: px.name,
      kind: 'envoy' as const,
      baseUrl: `http://${px.admin.ip}:${px.admin.port}`,
      ...exists?.(px.name),
    })),
    ...services.map((s) => ({ name: s.proc, kind: 'service' as const, baseUrl: `http://${s.pod}:${PORTS.app}`, ...exists?.(s.proc) })),
  ];
  const target = plan.workloads.find((w) => w.host === mesh.authority) ?? plan.workloads[0];
  const clientCluster = ctx.experiment.spec.client.cluster;
  const gateways = new Set(gatewaysOf(plan).map((g) => g.name));
  const clientNames = new Set(clientsOfPlan(plan).map((c) => c.name));
  const ingress = new Set(ingressGatewaysOf(plan).map((g) => g.name));
  const roleOf = (px: ProxyCommon) =>
    clientNames.has(px.name)
      ? 'client'
      : gateways.has(px.name)
        ? 'gateway'
        : ingress.has(px.name)
          ? 'ingress-gateway'
          : px.cluster === clientCluster
            ? 'a-sidecar'
            : 'b-sidecar';
  const instances = Object.fromEntries(
    services.map((s) => [
      s.topo.instance,
      { service: s.name, cluster: s.topo.cluster, locality: s.topo.locality, version: s.topo.labels.version, proc: s.proc },
    ]),
  );
  const admin = (px: ProxyCommon) => `${px.admin.ip}:${px.admin.port}`;
  return {
    entry: ingressEntry(ctx, plan) ?? {
      url: `http://${target.host}${target.port === 80 ? '' : `:${target.port}`}`,
      connectTo: `${plan.client.outbound.ip}:${plan.client.outbound.port}`,
    },
    ...(r.prepared.clientNames ? { clientEntries: clientEntries(r) } : {}),
    scrapeTargets,
    topology: {
      envoys: Object.fromEntries(proxies.map((px) => [px.name, { role: roleOf(px), cluster: px.cluster, admin: admin(px) }])),
      clientCluster: mesh.clientCluster,
      endpoints: mesh.endpoints,
      // The study's manifest stays exactly as it was; the general topology adds its pods and clusters.
      ...(ctx.experiment.spec.gateway ? {} : { instances, clientClusters: mesh.clientClusters }),
      // Several clients: each one's served-by per locality needs the instances, whatever the topology's form.
      ...(ctx.experiment.spec.gateway && r.prepared.clientNames ? { instances } : {}),
      ...(r.prepared.clientNames ? { clients: clientsManifest(r) } : {}),
    },
    warnings: mesh.warnings,
    versions: { envoy: r.envoyVersion, istioSemantics: plan.istioVersion, controlPlane: r.prepared.label },
    casualties: () => sup.casualties(),
    fault: (f: TimedFault) => injectFault(r, f),
    describe: () =>
      [
        `send requests:   curl -H 'host: ${target.host}' http://${plan.client.outbound.ip}:${plan.client.outbound.port}/`,
        ...ingressGatewaysOf(plan).map((g) => `ingress ${g.name}: curl -H 'host: <a Gateway host>' http://${g.ip}:<server port>/`),
        ...proxies.map((px) => `admin ${px.name.padEnd(10)} http://${admin(px)}/  (stats/prometheus, clusters, config_dump)`),
        ...services.map((s) => `service ${s.proc.padEnd(8)} http://${s.pod}:${PORTS.app}/metrics`),
        `stop everything: spillover cleanup --run ${ctx.runId}   (or kill the process groups: ${sup
          .list()
          .map((p) => p.pid)
          .join(' ')})`,
      ].join('\n'),
  };
}

/** Each client's entry: its own sidecar's outbound listener, and the host istiod's config routes for it. */
function clientEntries(r: Running): Record<string, { url: string; connectTo: string }> {
  const { plan, mesh, clientNames } = r.prepared;
  const out: Record<string, { url: string; connectTo: string }> = {};
  for (const c of clientsOfPlan(plan)) {
    const authority = c === plan.client ? mesh.authority : mesh.otherClients?.[c.name]?.authority;
    const w = plan.workloads.find((x) => x.host === authority) ?? plan.workloads[0];
    out[clientNames?.[c.name] ?? c.name] = {
      url: `http://${w.host}${w.port === 80 ? '' : `:${w.port}`}`,
      connectTo: `${c.outbound.ip}:${c.outbound.port}`,
    };
  }
  return out;
}

function clientsManifest(r: Running): NonNullable<Deployment['topology']['clients']> {
  const { plan, clientNames } = r.prepared;
  return Object.fromEntries(
    clientsOfPlan(plan).map((c, i) => {
      const name = clientNames?.[c.name] ?? c.name;
      return [name, { envoy: c.name, cluster: c.cluster, locality: c.locality, dir: i === 0 ? '.' : `${RAW.clientsDir}/${name}` }];
    }),
  );
}

async function injectFault(r: Running, f: TimedFault): Promise<void> {
  const { services, plan } = r.prepared;
  const pods: FaultPod[] = services.map((s) => ({ name: s.name, proc: s.proc, instance: s.topo.instance, pod: s.pod }));
  if (f.action !== 'unready' && f.action !== 'apply' && f.action !== 'scale') return injectLocalFault(f, r.sup, pods, r.controlToken);
  const cp: FileControlPlane | undefined = r.prepared.controlPlane;
  if (!cp) throw new SpilloverError({ message: `fault ${f.action} needs the control plane, which this run did not start` });
  if (f.action === 'apply') {
    let text = JSON.stringify(f.resource);
    for (const g of gatewaysOf(plan)) text = text.replaceAll(`{{gateway.${g.cluster}}}`, g.listener.ip);
    return cp.apply(JSON.parse(text) as Record<string, unknown>);
  }
  if (f.action === 'scale') {
    const deployment = services
      .filter((s) => s.name.toLowerCase() === f.target.toLowerCase())
      .sort((a, b) => a.topo.replica - b.topo.replica);
    if (!deployment.length)
      throw new SpilloverError({
        message: `scale target "${f.target}" is not a service of this run`,
        expected: Object.keys(r.ctx.experiment.spec.services).join(', '),
      });
    return r.scaler!.scale(deployment, f.replicas);
  }
  const targets = new Set(podsOf(f.target, pods).map((p) => p.proc));
  if (!targets.size)
    throw new SpilloverError({
      message: `fault target "${f.target}" is not a service or instance of this run`,
      expected: pods.map((p) => p.instance).join(', '),
    });
  cp.setUnready(
    services.filter((s) => targets.has(s.proc)).map((s) => s.w),
    f.durationMs,
  );
}
