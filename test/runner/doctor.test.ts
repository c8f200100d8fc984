import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { backendReady, runChecks, type CheckOutcome, type DoctorContext } from '../../src/runner/doctor.ts';
import { formatBackend } from '../../src/cli/commands/doctor.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('runner/doctor', () => {
  let tmp: string;
  let bin: string;
  let ctx: DoctorContext;

  const fake = (name: string, script: string) => fs.writeFile(path.join(bin, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  const byName = (outcomes: CheckOutcome[], name: string) => {
    const o = outcomes.find((x) => x.name === name);
    assert.ok(o, `no check named ${name}: ${outcomes.map((x) => x.name).join(', ')}`);
    return o;
  };
  const inotify = async (watches: number, instances: number) => {
    await fs.mkdir(path.join(tmp, 'proc/fs/inotify'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'proc/fs/inotify/max_user_watches'), `${watches}\n`);
    await fs.writeFile(path.join(tmp, 'proc/fs/inotify/max_user_instances'), `${instances}\n`);
  };

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spillover-doctor-'));
    bin = path.join(tmp, 'bin');
    await fs.mkdir(bin);
    // An empty cache and a PATH holding only the fakes: nothing of the real machine leaks in.
    ctx = {
      env: { PATH: bin, SPILLOVER_CACHE: path.join(tmp, 'cache') },
      procSys: path.join(tmp, 'proc'),
      totalMemBytes: 16 * 2 ** 30,
      nodeVersion: '20.20.0',
    };
    await inotify(524288, 512);
  });
  afterEach(() => fs.rm(tmp, { recursive: true, force: true }));

  it('kind: reports each tool version found, and what is missing with a fix', async () => {
    await fake('docker', 'echo 27.3.1');
    await fake('kind', 'echo "kind v0.27.0 go1.23.4 linux/amd64"');
    await fake('kubectl', 'echo "Client Version: v1.32.2"; echo "Kustomize Version: v5.5.0"');
    await fake('k6', 'echo "k6 v1.4.0 (go1.24.4, linux/amd64)"');
    const out = await runChecks('kind', ctx);
    assert.equal(byName(out, 'docker').found, 'server 27.3.1');
    assert.equal(byName(out, 'kind').found, '0.27.0');
    assert.equal(byName(out, 'kubectl').found, '1.32.2');
    assert.equal(byName(out, 'k6').found, '1.4.0');
    const istioctl = byName(out, 'istioctl');
    assert.deepEqual([istioctl.ok, istioctl.found], [false, 'not on PATH']);
    assert.match(istioctl.fix ?? '', /istioctl/);
    assert.equal(backendReady(out), false);
    await fake('istioctl', 'echo "client version: 1.29.0"');
    const again = await runChecks('kind', ctx);
    assert.equal(byName(again, 'istioctl').found, '1.29.0');
    const helm = byName(again, 'helm');
    assert.deepEqual([helm.ok, helm.optional], [false, true]);
    assert.equal(backendReady(again), true, formatBackend('kind', again));
  });

  it('docker present but its daemon unreachable is a failure that says so', async () => {
    await fake('docker', 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1');
    const docker = byName(await runChecks('kind', ctx), 'docker');
    assert.equal(docker.ok, false);
    assert.match(docker.found, /daemon not reachable: Cannot connect/);
    assert.match(docker.fix ?? '', /start the Docker daemon/);
  });

  it("kind's machine limits: memory and inotify", async () => {
    await inotify(8192, 128);
    const out = await runChecks('kind', { ...ctx, totalMemBytes: 4 * 2 ** 30 });
    assert.deepEqual([byName(out, 'memory').ok, byName(out, 'memory').found], [false, '4.0 GiB']);
    const w = byName(out, 'inotify max_user_watches');
    assert.deepEqual([w.ok, w.found], [false, '8192']);
    assert.match(w.fix ?? '', /fs\.inotify\.max_user_watches=524288/);
    assert.equal(byName(out, 'inotify max_user_instances').ok, false);
  });

  it('local: without python3 and without Envoy the backend is not ready; with ENVOY_BIN pip is not needed', async () => {
    const out = await runChecks('local', ctx);
    const pip = byName(out, 'python3 + pip');
    assert.deepEqual([pip.ok, pip.found], [false, 'python3 not on PATH']);
    assert.match(pip.fix ?? '', /apt-get install -y python3-pip.*ENVOY_BIN/);
    assert.match(byName(out, 'envoy').found, /not cached yet/);
    assert.equal(byName(out, 'loopback 127.0.1.x / 127.0.2.x').ok, true);
    assert.equal(backendReady(out), false);

    const envoy = path.join(bin, 'envoy');
    await fake('envoy', 'echo "envoy  version: abc/1.40.0/Clean/RELEASE/BoringSSL"');
    const withBin = await runChecks('local', { ...ctx, env: { ...ctx.env, ENVOY_BIN: envoy } });
    assert.match(byName(withBin, 'envoy').found, /ENVOY_BIN=.*Envoy 1\.40\.0/);
    assert.match(byName(withBin, 'python3 + pip').found, /not needed/);
    assert.equal(backendReady(withBin), true, formatBackend('local', withBin));
  });

  it('an old Node is reported with the minimum', async () => {
    const node = byName(await runChecks('kube', { ...ctx, nodeVersion: '18.19.0' }), 'node');
    assert.deepEqual([node.ok, node.found], [false, 'v18.19.0']);
    assert.match(node.fix ?? '', /20\.18\.1/);
  });

  it('`spillover doctor --backend kube` exits 1 when a required tool is missing and 0 once it is there', async function () {
    this.timeout(30_000);
    await fake('kubectl', 'echo "Client Version: v1.32.2"');
    const run = () =>
      execa(process.execPath, [path.join(REPO, 'bin/spillover.js'), 'doctor', '--backend', 'kube'], {
        env: { PATH: bin },
        extendEnv: false,
        reject: false,
        cwd: REPO,
      });
    const missing = await run();
    assert.equal(missing.exitCode, 1, missing.stderr);
    assert.match(missing.stdout, /kube backend: NOT READY[\s\S]*MISSING\s+istioctl\s+not on PATH/);
    await fake('istioctl', 'echo "1.29.0"');
    const ready = await run();
    assert.equal(ready.exitCode, 0, ready.stdout + ready.stderr);
    assert.match(ready.stdout, /kube backend: ready/);
  });
});
