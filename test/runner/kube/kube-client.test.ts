import assert from 'node:assert/strict';
import { KubeClient } from '../../../src/runner/kube/kube-client.ts';
import { isSpilloverError } from '../../../src/errors.ts';
import { startFakeApi, type FakeApi } from './fake-api-server.ts';

describe('kube client against recorded API responses', () => {
  let api: FakeApi;
  let c: KubeClient;
  beforeEach(async () => {
    api = await startFakeApi({ pendingPolls: 2 });
    c = new KubeClient(api.kubeConfig('ctx-1'), 'cluster-1');
  });
  afterEach(() => api.close());

  it('applies server-side: PATCH to the object path, apply-patch content type, field manager spillover, force', async () => {
    await c.apply({
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'ServiceEntry',
      metadata: { name: 'a', namespace: 'istio' },
      spec: { hosts: ['a.istio.svc.cluster.local'] },
    });
    const patch = api.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(patch.path, '/apis/networking.istio.io/v1alpha3/namespaces/istio/serviceentries/a');
    assert.match(patch.contentType ?? '', /^application\/apply-patch\+yaml/);
    assert.equal(patch.query.fieldManager, 'spillover');
    assert.equal(patch.query.force, 'true');
    assert.deepEqual((patch.body as { spec: unknown }).spec, { hosts: ['a.istio.svc.cluster.local'] });
  });

  it('exists: false on 404, true once applied; cluster-scoped objects use the cluster path', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio' } };
    assert.equal(await c.exists(ns), false);
    await c.apply(ns);
    assert.equal(await c.exists(ns), true);
    assert.ok(api.requests.some((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/istio'));
  });

  it('delete: true when it existed, false on 404', async () => {
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a', namespace: 'istio' } };
    await c.apply(sa);
    assert.equal(await c.delete(sa), true);
    assert.equal(await c.delete(sa), false);
  });

  it('waits for the LoadBalancer address, polling until the provider has set it', async () => {
    const ip = await c.loadBalancerAddress('istio-system', 'istio-eastwestgateway', { timeoutMs: 10_000, pollMs: 1 });
    assert.equal(ip, '172.18.0.5');
    assert.equal(api.requests.filter((r) => r.path.endsWith('/services/istio-eastwestgateway')).length, 3);
  });

  it('times out with a SpilloverError naming what it waited for', async () => {
    const slow = await startFakeApi({ pendingPolls: 1e9 });
    try {
      const s = new KubeClient(slow.kubeConfig('ctx-1'), 'cluster-2');
      await assert.rejects(s.loadBalancerAddress('istio-system', 'istio-eastwestgateway', { timeoutMs: 1, pollMs: 1 }), (e: unknown) => {
        assert.ok(isSpilloverError(e));
        assert.match(e.message, /cluster-2: timed out .* LoadBalancer address on Service istio-system\/istio-eastwestgateway/);
        return true;
      });
    } finally {
      await slow.close();
    }
  });

  it('rollout resolves once updated and available replicas reach spec.replicas', async () => {
    await c.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'istio' } });
    assert.equal(await c.rollout('istio', 'a', { timeoutMs: 10_000, pollMs: 1 }), true);
    assert.equal(api.requests.filter((r) => r.method === 'GET' && r.path === '/apis/apps/v1/namespaces/istio/deployments/a').length, 3);
  });

  it('readyPod skips terminating pods and passes the label selector', async () => {
    const p = await c.readyPod('istio', 'app=a', { timeoutMs: 5000, pollMs: 1 });
    assert.deepEqual(p, { name: 'a-0', ip: '10.10.0.9', node: 'node-1' });
    assert.equal(api.requests.find((r) => r.path === '/api/v1/namespaces/istio/pods')!.query.labelSelector, 'app=a');
  });

  it('follows a container log line by line until the stream ends', async () => {
    const lines: string[] = [];
    const f = await c.followLog('istio', 'a-0', 'istio-proxy', (l) => lines.push(l));
    await f.ended;
    const req = api.requests.find((r) => r.path.endsWith('/pods/a-0/log'))!;
    assert.equal(req.query.container, 'istio-proxy');
    assert.equal(req.query.follow, 'true');
    assert.equal(lines.length, 5);
    assert.match(lines[1], /"rid":"r-1"/);
  });

  it('API errors become SpilloverErrors with the cluster, the server and the API message', async () => {
    const bad = await startFakeApi({
      route: (r) =>
        r.method === 'PATCH'
          ? {
              status: 403,
              body: JSON.stringify({ kind: 'Status', code: 403, message: 'serviceentries is forbidden: User "x" cannot patch' }),
            }
          : undefined,
    });
    try {
      const b = new KubeClient(bad.kubeConfig('ctx'), 'cluster-1');
      await assert.rejects(
        b.apply({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'ServiceEntry', metadata: { name: 'a', namespace: 'istio' } }),
        (e: unknown) => {
          assert.ok(isSpilloverError(e));
          assert.match(e.message, /cluster-1 \(http:\/\/127\.0\.0\.1:\d+\): apply ServiceEntry istio\/a failed/);
          assert.match(e.message, /HTTP 403: serviceentries is forbidden/);
          return true;
        },
      );
    } finally {
      await bad.close();
    }
  });
});
