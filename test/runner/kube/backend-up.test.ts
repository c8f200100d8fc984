/**
 * `up` and `down` of the real-cluster backends end to end, with nothing real: the command-line tools
 * are fake binaries on a temporary PATH that record their argv (test/fixtures/kube/bin), and each
 * cluster's API server is a fake on 127.0.0.1 serving recorded responses.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readExperiment } from '../../../src/experiment/read-experiment.ts';
import { isSpilloverError } from '../../../src/errors.ts';
import type { Backend, BackendContext } from '../../../src/runner/backend.ts';
import { createKindBackend } from '../../../src/runner/backends/kind.ts';
import { createKubeBackend } from '../../../src/runner/backends/kube.ts';
import { startFakeApi, type FakeApi } from './fake-api-server.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = path.join(ROOT, 'test/fixtures/kube/bin');

interface Call {
  cmd: string;
  args: string[];
}

describe('real-cluster backends: up and down against fake tools and fake API servers', function () {
  this.timeout(30_000);
  let tmp: string;
  let log: string;
  let apis: Record<string, FakeApi>;
  const saved: Record<string, string | undefined> = {};
  const calls = (): Call[] =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Call)
      : [];
  const setEnv = (k: string, v: string | undefined) => {
    if (!(k in saved)) saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };

  let made: Backend[] = [];
  const track = (b: Backend) => (made.push(b), b);

  beforeEach(async () => {
    made = [];
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-kube-'));
    log = path.join(tmp, 'calls.ndjson');
    setEnv('SPILLOVER_FAKE_LOG', log);
    setEnv('SPILLOVER_STATE_DIR', path.join(tmp, 'state'));
    apis = { 'cluster-1': await startFakeApi(), 'cluster-2': await startFakeApi() };
  });
  afterEach(async () => {
    // A failed assertion must not leave port-forward processes behind: down() is idempotent.
    for (const b of made) await b.down({ keep: false }).catch(() => undefined);
    for (const a of Object.values(apis)) await a.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const ctxFor = (runId: string, set: string[] = []): BackendContext => {
    const runDir = path.join(tmp, 'run');
    fs.mkdirSync(runDir, { recursive: true });
    return {
      experiment: readExperiment(path.join(ROOT, 'test/fixtures/kube/peak-load.yaml'), { set }),
      runDir,
      runId,
      signal: new AbortController().signal,
      log: () => undefined,
      event: () => undefined,
    };
  };
  const ready = async () => [{ name: 'docker', ok: true, optional: false, found: 'fake' }];
  const common = () => ({
    preflight: ready,
    toolPath: `${BIN}:${process.env.PATH}`,
    pollMs: 1,
    kubeConfig: (context: string) => apis[/cluster-1|east/.test(context) ? 'cluster-1' : 'cluster-2'].kubeConfig(context),
  });
  const patches = (c: string) => apis[c].requests.filter((r) => r.method === 'PATCH');

  it('kind: creates both clusters, installs Istio with a shared root CA, applies everything and connects telemetry', async () => {
    const backend = track(createKindBackend(common()));
    const ctx = ctxFor('t1');
    const dep = await backend.up(ctx);

    const tool = calls();
    const creates = tool.filter((c) => c.cmd === 'kind' && c.args[0] === 'create');
    assert.deepEqual(
      creates.map((c) => c.args.slice(0, 4)).sort((a, b) => a[3].localeCompare(b[3])),
      [
        ['create', 'cluster', '--name', 'spillover-t1-cluster-1'],
        ['create', 'cluster', '--name', 'spillover-t1-cluster-2'],
      ],
    );
    assert.equal(
      creates.find((c) => c.args[3].endsWith('cluster-1'))!.args[5],
      path.join(ctx.runDir, 'kube/kind/cluster-1.yaml'),
      'the config path is resolved to the run directory',
    );
    assert.ok(tool.some((c) => c.cmd === 'docker' && c.args[0] === 'run' && c.args.includes('spillover-t1-cloud-provider-kind')));
    assert.deepEqual(
      tool.filter((c) => c.cmd === 'docker' && c.args[0] === 'build')[0].args.slice(-1),
      [ROOT.replace(/\/$/, '')].map((r) => r + '/'),
    );
    assert.deepEqual(
      tool
        .filter((c) => c.cmd === 'istioctl')
        .map((c) => [c.args[2], path.basename(c.args[5])])
        .sort((a, b) => (a[1] + a[0]).localeCompare(b[1] + b[0])),
      [
        ['kind-spillover-t1-cluster-1', '10-istio-control-plane.yaml'],
        ['kind-spillover-t1-cluster-2', '10-istio-control-plane.yaml'],
        ['kind-spillover-t1-cluster-1', '11-eastwest-gateway.yaml'],
        ['kind-spillover-t1-cluster-2', '11-eastwest-gateway.yaml'],
      ],
    );

    // One root, one intermediate per cluster, signed by it; the run directory never holds a key.
    const secret = (c: string) =>
      patches(c).find((r) => r.path === '/api/v1/namespaces/istio-system/secrets/cacerts')!.body as { stringData: Record<string, string> };
    const s1 = secret('cluster-1').stringData;
    const s2 = secret('cluster-2').stringData;
    assert.equal(s1['root-cert.pem'], s2['root-cert.pem']);
    assert.notEqual(s1['ca-cert.pem'], s2['ca-cert.pem']);
    assert.equal(s1['cert-chain.pem'], s1['ca-cert.pem'] + s1['root-cert.pem']);
    const root = new x509.X509Certificate(s1['root-cert.pem']);
    assert.ok(await new x509.X509Certificate(s2['ca-cert.pem']).verify({ publicKey: root.publicKey, signatureOnly: true }));
    assert.match(s1['ca-key.pem'], /BEGIN PRIVATE KEY/);
    assert.ok(!fs.readFileSync(path.join(ctx.runDir, 'kube/cluster-1/00-istio-system.yaml'), 'utf8').includes('PRIVATE KEY'));

    // The federation rules go to cluster-1 only, with cluster-2's gateway address filled in.
    const se = patches('cluster-1').find((r) => r.path === '/apis/networking.istio.io/v1alpha3/namespaces/istio/serviceentries/a')!
      .body as { spec: { endpoints: Array<{ address: string }> } };
    assert.equal(se.spec.endpoints[0].address, '172.18.0.5');
    assert.ok(!patches('cluster-2').some((r) => r.path.includes('serviceentries')));
    assert.match(fs.readFileSync(path.join(ctx.runDir, 'kube/cluster-1/30-federation.yaml'), 'utf8'), /address: 172\.18\.0\.5/);

    // Telemetry: admin and app ports forwarded to loopback, proxy logs split into the raw files.
    assert.equal(dep.scrapeTargets.length, 6);
    for (const t of dep.scrapeTargets) assert.match(t.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const body = await (await fetch(`${dep.scrapeTargets.find((t) => t.name === 'client')!.baseUrl}/stats/prometheus`)).text();
    assert.match(body, /fake 15000 \/stats\/prometheus/);
    assert.match(dep.entry.connectTo!, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(dep.versions, {
      istio: '1.29.0',
      backend: 'kind',
      kind: 'kind v0.27.0 go1.24.0 linux/amd64',
      'kubernetes.cluster-1': 'v1.33.1',
      'kubernetes.cluster-2': 'v1.33.1',
    });
    assert.equal(dep.entry.url, 'http://a.istio.svc.cluster.local');
    assert.deepEqual(dep.topology.endpoints['172.18.0.5:15443'], { service: 'B', locality: 'us-west1/us-west1-b', priority: 1 });
    const pfs = calls().filter((c) => c.cmd === 'kubectl' && c.args.includes('port-forward'));
    assert.deepEqual(pfs.map((c) => c.args.at(-1)).sort(), [':15000', ':15000', ':15000', ':15000', ':8080', ':8080', ':9080']);
    const raw = (envoy: string, f: string) => path.join(ctx.runDir, 'raw/envoy', envoy, f);
    await new Promise((r) => setTimeout(r, 100)); // the log streams are asynchronous
    assert.equal(fs.readFileSync(raw('client', 'access.ndjson'), 'utf8').trim().split('\n').length, 2);
    assert.equal(fs.readFileSync(raw('gateway', 'outlier.ndjson'), 'utf8').trim().split('\n').length, 1);

    await backend.down({ keep: false });
    const after = calls().slice(tool.length + 0);
    assert.deepEqual(
      after
        .filter((c) => c.cmd === 'kind')
        .map((c) => c.args.slice(0, 4).join(' '))
        .sort(),
      ['delete cluster --name spillover-t1-cluster-1', 'delete cluster --name spillover-t1-cluster-2'],
    );
    // kind keeps the clusters' contexts in a run-local kubeconfig, never in the user's.
    const kubeconfigs = (cs: Call[]) => new Set(cs.map((c) => c.args[c.args.indexOf('--kubeconfig') + 1]));
    const expected = new Set(['cluster-1', 'cluster-2'].map((c) => path.join(ctx.runDir, `kube/kubeconfig-${c}`)));
    for (const cs of [creates, after.filter((x) => x.cmd === 'kind'), tool.filter((x) => x.cmd === 'istioctl'), pfs])
      assert.deepEqual(kubeconfigs(cs), expected);
    assert.ok(after.some((c) => c.cmd === 'docker' && c.args.join(' ') === 'rm -f spillover-t1-cloud-provider-kind'));
    assert.deepEqual(fs.readdirSync(path.join(tmp, 'state', 'kube')), []);
  });

  it('kube, general topology (multicluster-verify): contexts by name, every sidecar and gateway watched, drain through the admin port', async () => {
    const backend = track(createKubeBackend({ ...common(), contexts: { cluster1: 'east', cluster2: 'west' }, installIstio: false }));
    const runDir = path.join(tmp, 'run-general');
    fs.mkdirSync(runDir, { recursive: true });
    const ctx: BackendContext = {
      experiment: readExperiment(path.join(ROOT, 'experiments/istio-tasks/multicluster-verify.yaml')),
      runDir,
      runId: 'g1',
      signal: new AbortController().signal,
      log: () => undefined,
      event: () => undefined,
    };
    const dep = await backend.up(ctx);
    assert.ok(!calls().some((c) => c.cmd === 'istioctl' || c.cmd === 'kind'), 'existing clusters: no install');
    assert.ok(patches('cluster-1').some((r) => r.path === '/apis/apps/v1/namespaces/sample/deployments/helloworld'));
    assert.ok(patches('cluster-2').some((r) => r.path === '/apis/apps/v1/namespaces/sample/deployments/helloworld'));
    assert.deepEqual(dep.scrapeTargets.map((t) => `${t.kind}:${t.name}`).sort(), [
      'envoy:client',
      'envoy:gateway-cluster1',
      'envoy:gateway-cluster2',
      'envoy:helloworld-v1-sidecar',
      'envoy:helloworld-v2-sidecar',
      'service:helloworld-v1',
      'service:helloworld-v2',
    ]);
    assert.equal(dep.entry.url, 'http://helloworld.sample.svc.cluster.local:5000');
    assert.deepEqual(Object.fromEntries(Object.entries(dep.topology.envoys).map(([n, e]) => [n, e.role])), {
      client: 'client',
      'helloworld-v1-sidecar': 'a-sidecar',
      'helloworld-v2-sidecar': 'b-sidecar',
      'gateway-cluster1': 'gateway',
      'gateway-cluster2': 'gateway',
    });
    assert.equal(dep.topology.instances?.['helloworld-v2-0']?.cluster, 'cluster2');
    await dep.fault({ at: '1s', atMs: 1000, action: 'drain', target: 'helloworld-v2' });
    await assert.rejects(dep.fault({ at: '1s', atMs: 1000, action: 'drain', target: 'nobody' }), /not a workload of this run/);
    // A DestinationRule applied mid-run reaches every primary, labelled as ours.
    const dr = {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'DestinationRule',
      metadata: { name: 'helloworld', namespace: 'sample' },
      spec: { host: 'helloworld.sample.svc.cluster.local', trafficPolicy: { outlierDetection: { consecutive5xxErrors: 1 } } },
    };
    await dep.fault({ at: '2s', atMs: 2000, action: 'apply', target: 'istiod', resource: dr });
    for (const c of ['cluster-1', 'cluster-2']) {
      const p = patches(c).find((r) => r.path === '/apis/networking.istio.io/v1alpha3/namespaces/sample/destinationrules/helloworld');
      assert.ok(p, c);
      assert.equal((p.body as { metadata: { labels: Record<string, string> } }).metadata.labels['spillover.dev/run'], 'g1');
    }
    await backend.down({ keep: false });
  });

  it('kind --keep leaves the clusters up; a failing tool stops the run with its output', async () => {
    const backend = track(createKindBackend(common()));
    await backend.up(ctxFor('t2'));
    const n = calls().length;
    await backend.down({ keep: true });
    assert.ok(
      !calls()
        .slice(n)
        .some((c) => c.cmd === 'kind' && c.args[0] === 'delete'),
    );
    // The kept port-forwards are what `spillover cleanup` ends later; end them here.
    const { cleanupStaleProcesses } = await import('../../../src/process/processes.ts');
    assert.equal(cleanupStaleProcesses({ includeKept: true, runId: 't2' }).length, 7);

    setEnv('FAKE_ISTIOCTL_FAIL', '1');
    const failing = track(createKindBackend(common()));
    await assert.rejects(
      failing.up(ctxFor('t3')),
      (e: unknown) =>
        isSpilloverError(e) && /istioctl install .* failed with exit code 1/.test(e.message) && /context deadline exceeded/.test(e.message),
    );
    const m = calls().length;
    await failing.down({ keep: false });
    assert.deepEqual(
      calls()
        .slice(m)
        .filter((c) => c.cmd === 'kind')
        .map((c) => c.args[3])
        .sort(),
      ['spillover-t3-cluster-1', 'spillover-t3-cluster-2'],
      'a failed up is torn down',
    );
  });

  it('k6 in the cluster: a paused Job, its sidecar is the client, started at t0 and imported', async () => {
    const backend = track(createKindBackend({ ...common(), k6InCluster: true }));
    const ctx = ctxFor('k6', ['load.engine=k6']);
    const dep = await backend.up(ctx);
    assert.ok(patches('cluster-1').some((r) => r.path === '/apis/batch/v1/namespaces/spillover-load/jobs/k6'));
    assert.ok(calls().some((c) => c.cmd === 'docker' && c.args[0] === 'build' && c.args.includes('spillover/k6:v1.7.1')));
    const clientPf = calls().find((c) => c.cmd === 'kubectl' && c.args.at(-1) === ':15000' && c.args.includes('spillover-load'))!;
    assert.ok(clientPf.args.includes('pod/k6-0'), `the client Envoy is the k6 pod's sidecar: ${clientPf.args.join(' ')}`);
    assert.equal(dep.loadEngine?.name, 'k6-in-cluster');
    const result = (await dep.loadEngine.run({ runDir: ctx.runDir, t0Epoch: Date.now(), target: dep.entry, signal: ctx.signal })) as {
      points: number;
    };
    assert.ok(calls().some((c) => c.cmd === 'kubectl' && c.args.at(-1) === ':6565'));
    assert.equal(
      fs.readFileSync(path.join(ctx.runDir, 'raw/k6.json'), 'utf8').trim().split('\n').length,
      1,
      'only the JSON lines of the k6 log',
    );
    assert.equal(result.points, 1);
    await backend.down({ keep: false });
  });

  it('a failed preflight stops the run before anything is created, with the fix', async () => {
    const backend = track(
      createKindBackend({
        ...common(),
        preflight: async () => [
          { name: 'memory', ok: false, optional: false, found: '4.0 GiB', fix: 'give Docker at least 8 GiB' },
          { name: 'k6', ok: false, optional: true, found: 'missing' },
        ],
      }),
    );
    await assert.rejects(
      backend.up(ctxFor('p1')),
      (e: unknown) =>
        isSpilloverError(e) &&
        e.problems.length === 1 &&
        /memory is not ready/.test(e.message) &&
        /give Docker at least 8 GiB/.test(e.message),
    );
    assert.deepEqual(calls(), []);
  });

  it('cleanupStale removes the clusters of dead runs by prefix, and nothing else', async () => {
    const stateDir = path.join(tmp, 'state', 'kube');
    fs.mkdirSync(stateDir, { recursive: true });
    // A run whose owner is gone (pid 2^22+1 is beyond pid_max defaults) and one that is alive (us).
    fs.writeFileSync(
      path.join(stateDir, 'kube-dead.json'),
      JSON.stringify({
        runId: 'dead',
        mode: 'kind',
        ownerPid: 4194305,
        ownerStartTicks: 'x',
        clusters: [{ name: 'cluster-1', context: 'kind-spillover-dead-cluster-1', kindName: 'spillover-dead-cluster-1' }],
        created: [],
        istioInstalled: [],
        dockerContainers: ['spillover-dead-cloud-provider-kind'],
      }),
    );
    const { startTicks } = await import('../../../src/process/processes.ts');
    fs.writeFileSync(
      path.join(stateDir, 'kube-live.json'),
      JSON.stringify({
        runId: 'live',
        mode: 'kind',
        ownerPid: process.pid,
        ownerStartTicks: startTicks(process.pid),
        clusters: [{ name: 'cluster-1', context: 'kind-spillover-live-cluster-1', kindName: 'spillover-live-cluster-1' }],
        created: [],
        istioInstalled: [],
        dockerContainers: ['spillover-live-cloud-provider-kind'],
      }),
    );
    setEnv('FAKE_KIND_CLUSTERS', 'spillover-live-cluster-1\nspillover-orphan-cluster-2\nmy-own-cluster\n');
    setEnv('FAKE_DOCKER_CONTAINERS', 'spillover-live-cloud-provider-kind\n');
    const removed = await track(createKindBackend(common())).cleanupStale();
    const deletes = calls()
      .filter((c) => c.cmd === 'kind' && c.args[0] === 'delete')
      .map((c) => c.args[3])
      .sort();
    assert.deepEqual(deletes, ['spillover-dead-cluster-1', 'spillover-orphan-cluster-2']);
    assert.ok(removed.includes('kind cluster spillover-orphan-cluster-2'));
    assert.ok(!calls().some((c) => c.cmd === 'docker' && c.args.includes('spillover-live-cloud-provider-kind') && c.args[0] === 'rm'));
    assert.ok(fs.existsSync(path.join(stateDir, 'kube-live.json')));
    assert.ok(!fs.existsSync(path.join(stateDir, 'kube-dead.json')));
  });

  it('kube: uses the contexts, no kind/docker/istioctl without --install-istio, deletes only what it created', async () => {
    // The user's namespace "istio" exists already (without our labels): used, never deleted.
    apis['cluster-1'].objects.set('/api/v1/namespaces/istio', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'istio', labels: { team: 'x' } },
    });
    const backend = track(createKubeBackend({ ...common(), context1: 'east', context2: 'west', installIstio: false }));
    const dep = await backend.up(ctxFor('k1'));
    assert.ok(!calls().some((c) => ['kind', 'docker', 'istioctl'].includes(c.cmd)));
    assert.ok(
      calls()
        .filter((c) => c.cmd === 'kubectl')
        .every((c) => ['east', 'west'].includes(c.args[1])),
    );
    assert.ok(!patches('cluster-1').some((r) => r.path === '/api/v1/namespaces/istio'), 'an existing namespace is not taken over');
    assert.ok(dep.warnings.some((w) => /existing Istio installation/.test(w)));
    await backend.down({ keep: false });
    const deleted = apis['cluster-1'].requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    assert.ok(deleted.includes('/apis/networking.istio.io/v1alpha3/namespaces/istio/serviceentries/a'));
    assert.ok(deleted.includes('/api/v1/namespaces/spillover-load'));
    assert.ok(!deleted.includes('/api/v1/namespaces/istio'), 'never deletes what it did not create');
    assert.ok(
      deleted.indexOf('/apis/apps/v1/namespaces/spillover-load/deployments/client') < deleted.indexOf('/api/v1/namespaces/spillover-load'),
      'reverse order: workloads before their namespace',
    );
  });

  it('an experiment resource that fails the Istio schema stops the run before any cluster is created', async () => {
    const backend = track(createKindBackend(common()));
    const ctx = ctxFor('bad');
    // What the experiment loader would refuse first; here it stands for anything it lets through.
    (ctx.experiment.spec.resources[0] as { spec: { resolution: string } }).spec.resolution = 'STATIK';
    await assert.rejects(
      backend.up(ctx),
      (e: unknown) =>
        isSpilloverError(e) &&
        /ServiceEntry istio\/a does not match the networking.istio.io\/v1alpha3 ServiceEntry schema/.test(e.message) &&
        /spec\.resolution/.test(e.message),
    );
    assert.deepEqual(calls(), []);
  });

  it('cleanupStale without kind or docker installed finds nothing and does not fail', async () => {
    const empty = path.join(tmp, 'empty-bin');
    fs.mkdirSync(empty);
    assert.deepEqual(await track(createKindBackend({ ...common(), toolPath: empty })).cleanupStale(), []);
  });

  it('kube: cleanupStale deletes what a killed run created, and only that', async () => {
    const stateDir = path.join(tmp, 'state', 'kube');
    fs.mkdirSync(stateDir, { recursive: true });
    apis['cluster-1'].objects.set('/api/v1/namespaces/spillover-load', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'spillover-load' },
    });
    apis['cluster-1'].objects.set('/api/v1/namespaces/istio', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio' } });
    fs.writeFileSync(
      path.join(stateDir, 'kube-gone.json'),
      JSON.stringify({
        runId: 'gone',
        mode: 'kube',
        ownerPid: 4194305,
        ownerStartTicks: 'x',
        clusters: [
          { name: 'cluster-1', context: 'east' },
          { name: 'cluster-2', context: 'west' },
        ],
        created: [{ context: 'east', apiVersion: 'v1', kind: 'Namespace', name: 'spillover-load' }],
        istioInstalled: [],
        dockerContainers: [],
      }),
    );
    const removed = await track(createKubeBackend({ ...common(), context1: 'east', context2: 'west', installIstio: false })).cleanupStale();
    assert.deepEqual(removed, ['east: Namespace spillover-load']);
    assert.deepEqual(
      apis['cluster-1'].requests.filter((r) => r.method === 'DELETE').map((r) => r.path),
      ['/api/v1/namespaces/spillover-load'],
    );
    assert.ok(!calls().some((c) => c.cmd === 'kind'), 'the kube backend never looks for kind clusters');
  });

  it('kube: refuses to overwrite an object somebody else owns', async () => {
    apis['cluster-2'].objects.set('/api/v1/namespaces/istio/services/a', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'a', namespace: 'istio' },
    });
    const backend = track(createKubeBackend({ ...common(), context1: 'east', context2: 'west', installIstio: false }));
    await assert.rejects(
      backend.up(ctxFor('k2')),
      (e: unknown) => isSpilloverError(e) && /west\): Service istio\/a already exists and was not created by spillover/.test(e.message),
    );
    assert.ok(!patches('cluster-2').some((r) => r.path === '/api/v1/namespaces/istio/services/a'));
    await backend.down({ keep: false });
    assert.ok(!apis['cluster-2'].requests.some((r) => r.method === 'DELETE' && r.path === '/api/v1/namespaces/istio/services/a'));
  });
});
