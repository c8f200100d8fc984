/**
 * istiod's own config generator as a program: tools/istiod-config (a Go module pinning istio.io/istio)
 * built on first use into the project cache, then run once per cluster to print the xDS istiod would
 * send each proxy (src/oracle/istiod-request.ts says what it is fed). Nothing of this is needed for
 * the default path: only `spillover mesh diff` and `--control-plane istiod` use it.
 *
 * `SPILLOVER_ISTIO_CONFIG=/path/to/istiod-config` uses a binary built elsewhere.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
import { SpilloverError } from '../errors.ts';
import { REPO_ROOT } from '../util/repo-root.ts';
import type { MeshConfig, MeshPlan } from '../mesh/plan.ts';
import { istiodMeshConfig } from '../oracle/istiod-bootstrap.ts';
import { compatibilityEnv } from '../oracle/era.ts';
import { istiodRequests, type IstiodRequest, type IstiodResponse, type IstiodXds } from '../oracle/istiod-request.ts';

export const TOOL_DIR = path.join(REPO_ROOT, 'tools/istiod-config');
/** Go that builds istio.io/istio at the pinned pseudo-version (its go.mod says go 1.26). */
const MIN_GO = [1, 26];
const FIX_OVERRIDE = 'or build it elsewhere (cd tools/istiod-config && go build) and set SPILLOVER_ISTIO_CONFIG=/path/to/istiod-config';

export interface IstiodConfigOptions {
  onProgress?: (msg: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Cache root; default SPILLOVER_CACHE, else `<repo>/.cache`. */
  cacheDir?: string;
}

export interface IstiodConfigBinary {
  bin: string;
  /** The istio.io/istio pseudo-version it was built from. */
  istio: string;
  source: 'SPILLOVER_ISTIO_CONFIG' | 'cache' | 'built';
}

/** The pinned istio.io/istio version, read from the helper's go.mod (the one place it is written). */
export async function pinnedIstioModule(): Promise<string> {
  const mod = await fs.readFile(path.join(TOOL_DIR, 'go.mod'), 'utf8');
  const m = /^\s*istio\.io\/istio\s+(\S+)/m.exec(mod);
  if (!m)
    throw new SpilloverError(
      { file: 'tools/istiod-config/go.mod', message: 'no istio.io/istio requirement', fix: 'restore tools/istiod-config/go.mod from git' },
      1,
    );
  return m[1];
}

const cacheRoot = (o: IstiodConfigOptions) =>
  path.resolve(o.cacheDir ?? (o.env ?? process.env).SPILLOVER_CACHE ?? path.join(REPO_ROOT, '.cache'));

/** Go's module and build caches live in the project cache too, so a second build takes ~2 min, not ~8. */
export const goCaches = (o: IstiodConfigOptions = {}) => ({
  GOMODCACHE: path.join(cacheRoot(o), 'go', 'mod'),
  GOCACHE: path.join(cacheRoot(o), 'go', 'build'),
});

/** Where the binary for this source lives: the pseudo-version plus a hash of the helper's sources, so an edit rebuilds. */
export async function cachedIstiodConfigPath(o: IstiodConfigOptions = {}): Promise<string> {
  const istio = await pinnedIstioModule();
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) h.update(await fs.readFile(path.join(TOOL_DIR, f)));
  return path.join(cacheRoot(o), 'istiod-config', `${istio}-${h.digest('hex').slice(0, 10)}`, 'istiod-config');
}

/** Resolve the helper: SPILLOVER_ISTIO_CONFIG, else the cache, else build it (minutes; progress through onProgress). */
export async function ensureIstiodConfig(o: IstiodConfigOptions = {}): Promise<IstiodConfigBinary> {
  const env = o.env ?? process.env;
  const istio = await pinnedIstioModule();
  if (env.SPILLOVER_ISTIO_CONFIG) {
    const bin = path.resolve(env.SPILLOVER_ISTIO_CONFIG);
    if (!(await exists(bin))) {
      throw new SpilloverError({
        path: 'SPILLOVER_ISTIO_CONFIG',
        message: 'the istiod-config binary it names does not exist',
        found: bin,
        fix: 'unset it to build the helper into .cache/, or point it at a built tools/istiod-config binary',
      });
    }
    return { bin, istio, source: 'SPILLOVER_ISTIO_CONFIG' };
  }
  const bin = await cachedIstiodConfigPath(o);
  if (await exists(bin)) return { bin, istio, source: 'cache' };
  await requireGo(); // before anything is created in the cache
  const dir = path.dirname(bin);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  // Two commands may want it at once: one builds, the other waits (a cold build takes ~8 minutes).
  const release = await lockfile.lock(path.dirname(dir), {
    realpath: false,
    stale: 60_000,
    update: 10_000,
    retries: { retries: 1200, minTimeout: 500, maxTimeout: 1000 },
  });
  try {
    if (await exists(bin)) return { bin, istio, source: 'cache' };
    await build(bin, istio, o);
    return { bin, istio, source: 'built' };
  } finally {
    await release();
  }
}

async function build(bin: string, istio: string, o: IstiodConfigOptions): Promise<void> {
  const progress = o.onProgress ?? (() => {});
  const go = await requireGo();
  const caches = goCaches(o);
  const cold = !(await exists(path.join(caches.GOCACHE, 'README')));
  progress(
    `istiod-config: building istiod's config generator (istio.io/istio ${istio}) with ${go}; ` +
      (cold
        ? 'first build: ~8 min on 2 cores, ~3 GB memory, ~1.2 GB module + ~2.5 GB build cache in '
        : 'warm caches: ~2 min; caches in ') +
      path.dirname(caches.GOCACHE),
  );
  const staging = `${bin}.tmp-${process.pid}`;
  await fs.mkdir(path.dirname(bin), { recursive: true });
  const started = Date.now();
  const tick = setInterval(() => progress(`istiod-config: still building (${Math.round((Date.now() - started) / 1000)} s)...`), 60_000);
  try {
    const r = await execa('go', ['build', '-o', staging, '.'], {
      cwd: TOOL_DIR,
      reject: false,
      all: true,
      // -modcacherw: the module cache stays deletable with rm -rf; GOTOOLCHAIN=local: never download a Go.
      env: { ...process.env, ...caches, GOFLAGS: '-modcacherw', GOTOOLCHAIN: 'local' },
    });
    if (r.exitCode !== 0) {
      throw new SpilloverError(
        {
          file: 'tools/istiod-config',
          message: 'go build of the istiod-config helper failed',
          found: tail(r.all ?? String(r.message)),
          fix: `check that the Go module proxy is reachable (go env GOPROXY), ${FIX_OVERRIDE}`,
        },
        1,
      );
    }
    await fs.rename(staging, bin);
    progress(`istiod-config: built in ${Math.round((Date.now() - started) / 1000)} s at ${bin}`);
  } finally {
    clearInterval(tick);
    await fs.rm(staging, { force: true });
  }
}

async function requireGo(): Promise<string> {
  const r = await execa('go', ['version'], { reject: false, all: true, env: { ...process.env, GOTOOLCHAIN: 'local' } });
  const m = /go(\d+)\.(\d+)/.exec(r.stdout ?? '');
  const ok = r.exitCode === 0 && m && (Number(m[1]) > MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) >= MIN_GO[1]));
  if (!ok) {
    throw new SpilloverError(
      {
        message: 'Go is needed to build the istiod-config helper (only for `mesh diff` and `--control-plane istiod`)',
        expected: `go ${MIN_GO.join('.')} or newer on PATH`,
        found: r.exitCode === 0 ? (r.stdout ?? '').trim() : 'no go on PATH',
        fix: `install Go ${MIN_GO.join('.')}+ (https://go.dev/dl/), ${FIX_OVERRIDE}`,
      },
      2,
    );
  }
  return m![0];
}

/** Run the helper on one cluster's request; its answer is protojson with proto field names. */
export async function runIstiodConfig(
  bin: string,
  req: IstiodRequest,
  signal?: AbortSignal,
  env: Record<string, string> = {},
): Promise<IstiodResponse> {
  const r = await execa(bin, ['-'], {
    input: JSON.stringify(req),
    reject: false,
    timeout: 120_000,
    cancelSignal: signal,
    maxBuffer: 512 * 1024 * 1024,
    env,
  });
  if (r.exitCode !== 0) {
    throw new SpilloverError(
      {
        file: bin,
        message: `istiod's config generator refused the ${req.clusterId} request`,
        found: tail(String(r.stderr || r.message)),
        fix: "the experiment's Istio resources are probably invalid for istiod: see the message above",
      },
      1,
    );
  }
  return JSON.parse(r.stdout) as IstiodResponse;
}

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );
const tail = (s: string, n = 1500) => (s.length > n ? `...${s.slice(-n)}` : s).trim();

export interface IstiodXdsOptions extends IstiodConfigOptions {
  /** src/mesh's resources per proxy, to be re-encoded through the same protos (oracle/diff.ts). */
  ours?: Record<string, IstiodXds>;
  endpointPort?: 'app' | 'inbound';
  signal?: AbortSignal;
}

/** istiod's xDS for every proxy of a plan: one helper run per cluster (each has its own istiod). */
export async function istiodXdsFor(
  plan: MeshPlan,
  o: IstiodXdsOptions = {},
): Promise<{ istio: string; bin: IstiodConfigBinary; proxies: Record<string, IstiodXds>; ours: Record<string, IstiodXds> }> {
  const bin = await ensureIstiodConfig(o);
  const proxies: Record<string, IstiodXds> = {};
  const ours: Record<string, IstiodXds> = {};
  let istio = bin.istio;
  for (const req of istiodRequests(plan, { endpointPort: o.endpointPort })) {
    const mine = o.ours ? Object.fromEntries(req.proxies.filter((p) => o.ours![p.name]).map((p) => [p.name, o.ours![p.name]])) : undefined;
    const res = await runIstiodConfig(bin.bin, { ...req, ...(mine ? { ours: mine } : {}) }, o.signal, compatibilityEnv(plan.istioVersion));
    istio = res.istio;
    Object.assign(proxies, res.proxies);
    Object.assign(ours, res.ours ?? {});
  }
  return { istio, bin, proxies, ours };
}

/** `--control-plane istiod`: the run's MeshConfig with every bootstrap made from istiod's own xDS. */
export async function istiodMesh(
  plan: MeshPlan,
  builtin: MeshConfig,
  o: IstiodConfigOptions & { signal?: AbortSignal } = {},
): Promise<{ mesh: MeshConfig; istio: string }> {
  const x = await istiodXdsFor(plan, { ...o, endpointPort: 'app' });
  return { mesh: istiodMeshConfig(plan, builtin, x.proxies, x.istio), istio: x.istio };
}
