/**
 * The local backend: both "clusters" on this machine as real Envoy processes on loopback, configured
 * the way istiod would configure them (src/mesh), with services A and B as Node processes behind their
 * sidecars. No Docker, no Kubernetes.
 *
 *   load -> client sidecar (cluster-1) --mTLS--> A's sidecar -> A
 *                                       \--mTLS--> east-west gateway (cluster-2, SNI passthrough)
 *                                                    --> B's sidecar -> B
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { SpilloverError } from '../../errors.ts';
import type { Fault } from '../../experiment/schema.ts';
import type { MeshConfig, MeshPlan, ProxyCommon } from '../../mesh/plan.ts';
import { normaliseTopology } from '../../experiment/topology.ts';
import { allocatePodAddresses } from './local-pods.ts';
import { localMeshPlan, plannedIdentity, type LocalPod } from './local-plan.ts';
import { translate } from '../../mesh/translate.ts';
import { gatewaysOf } from '../../mesh/plan.ts';
import { injectLocalFault, podsOf } from './local-faults.ts';
import { FileControlPlane } from '../control-plane.ts';
import { needsControlPlane, timingOf } from './local-control.ts';
import { parseDurationMs } from '../../util/duration.ts';
import { ORACLE_ISTIO } from '../../oracle/era.ts';
import { toYaml } from '../../util/yaml.ts';
import type { Backend, BackendContext, Deployment, DryRunPlan, ScrapeTarget } from '../backend.ts';
import { createCa, type Ca } from '../ca.ts';
import { ensureEnvoy } from '../envoy-install.ts';
import { cleanupStaleProcesses, Supervisor, type ManagedProcess } from '../../process/processes.ts';
import { envoyFile, RAW } from '../../contracts/raw.ts';
import { PORTS } from './local-addresses.ts';
import { CONTROL_TOKEN_ENV } from '../../workload/control-token.ts';
import { REPO_ROOT } from '../../util/repo-root.ts';

const WORKLOAD_MAIN = path.join(REPO_ROOT, 'src/workload/main.ts');
const READY_TIMEOUT_MS = 20_000;

const topologyOf = (ctx: BackendContext) => ctx.experiment.topology ?? normaliseTopology(ctx.experiment.spec);

export interface LocalBackendOptions {
  /** Skip the Envoy install check (dry-run needs no binary). */
  envoyBin?: string;
}

export function createLocalBackend(opts: LocalBackendOptions = {}): Backend {
  let supervisor: Supervisor | undefined;
  let ca: Ca | undefined;
  let caDir: string | undefined;
  let keepAfter = false;
  let releaseSlot: (() => void) | undefined;
  let controlPlane: FileControlPlane | undefined;

  /** The bootstraps to write: as translated, or with the client's and gateways' clusters over file xDS. */
  function withControlPlane(
    ctx: BackendContext,
    plan: MeshPlan,
    mesh: MeshConfig,
    standby: MeshPlan['workloads'] = [],
  ): MeshConfig['bootstraps'] {
    controlPlane = needsControlPlane(ctx.experiment.spec)
      ? new FileControlPlane({
          plan,
          dir: path.join(ctx.runDir, 'xds'),
          proxies: [plan.client.name, ...gatewaysOf(plan).map((g) => g.name)],
          adminOf: (name) => {
            const px = [plan.client, ...gatewaysOf(plan)].find((p) => p.name === name)!;
            return `${px.admin.ip}:${px.admin.port}`;
          },
          timing: timingOf(ctx.experiment.spec, ctx.experiment.timeScale),
          event: ctx.event,
        })
      : undefined;
    return controlPlane ? controlPlane.initial(mesh, standby) : mesh.bootstraps;
  }

  /** src/mesh's translation, or (controlPlane: istiod) istiod's own generator's output for the same plan. */
  async function translation(ctx: BackendContext, plan: MeshPlan, builtin: MeshConfig) {
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

  /** Build the mesh plan: addresses, identities and files of every proxy. */
  async function buildPlan(
    ctx: BackendContext,
    ips: Record<string, string>,
    withCerts: boolean,
  ): Promise<{ plan: MeshPlan; services: LocalPod[] }> {
    caDir = path.join(ctx.runDir, 'certs');
    ca = withCerts ? await createCa(caDir, { name: `spillover ${ctx.runId}` }) : undefined;
    const issuer = ca;
    return localMeshPlan({
      spec: ctx.experiment.spec,
      topo: topologyOf(ctx),
      ips,
      runDir: ctx.runDir,
      sourceFile: path.relative(process.cwd(), ctx.experiment.file),
      identity: issuer ? (namespace, serviceAccount) => issuer.issue({ namespace, serviceAccount }) : plannedIdentity(caDir),
    });
  }

  function writeConfigs(ctx: BackendContext, bootstraps: Record<string, Record<string, unknown>>): string[] {
    const dir = path.join(ctx.runDir, RAW.configDir);
    fs.mkdirSync(dir, { recursive: true });
    const written: string[] = [];
    for (const [name, b] of Object.entries(bootstraps)) {
      const f = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(f, toYaml(b));
      written.push(path.relative(ctx.runDir, f));
    }
    return written;
  }

  function serviceConfig(ctx: BackendContext, s: LocalPod) {
    const def = ctx.experiment.spec.services[s.name];
    return {
      name: s.name,
      instance: s.topo.instance,
      listen: { ip: s.pod, port: PORTS.app },
      capacity: def.capacity,
      // Each pod gets its own stream of service times, stable across runs with the same seed.
      seed: ctx.experiment.spec.seed * 1000 + Object.keys(ctx.experiment.spec.services).indexOf(s.name) + 100 * s.topo.replica,
    };
  }

  async function waitReadyLine(p: ManagedProcess, what: string, signal: AbortSignal): Promise<void> {
    const rl = readline.createInterface({ input: p.child.stdout! });
    const timer = AbortSignal.timeout(READY_TIMEOUT_MS);
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (why: string) =>
          reject(
            new SpilloverError(
              { message: `${what} did not become ready: ${why}`, fix: `see ${what}'s log in the run directory (raw/services/)` },
              1,
            ),
          );
        rl.on('line', (line) => {
          try {
            if ((JSON.parse(line) as { ready?: boolean }).ready) resolve();
          } catch {
            /* not the ready line */
          }
        });
        void p.exited.then(({ code, signal: sig }) => fail(`exited with ${sig ?? `code ${code}`}`));
        timer.addEventListener('abort', () => fail(`no ready line within ${READY_TIMEOUT_MS / 1000}s`));
        signal.addEventListener('abort', () => fail('interrupted'));
      });
    } finally {
      // Keep draining stdout so the child never blocks on a full pipe.
      rl.removeAllListeners('line');
      p.child.stdout!.resume();
    }
  }

  async function waitEnvoyReady(p: ManagedProcess, admin: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = '';
    while (Date.now() < deadline) {
      if (signal.aborted) throw new SpilloverError({ message: `interrupted while waiting for Envoy ${p.name}` }, 130);
      if (p.child.exitCode !== null || p.child.signalCode !== null) {
        throw new SpilloverError(
          {
            message: `Envoy ${p.name} exited during start-up (${p.child.signalCode ?? `code ${p.child.exitCode}`})`,
            fix: `its log says why: raw/envoy/${p.name}/envoy.log`,
          },
          1,
        );
      }
      try {
        const res = await fetch(`http://${admin}/ready`, { signal: AbortSignal.timeout(500) });
        last = `${res.status} ${(await res.text()).trim()}`;
        if (res.status === 200) return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new SpilloverError(
      {
        message: `Envoy ${p.name} not ready within ${READY_TIMEOUT_MS / 1000}s (last /ready: ${last})`,
        fix: `see raw/envoy/${p.name}/envoy.log`,
      },
      1,
    );
  }

  return {
    name: 'local',

    async plan(ctx: BackendContext): Promise<DryRunPlan> {
      const addresses = await allocatePodAddresses(topologyOf(ctx));
      addresses.release(); // a dry run only shows which slot a run would take now
      const { plan, services } = await buildPlan(ctx, addresses.ips, false);
      const mesh = translate(plan);
      for (const w of mesh.warnings) ctx.log(`warning: ${w}`);
      const files = writeConfigs(
        ctx,
        withControlPlane(
          ctx,
          plan,
          mesh,
          services.filter((s) => s.topo.standby).map((s) => s.w),
        ),
      );
      const steps = [
        `create a per-run CA in certs/ and issue ${[...new Set([plan.client, ...gatewaysOf(plan), ...plan.workloads.map((w) => w.sidecar)].map((p) => p.identity.spiffe))].join(', ')}`,
        ...services.map((s) => `start service ${s.proc} on ${s.pod}:${PORTS.app} (${JSON.stringify(serviceConfig(ctx, s).capacity)})`),
        ...Object.keys(mesh.bootstraps).map(
          (n) =>
            `start Envoy ${n}: envoy -c config/${n}.yaml --concurrency ${plan.envoy.concurrency} --file-flush-interval-msec ${plan.envoy.fileFlushIntervalMs}`,
        ),
        `send load to http://${mesh.authority} via ${plan.client.outbound.ip}:${plan.client.outbound.port}`,
      ];
      const shown = ctx.experiment.spec.gateway
        ? {
            slot: addresses.slot,
            client: { ip: addresses.ips.client },
            gateway: { ip: addresses.ips.gateway },
            services: Object.fromEntries(services.map((s) => [s.name, { ip: s.pod }])),
          }
        : { slot: addresses.slot, pods: addresses.ips };
      fs.writeFileSync(
        path.join(ctx.runDir, 'plan.json'),
        JSON.stringify({ backend: 'local', addresses: shown, endpoints: mesh.endpoints, warnings: mesh.warnings, steps }, null, 2) + '\n',
      );
      return { files: [...files, 'plan.json'], steps, meshPlan: plan };
    },

    async up(ctx: BackendContext): Promise<Deployment> {
      const envoy = opts.envoyBin ? { bin: opts.envoyBin, version: 'unknown' } : await ensureEnvoy({ onProgress: ctx.log });
      const addresses = await allocatePodAddresses(topologyOf(ctx));
      releaseSlot = addresses.release;
      const { plan, services } = await buildPlan(ctx, addresses.ips, true);
      const cp = await translation(ctx, plan, translate(plan));
      const mesh = cp.mesh;
      writeConfigs(
        ctx,
        withControlPlane(
          ctx,
          plan,
          mesh,
          services.filter((s) => s.topo.standby).map((s) => s.w),
        ),
      );
      for (const w of mesh.warnings) ctx.log(`warning: ${w}`);

      // The state file names the CA directory, so a later cleanup of a killed run removes its keys too.
      supervisor = new Supervisor(ctx.runId, { secretsDir: caDir, runDir: ctx.runDir });
      // Only this harness may inject service faults (service.ts CONTROL_TOKEN_HEADER).
      const controlToken = crypto.randomBytes(16).toString('hex');
      const sup = supervisor;
      const proxies: ProxyCommon[] = [plan.client, ...gatewaysOf(plan), ...plan.workloads.map((w) => w.sidecar)];

      // Apps and Envoys all at once: a sidecar's inbound cluster is static, so it does not need its app to
      // be up to start, and a Node start-up (~0.7 s of CPU) then overlaps the Envoys'. The load waits for all.
      const appsReady = Promise.all(
        services.map(async (s) => {
          const cfg = serviceConfig(ctx, s);
          const p = sup.start(s.proc, process.execPath, ['--import', 'tsx', WORKLOAD_MAIN, '--config', JSON.stringify(cfg)], {
            env: { ...process.env, [CONTROL_TOKEN_ENV]: controlToken },
            logFile: path.join(ctx.runDir, RAW.servicesDir, `${s.proc}.log`),
            captureStdout: true,
            cwd: REPO_ROOT,
          });
          await waitReadyLine(p, `service ${s.proc}`, ctx.signal);
        }),
      );
      const order = [...plan.workloads.map((w) => w.sidecar), ...gatewaysOf(plan), plan.client];
      const envoysReady = Promise.all(
        order.map(async (px) => {
          fs.mkdirSync(path.dirname(px.files.accessLog), { recursive: true });
          const p = sup.start(
            px.name,
            envoy.bin,
            [
              '-c',
              path.join(ctx.runDir, RAW.configDir, `${px.name}.yaml`),
              '--concurrency',
              String(plan.envoy.concurrency),
              '--file-flush-interval-msec',
              String(plan.envoy.fileFlushIntervalMs),
              '--disable-hot-restart',
              '--log-level',
              ctx.experiment.spec.envoy.logLevel === 'warning' ? 'warn' : ctx.experiment.spec.envoy.logLevel,
              '--service-node',
              px.name,
              '--service-cluster',
              px.cluster,
            ],
            { logFile: envoyFile(ctx.runDir, px.name, 'envoy.log') },
          );
          await waitEnvoyReady(p, `${px.admin.ip}:${px.admin.port}`, ctx.signal);
        }),
      );
      await Promise.all([appsReady, envoysReady]);

      const scrapeTargets: ScrapeTarget[] = [
        ...proxies.map((px) => ({ name: px.name, kind: 'envoy' as const, baseUrl: `http://${px.admin.ip}:${px.admin.port}` })),
        ...services.map((s) => ({ name: s.proc, kind: 'service' as const, baseUrl: `http://${s.pod}:${PORTS.app}` })),
      ];
      const target = plan.workloads.find((w) => w.host === mesh.authority) ?? plan.workloads[0];
      const clientCluster = ctx.experiment.spec.client.cluster;
      const roleOf = (px: ProxyCommon) =>
        px.name === 'client'
          ? 'client'
          : gatewaysOf(plan).includes(px as never)
            ? 'gateway'
            : px.cluster === clientCluster
              ? 'a-sidecar'
              : 'b-sidecar';

      return {
        entry: {
          url: `http://${target.host}${target.port === 80 ? '' : `:${target.port}`}`,
          connectTo: `${plan.client.outbound.ip}:${plan.client.outbound.port}`,
        },
        scrapeTargets,
        topology: {
          envoys: Object.fromEntries(
            proxies.map((px) => [px.name, { role: roleOf(px), cluster: px.cluster, admin: `${px.admin.ip}:${px.admin.port}` }]),
          ),
          clientCluster: mesh.clientCluster,
          endpoints: mesh.endpoints,
          ...(ctx.experiment.spec.gateway
            ? {}
            : {
                instances: Object.fromEntries(
                  services.map((s) => [
                    s.topo.instance,
                    { service: s.name, cluster: s.topo.cluster, locality: s.topo.locality, version: s.topo.labels.version, proc: s.proc },
                  ]),
                ),
                clientClusters: mesh.clientClusters,
              }),
        },
        warnings: mesh.warnings,
        versions: { envoy: envoy.version, istioSemantics: plan.istioVersion, controlPlane: cp.label },
        casualties: () => sup.casualties(),
        fault: async (f: Fault) => {
          const pods = services.map((s) => ({ name: s.name, proc: s.proc, instance: s.topo.instance, pod: s.pod }));
          if (f.action !== 'unready' && f.action !== 'apply' && f.action !== 'scale') return injectLocalFault(f, sup, pods, controlToken);
          if (!controlPlane)
            throw new SpilloverError({ message: `fault ${f.action} needs the control plane, which this run did not start` });
          if (f.action === 'apply') {
            let text = JSON.stringify(f.resource);
            for (const g of gatewaysOf(plan)) text = text.replaceAll(`{{gateway.${g.cluster}}}`, g.listener.ip);
            return controlPlane.apply(JSON.parse(text) as Record<string, unknown>);
          }
          if (f.action === 'scale') {
            const deployment = services
              .filter((s) => s.name.toLowerCase() === f.target.toLowerCase())
              .sort((a, b) => a.topo.replica - b.topo.replica);
            if (!deployment.length)
              throw new SpilloverError({
                message: `scale target "${f.target}" is not a service of this run`,
                expected: Object.keys(ctx.experiment.spec.services).join(', '),
              });
            return controlPlane.scale(
              deployment.map((s) => s.w),
              f.replicas,
            );
          }
          const targets = new Set(podsOf(f.target, pods).map((p) => p.proc));
          if (!targets.size)
            throw new SpilloverError({
              message: `fault target "${f.target}" is not a service or instance of this run`,
              expected: pods.map((p) => p.instance).join(', '),
            });
          controlPlane.setUnready(
            services.filter((s) => targets.has(s.proc)).map((s) => s.w),
            f.duration ? parseDurationMs(f.duration) : undefined,
          );
        },
        describe() {
          const lines = [
            `send requests:   curl -H 'host: ${target.host}' http://${plan.client.outbound.ip}:${plan.client.outbound.port}/`,
            ...proxies.map(
              (px) => `admin ${px.name.padEnd(10)} http://${px.admin.ip}:${px.admin.port}/  (stats/prometheus, clusters, config_dump)`,
            ),
            ...services.map((s) => `service ${s.proc.padEnd(8)} http://${s.pod}:${PORTS.app}/metrics`),
            `stop everything: spillover cleanup --run ${ctx.runId}   (or kill the process groups: ${sup
              .list()
              .map((p) => p.pid)
              .join(' ')})`,
          ];
          return lines.join('\n');
        },
      };
    },

    async down({ keep }) {
      controlPlane?.stop();
      keepAfter = keep;
      if (keepAfter) {
        supervisor?.detach();
        return;
      }
      await supervisor?.stopAll();
      releaseSlot?.();
      releaseSlot = undefined;
      // The CA's private keys live only as long as the run's processes need them.
      if (ca) await ca.removeCaKeys();
    },

    async cleanupStale() {
      return cleanupStaleProcesses();
    },
  };
}
