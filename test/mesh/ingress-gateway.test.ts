/**
 * The ingress gateway's translation (src/mesh/ingress-gateway.ts, gateway-binding.ts): Gateway
 * servers selected by the gateway's labels, VirtualServices bound to them (and no longer to the
 * sidecars), TLS servers refused with a caveat, and what istiod silently ignores named as caveats.
 * The translation itself is checked against istiod by `spillover mesh diff` (scripts/mesh-diff-all.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readExperiment } from '../../src/experiment/read-experiment.ts';
import { normaliseTopology } from '../../src/experiment/topology.ts';
import type { MeshPlan } from '../../src/mesh/plan.ts';
import { translate } from '../../src/mesh/translate.ts';
import { SpilloverError } from '../../src/errors.ts';
import { localMeshPlan, plannedIdentity } from '../../src/runner/backends/local-plan.ts';
import { podAddressesForSlot } from '../../src/runner/backends/local-pods.ts';

const ROOT = path.join(import.meta.dirname, '../..');
const TASK = 'experiments/istio-tasks/ingress.yaml';

async function planOf(set: string[] = [], file = TASK): Promise<MeshPlan> {
  const exp = readExperiment(path.join(ROOT, file), { set });
  const topo = normaliseTopology(exp.spec);
  const { plan } = await localMeshPlan({
    spec: exp.spec,
    timing: exp.timing,
    topo,
    ips: podAddressesForSlot(topo, 0, 8),
    runDir: '/run/spillover',
    sourceFile: file,
    identity: plannedIdentity('/run/spillover/certs'),
  });
  return plan;
}

const listeners = (m: ReturnType<typeof translate>, name = 'ingress-cluster1') => (m.bootstraps[name] as any).static_resources.listeners;
const vhosts = (l: any) => l.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts;

describe('mesh: ingress gateway (Gateway + gateway-bound VirtualService)', () => {
  it('one HTTP listener on the server port of the selecting Gateway, with the bound VirtualService routes only', async () => {
    const plan = await planOf();
    assert.deepEqual(
      plan.ingressGateways?.map((g) => [g.name, g.labels]),
      [['ingress-cluster1', { istio: 'ingressgateway', app: 'istio-ingressgateway' }]],
    );
    const m = translate(plan);
    const ls = listeners(m);
    assert.equal(ls.length, 1);
    assert.equal(ls[0].address.socket_address.port_value, 80);
    assert.equal(ls[0].address.socket_address.address, plan.ingressGateways![0].ip);
    const [vh] = vhosts(ls[0]);
    assert.deepEqual(vh.domains, ['httpbin.example.com']);
    assert.deepEqual(
      vh.routes.map((r: any) => [r.match.prefix, r.route.cluster]),
      [
        ['/status', 'outbound|8000||httpbin.default.svc.cluster.local'],
        ['/delay', 'outbound|8000||httpbin.default.svc.cluster.local'],
      ],
    );
    assert.deepEqual(m.warnings, []);
  });

  it('a VirtualService bound to a gateway no longer applies to sidecars; with `mesh` it applies to both', async () => {
    const hostVs = 'resources.VirtualService/httpbin.spec.hosts=["httpbin.example.com","httpbin"]';
    const gwOnly = translate(await planOf([hostVs]));
    const clientRoutes = (m: ReturnType<typeof translate>) =>
      listeners(m, 'client')[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
    // Gateway-only: the client's sidecar keeps Istio's default route.
    assert.deepEqual(
      clientRoutes(gwOnly).map((r: any) => r.name),
      ['default'],
    );
    const both = translate(await planOf([hostVs, 'resources.VirtualService/httpbin.spec.gateways=["httpbin-gateway","mesh"]']));
    assert.deepEqual(
      clientRoutes(both).map((r: any) => r.match.prefix),
      ['/status', '/delay'],
    );
    assert.equal(vhosts(listeners(both)[0]).length, 1);
  });

  it('a TLS server is refused with a caveat (no listener), not silently served as plain text', async () => {
    const m = translate(
      await planOf([
        'resources.Gateway/httpbin-gateway.spec.servers=[{"port":{"number":443,"name":"https","protocol":"HTTPS"},"tls":{"mode":"SIMPLE","credentialName":"httpbin-credential"},"hosts":["httpbin.example.com"]}]',
      ]),
    );
    assert.deepEqual(listeners(m), []);
    assert.ok(m.warnings.some((w) => /spec\.servers\[0\]: protocol HTTPS with tls\.mode SIMPLE is not modelled/.test(w)));
  });

  it('caveats for what istiod ignores: a Gateway selecting no gateway, a VirtualService naming an unknown Gateway', async () => {
    const m = translate(
      await planOf([
        'resources.Gateway/httpbin-gateway.spec.selector={"istio":"ingress"}',
        'resources.VirtualService/httpbin.spec.gateways=["default/other-gateway"]',
      ]),
    );
    assert.ok(
      m.warnings.some((w) =>
        /Gateway httpbin-gateway \(experiments\/istio-tasks\/ingress\.yaml resources\[0\]\): spec\.selector \{"istio":"ingress"\} selects no gateway in cluster1 \(expected the labels of one of: ingress-cluster1/.test(
          w,
        ),
      ),
      m.warnings.join('\n'),
    );
    assert.ok(
      m.warnings.some((w) =>
        /VirtualService httpbin .*spec\.gateways names "default\/other-gateway".*no Gateway applied in cluster1/.test(w),
      ),
    );
    assert.deepEqual(listeners(m), []);
  });

  it('a VirtualService host no server admits gets no virtual host, with a caveat (requests get 404)', async () => {
    const m = translate(await planOf(['resources.VirtualService/httpbin.spec.hosts=["other.example.com"]']));
    assert.deepEqual(vhosts(listeners(m)[0]), []);
    assert.ok(m.warnings.some((w) => /match no host of the Gateway servers/.test(w)));
  });

  it('bad input: client.ingress without an ingress gateway in the cluster is refused with field, expected and fix', () => {
    // The task without its ingress gateway, beside it so that its relative scenario path still resolves.
    const file = path.join(ROOT, 'experiments/istio-tasks', `.ingress-none-${process.pid}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(path.join(ROOT, TASK), 'utf8').replace('      ingressGateway: {}\n', ''));
    try {
      assert.throws(
        () => readExperiment(file),
        (e: unknown) => {
          assert.ok(e instanceof SpilloverError, String(e));
          const p = e.problems.find((x) => x.path === 'client.ingress');
          assert.ok(p, e.message);
          assert.match(p.fix ?? '', /topology\.clusters\.cluster1\.ingressGateway/);
          assert.equal(e.exitCode, 2);
          return true;
        },
      );
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('bad input: a Gateway server without hosts is refused as istio/api does', () => {
    assert.throws(
      () => readExperiment(path.join(ROOT, TASK), { set: ['resources.Gateway/httpbin-gateway.spec.servers[0].hosts=[]'] }),
      (e: unknown) => e instanceof SpilloverError && e.problems.some((p) => /resources\[0\]\.spec\.servers\[0\]\.hosts/.test(p.path ?? '')),
    );
  });
});
