/**
 * The normaliser and differ of `spillover mesh diff`, on istiod's output recorded from the helper
 * (test/fixtures/oracle/peak-load-xds.json: tools/istiod-config run on basePlan(peak-load); both
 * sides re-encoded through Envoy's protos). No Go needed: the live comparison runs in .ci/run
 * (scripts/mesh-diff-all.ts). To re-record: see scripts/mesh-diff-all.ts and src/runner/istiod-config.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { diffMesh } from '../../src/oracle/diff.ts';
import { KNOWN_DIFFERENCES } from '../../src/oracle/known-differences.ts';
import { istiodRequests } from '../../src/oracle/istiod-request.ts';
import { compatibilityEnv, oracleComparable } from '../../src/oracle/era.ts';
import { basePlan, peakLoadResources } from '../mesh/plans.ts';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/oracle/peak-load-xds.json');
const load = () => JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
const CLIENT_CLUSTER = 'outbound|80||a.istio.svc.cluster.local';
const clientCluster = (x: any) => x.istiod.client.clusters.find((c: any) => c.name === CLIENT_CLUSTER);

describe('oracle: mesh diff on recorded istiod output', () => {
  const plan = basePlan(peakLoadResources());

  it('finds no unexplained difference for peak-load, and every known difference is in use', () => {
    const x = load();
    const d = diffMesh(plan, x.ours, x.istiod);
    assert.equal(
      d.unexplained,
      0,
      d.differences
        .filter((y) => !y.known)
        .map((y) => y.path)
        .join('\n'),
    );
    // Sidecar egress's passthrough stand-in only exists when a Sidecar hides a host, which peak-load has
    // not; scripts/mesh-diff-all.ts uses it on test/fixtures/topology/sidecar-*.yaml.
    const notInPeakLoad = ['passthrough-without-original-dst'];
    assert.deepEqual(
      Object.keys(d.excused).sort(),
      KNOWN_DIFFERENCES.map((k) => k.id)
        .filter((id) => !notInPeakLoad.includes(id))
        .sort(),
    );
  });

  it('reports a changed outlier threshold, SAN, retry policy or panic threshold by its path', () => {
    const x = load();
    const c = clientCluster(x);
    c.outlier_detection.consecutive_5xx = 5;
    c.transport_socket.typed_config.common_tls_context.combined_validation_context.default_validation_context.match_subject_alt_names = [
      { exact: 'spiffe://cluster.local/ns/istio/sa/b' },
    ];
    delete c.common_lb_config.healthy_panic_threshold;
    const route = x.istiod.client.routes
      .find((r: any) => r.name === '80')
      .virtual_hosts.find((v: any) => v.name === 'a.istio.svc.cluster.local:80').routes[0];
    route.route.retry_policy.num_retries = 7;
    const d = diffMesh(plan, x.ours, x.istiod);
    const paths = d.differences
      .filter((y) => !y.known)
      .map((y) => y.path)
      .sort();
    assert.deepEqual(paths, [
      `clusters/${CLIENT_CLUSTER}/common_lb_config/healthy_panic_threshold`,
      `clusters/${CLIENT_CLUSTER}/outlier_detection/consecutive_5xx`,
      `clusters/${CLIENT_CLUSTER}/transport_socket/common_tls_context/validation/match_subject_alt_names[0]/exact`,
      'routes/80/a.istio.svc.cluster.local:80/routes[0]/route/retry_policy/num_retries',
    ]);
  });

  it('does not let a known difference hide a real one next to it', () => {
    const x = load();
    const tls = clientCluster(x).transport_socket.typed_config.common_tls_context;
    tls.alpn_protocols = ['h2']; // not the telemetry ALPN
    clientCluster(x).type = 'STRICT_DNS'; // not EDS
    const gw = x.istiod.gateway.clusters.find((c: any) => c.name.startsWith('outbound_.80_'));
    gw.metadata = { filter_metadata: { istio: {} } }; // telemetry: excused
    const d = diffMesh(plan, x.ours, x.istiod);
    assert.deepEqual(
      d.differences
        .filter((y) => !y.known)
        .map((y) => y.path)
        .sort(),
      [`clusters/${CLIENT_CLUSTER}/transport_socket/common_tls_context/alpn_protocols`, `clusters/${CLIENT_CLUSTER}/type`],
    );
  });

  it('reports a cluster only one side has as one difference', () => {
    const x = load();
    x.istiod.client.clusters = x.istiod.client.clusters.filter((c: any) => c.name !== CLIENT_CLUSTER);
    const d = diffMesh(plan, x.ours, x.istiod);
    assert.deepEqual(
      d.differences.filter((y) => !y.known).map((y) => [y.path, y.ours, y.istiod]),
      [[`clusters/${CLIENT_CLUSTER}`, 'present', undefined]],
    );
  });
});

describe('oracle: what istiod is fed', () => {
  it('gives each cluster its own resources, Services, proxies and (cluster-2) the east-west Gateway', () => {
    const [c1, c2] = istiodRequests(basePlan(peakLoadResources()));
    assert.equal(c1.clusterId, 'cluster-1');
    assert.deepEqual(
      c1.proxies.map((p) => p.name),
      ['client', 'a-sidecar'],
    );
    assert.deepEqual(
      c2.proxies.map((p) => [p.name, p.type]),
      [
        ['b-sidecar', 'sidecar'],
        ['gateway', 'router'],
      ],
    );
    assert.match(c1.config, /kind: ServiceEntry[\s\S]*namespace: istio\n/);
    assert.doesNotMatch(c1.config, /kind: Gateway/);
    assert.match(c2.config, /kind: Gateway[\s\S]*AUTO_PASSTHROUGH[\s\S]*"\*\.local"/);
    assert.doesNotMatch(c2.config, /DestinationRule/); // the study applies it in cluster-1 only
    assert.deepEqual(
      c2.services.map((s) => [s.hostname, s.endpoints.map((e) => `${e.address}:${e.port}`)]),
      [['a.istio.svc.cluster.local', ['127.0.2.10:8080']]],
    );
  });

  it('compares eras from 1.24 on, with the 1.31 default flipped back for older ones', () => {
    assert.equal(oracleComparable('1.29').ok, true);
    assert.equal(oracleComparable('1.6').ok, false);
    assert.deepEqual(compatibilityEnv('1.29'), { PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS: 'false' });
    assert.deepEqual(compatibilityEnv('1.31'), {});
  });
});
