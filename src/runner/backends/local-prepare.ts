/**
 * The local backend's plan step: the mesh plan (addresses, identities, files of every proxy), its
 * translation (src/mesh, or istiod's own generator with controlPlane: istiod), the file-xDS control
 * plane when the run pushes changes, and the bootstraps written to config/. Nothing starts here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../../errors.ts';
import { normaliseTopology } from '../../experiment/topology.ts';
import { clientsOfPlan, gatewaysOf, ingressGatewaysOf, type MeshConfig, type MeshPlan } from '../../mesh/plan.ts';
import { translate } from '../../mesh/translate.ts';
import { ORACLE_ISTIO } from '../../oracle/era.ts';
import { toYaml } from '../../util/yaml.ts';
import { RAW } from '../../contracts/raw.ts';
import type { BackendContext } from '../backend.ts';
import { createCa, type Ca } from '../ca.ts';
import { FileControlPlane } from '../control-plane.ts';
import { needsControlPlane, timingOf } from './local-control.ts';
import { localMeshPlan, plannedIdentity, type LocalPod } from './local-plan.ts';
import { PORTS } from './local-addresses.ts';
import { serviceConfig } from './local-start.ts';
import { ingressEntry } from './local-ingress.ts';

export const topologyOf = (ctx: BackendContext) => ctx.experiment.topology ?? normaliseTopology(ctx.experiment.spec);

export interface Prepared {
  plan: MeshPlan;
  services: LocalPod[];
  mesh: MeshConfig;
  /** Which control plane made the configuration (versions.controlPlane). */
  label: string;
  controlPlane?: FileControlPlane;
  ca?: Ca;
  caDir: string;
  /** The files written under the run directory. */
  files: string[];
  /** `clients:` form: client name by its Envoy's name. */
  clientNames?: Record<string, string>;
}

/** Plan, translate and write the configs; `withCerts: false` (dry run) issues no certificates. */
export async function prepareLocal(ctx: BackendContext, ips: Record<string, string>, withCerts: boolean): Promise<Prepared> {
  const caDir = path.join(ctx.runDir, 'certs');
  const ca = withCerts ? await createCa(caDir, { name: `spillover ${ctx.runId}` }) : undefined;
  const { plan, services } = await localMeshPlan({
    spec: ctx.experiment.spec,
    timing: ctx.experiment.timing,
    topo: topologyOf(ctx),
    ips,
    runDir: ctx.runDir,
    sourceFile: path.relative(process.cwd(), ctx.experiment.file),
    identity: ca ? (namespace, serviceAccount) => ca.issue({ namespace, serviceAccount }) : plannedIdentity(caDir),
  });
  const builtin = translate(plan);
  // A dry run shows src/mesh's translation; istiod's generator runs only for a real run.
  const { mesh, label } = withCerts ? await translation(ctx, plan, builtin) : { mesh: builtin, label: 'builtin' };
  const controlPlane = controlPlaneFor(ctx, plan);
  const standby = services.filter((s) => s.topo.standby).map((s) => s.w);
  const files = writeConfigs(ctx.runDir, controlPlane ? controlPlane.initial(mesh, standby) : mesh.bootstraps);
  const topo = topologyOf(ctx);
  const clientNames = ctx.experiment.spec.clients ? Object.fromEntries(topo.clients.map((c) => [c.envoy, c.name])) : undefined;
  return { plan, services, mesh, label, controlPlane, ca, caDir, files, ...(clientNames ? { clientNames } : {}) };
}

/** The file-xDS control plane for the client and the gateways, when a fault needs pushes. */
function controlPlaneFor(ctx: BackendContext, plan: MeshPlan): FileControlPlane | undefined {
  if (!needsControlPlane(ctx.experiment.spec)) return undefined;
  const pushed = [...clientsOfPlan(plan), ...gatewaysOf(plan)];
  return new FileControlPlane({
    plan,
    dir: path.join(ctx.runDir, 'xds'),
    proxies: pushed.map((p) => p.name),
    adminOf: (name) => {
      const px = pushed.find((p) => p.name === name)!;
      return `${px.admin.ip}:${px.admin.port}`;
    },
    timing: timingOf(ctx.experiment.timing),
    event: ctx.event,
  });
}

/** src/mesh's translation, or (controlPlane: istiod) istiod's own generator's output for the same plan. */
async function translation(ctx: BackendContext, plan: MeshPlan, builtin: MeshConfig): Promise<{ mesh: MeshConfig; label: string }> {
  if (ctx.experiment.spec.controlPlane !== 'istiod')
    return { mesh: builtin, label: `builtin (src/mesh, Istio ${plan.istioVersion} semantics)` };
  if (needsControlPlane(ctx.experiment.spec))
    throw new SpilloverError({
      file: path.relative(process.cwd(), ctx.experiment.file),
      path: 'controlPlane',
      message: 'controlPlane: istiod makes a static configuration once; the faults unready, apply and scale need pushes during the run',
      expected: 'controlPlane: builtin (the default) with these faults',
      found: 'istiod',
      fix: 'drop controlPlane: istiod (or --control-plane istiod), or the unready/apply/scale faults',
    });
  const { istiodMesh } = await import('../istiod-config.ts');
  const r = await istiodMesh(plan, builtin, { onProgress: ctx.log, signal: ctx.signal });
  return { mesh: r.mesh, label: `istiod (Istio ${ORACLE_ISTIO}, istio.io/istio ${r.istio}, tools/istiod-config)` };
}

function writeConfigs(runDir: string, bootstraps: Record<string, Record<string, unknown>>): string[] {
  const dir = path.join(runDir, RAW.configDir);
  fs.mkdirSync(dir, { recursive: true });
  return Object.entries(bootstraps).map(([name, b]) => {
    const f = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(f, toYaml(b));
    return path.relative(runDir, f);
  });
}

/** --dry-run: the steps `up` would take, and plan.json beside the configs. */
export function writeDryRun(ctx: BackendContext, p: Prepared, slot: number, ips: Record<string, string>): string[] {
  const { plan, mesh, services } = p;
  const identities = new Set(
    [...clientsOfPlan(plan), ...gatewaysOf(plan), ...ingressGatewaysOf(plan), ...plan.workloads.map((w) => w.sidecar)].map(
      (x) => x.identity.spiffe,
    ),
  );
  const ingress = ingressEntry(ctx, plan);
  const steps = [
    `create a per-run CA in certs/ and issue ${[...identities].join(', ')}`,
    ...services.map(
      (s) => `start service ${s.proc} on ${s.pod}:${PORTS.app} (${JSON.stringify(serviceConfig(ctx.experiment.spec, s).capacity)})`,
    ),
    ...Object.keys(mesh.bootstraps)
      .filter((n) => !(ingress && n === plan.client.name))
      .map(
        (n) =>
          `start Envoy ${n}: envoy -c config/${n}.yaml --concurrency ${plan.envoy.concurrency} --file-flush-interval-msec ${plan.envoy.fileFlushIntervalMs}`,
      ),
    ingress
      ? `send load to ${ingress.url} via ${ingress.connectTo} (the ingress gateway; the client is outside the mesh)`
      : `send load to http://${mesh.authority} via ${plan.client.outbound.ip}:${plan.client.outbound.port}`,
    ...(plan.clients ?? []).map(
      (c) => `send ${c.name}'s load to http://${mesh.otherClients?.[c.name]?.authority} via ${c.outbound.ip}:${c.outbound.port}`,
    ),
  ];
  const shown = ctx.experiment.spec.gateway
    ? {
        slot,
        client: { ip: ips.client },
        gateway: { ip: ips.gateway },
        services: Object.fromEntries(services.map((s) => [s.name, { ip: s.pod }])),
      }
    : { slot, pods: ips };
  fs.writeFileSync(
    path.join(ctx.runDir, 'plan.json'),
    JSON.stringify({ backend: 'local', addresses: shown, endpoints: mesh.endpoints, warnings: mesh.warnings, steps }, null, 2) + '\n',
  );
  return steps;
}
