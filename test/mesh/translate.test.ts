import assert from 'node:assert/strict';
import fc from 'fast-check';
import { translate } from '../../src/mesh/translate.ts';
import { compactPriorities, failoverPriorities, rawPriority } from '../../src/mesh/locality.ts';
import { shouldH2Upgrade } from '../../src/mesh/connection-pool.ts';
import { parseIstioVersion, defaultOutboundRetry } from '../../src/mesh/istio-version.ts';
import { envoyDurationFromNs, parseIstioDurationNs } from '../../src/util/duration.ts';
import { isSpilloverError } from '../../src/errors.ts';
import { basePlan, peakLoadResources, GATEWAY_IP } from './plans.ts';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const clientCluster = (m: ReturnType<typeof translate>) => (m.bootstraps.client as any).static_resources.clusters[0];
const inboundListener = (m: ReturnType<typeof translate>, name: string) => (m.bootstraps[name] as any).static_resources.listeners[0];

describe('mesh: translate', () => {
  it('gives the contract the run needs: client cluster, endpoints by service, authority, Envoy args', () => {
    const m = translate(basePlan(peakLoadResources()));
    assert.equal(m.clientCluster, 'outbound|80||a.istio.svc.cluster.local');
    assert.equal(m.authority, 'a.istio.svc.cluster.local');
    assert.deepEqual(m.endpoints, {
      '127.0.1.10:15006': { service: 'A', locality: 'us-east1/us-east1-b', priority: 0 },
      [`${GATEWAY_IP}:15443`]: { service: 'B', locality: 'us-west1/us-west1-b', priority: 1 },
    });
    assert.deepEqual(Object.keys(m.bootstraps).sort(), ['a-sidecar', 'b-sidecar', 'client', 'gateway']);
    assert.deepEqual(m.envoyArgs.client.slice(0, 4), ['--concurrency', '1', '--file-flush-interval-msec', '100']);
  });

  it('flips the priorities when the client sits in the gateway locality', () => {
    const m = translate(basePlan(peakLoadResources(), { clientLocality: 'us-west1/us-west1-b' }));
    assert.equal(m.endpoints['127.0.1.10:15006'].priority, 1);
    assert.equal(m.endpoints[`${GATEWAY_IP}:15443`].priority, 0);
  });

  it('warns, in the exact form users act on, when consecutiveErrors has no effect', () => {
    const r = clone(peakLoadResources()) as any[];
    r[1].spec.trafficPolicy.outlierDetection = { consecutiveErrors: 1, interval: '1s' };
    const plan = basePlan(r);
    plan.source = { file: 'experiments/peak-load.yaml', basePath: 'resources' };
    const m = translate(plan);
    assert.equal(
      m.warnings[0],
      'DestinationRule a (experiments/peak-load.yaml resources[1]): trafficPolicy.outlierDetection.consecutiveErrors has no effect in Istio 1.29 (ignored since 1.7; Envoy then uses its defaults: 5 consecutive 5xx eject, gateway failures are not enforced); use consecutive5xxErrors or consecutiveGatewayErrors',
    );
    assert.equal(clientCluster(m).outlier_detection.consecutive_5xx, undefined);
    const old = translate({ ...basePlan(r), istioVersion: '1.6' });
    assert.deepEqual(old.warnings, []);
    assert.equal(clientCluster(old).outlier_detection.consecutive_gateway_failure, 1);
    const oldest = translate({ ...basePlan(r), istioVersion: '1.0' });
    assert.equal(clientCluster(oldest).outlier_detection.consecutive_5xx, 1);
  });

  it('warns when a field did not exist yet in the chosen release', () => {
    const m = translate({ ...basePlan(peakLoadResources()), istioVersion: '1.4' });
    assert.ok(
      m.warnings.some((w) => /consecutive5xxErrors has no effect in Istio 1\.4 \(added in 1\.5\)/.test(w)),
      m.warnings.join('\n'),
    );
  });

  it('drops ServiceEntry endpoints from another namespace or under another port name, with a warning', () => {
    const otherNs = clone(peakLoadResources()) as any[];
    otherNs[0].metadata.namespace = 'default';
    const a = translate(basePlan(otherNs));
    assert.deepEqual(Object.keys(a.endpoints), ['127.0.1.10:15006']);
    assert.match(
      a.warnings.join('\n'),
      /only ServiceEntries in its namespace "istio" add endpoints \(found namespace "default"\); set metadata.namespace: istio/,
    );

    const otherPort = clone(peakLoadResources()) as any[];
    otherPort[0].spec.ports[0].name = 'http-a';
    otherPort[0].spec.endpoints[0].ports = { 'http-a': 15443 };
    const b = translate(basePlan(otherPort));
    assert.deepEqual(Object.keys(b.endpoints), ['127.0.1.10:15006']);
    assert.match(b.warnings.join('\n'), /no spec.ports entry is named "http"/);
  });

  it("warns that mTLS through the gateway fails when B's identity is not among the checked SANs", () => {
    const m = translate(basePlan(peakLoadResources(), { bServiceAccount: 'b' }));
    assert.match(m.warnings.join('\n'), /spiffe:\/\/cluster.local\/ns\/istio\/sa\/b is not among the SANs/);
  });

  it('honours PeerAuthentication: STRICT drops the plaintext chain, PERMISSIVE (default) keeps both', () => {
    const permissive = translate(basePlan(peakLoadResources()));
    assert.deepEqual(
      inboundListener(permissive, 'a-sidecar').filter_chains.map((c: any) => c.filter_chain_match.transport_protocol),
      ['tls', 'raw_buffer'],
    );
    const strict = translate(
      basePlan([
        ...peakLoadResources(),
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'PeerAuthentication',
          metadata: { name: 'default', namespace: 'istio' },
          spec: { mtls: { mode: 'STRICT' } },
        },
      ]),
    );
    assert.deepEqual(
      inboundListener(strict, 'a-sidecar').filter_chains.map((c: any) => c.filter_chain_match.transport_protocol),
      ['tls'],
    );
  });

  it("applies cluster-1's resources in cluster-1 only: the gateway and B's sidecar keep Istio's defaults", () => {
    const m = translate(basePlan(peakLoadResources()));
    const gw = (m.bootstraps.gateway as any).static_resources.clusters[0];
    const bInbound = (m.bootstraps['b-sidecar'] as any).static_resources.clusters[0];
    for (const c of [gw, bInbound]) assert.equal(c.circuit_breakers.thresholds[0].max_connections, 4294967295);
    assert.equal(gw.outlier_detection, undefined);
  });

  it('applies the DR pool inbound and on the gateway, but outlier detection and TLS only where Istio does', () => {
    // The same DestinationRule applied in both clusters (as a user would with `kubectl apply` in each).
    const both = (peakLoadResources() as any[]).map((r) => ({
      ...r,
      metadata: { ...r.metadata, annotations: { 'spillover.dev/clusters': 'cluster-1,cluster-2' } },
    }));
    const m = translate(basePlan(both));
    const inbound = (m.bootstraps['a-sidecar'] as any).static_resources.clusters[0];
    const gw = (m.bootstraps.gateway as any).static_resources.clusters[0];
    for (const c of [inbound, gw]) assert.equal(c.circuit_breakers.thresholds[0].max_connections, 32);
    assert.equal(inbound.outlier_detection, undefined);
    assert.equal(gw.outlier_detection.consecutive_5xx, 1);
    assert.equal(gw.transport_socket, undefined);
    assert.equal(gw.name, 'outbound_.80_._.a.istio.svc.cluster.local');
  });

  it('throws a SpilloverError naming the file and path for invalid resources', () => {
    const r = clone(peakLoadResources()) as any[];
    r[1].spec.tls = { mode: 'ISTIO_MUTUAL' };
    const plan = basePlan(r);
    plan.source = { file: 'experiments/peak-load.yaml', basePath: 'resources' };
    assert.throws(
      () => translate(plan),
      (e: unknown) =>
        isSpilloverError(e) && e.problems[0].path === 'resources[1].spec.tls' && e.problems[0].file === 'experiments/peak-load.yaml',
    );
  });
});

describe('mesh: version semantics', () => {
  it('accepts 1.x and 1.x.y and refuses anything else', () => {
    assert.deepEqual(parseIstioVersion('1.9.5'), { major: 1, minor: 9, patch: 5, text: '1.9.5' });
    assert.equal(parseIstioVersion(undefined).text, '1.29');
    for (const bad of ['2.0', '1', 'latest', '1.x']) assert.throws(() => parseIstioVersion(bad), isSpilloverError, bad);
  });

  it('retries 503 by default exactly up to 1.23, and resource-exhausted up to 1.5', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (minor) => {
        const p = defaultOutboundRetry(parseIstioVersion(`1.${minor}`))!;
        assert.equal(Array.isArray(p.retriable_status_codes), minor < 24);
        assert.equal(String(p.retry_on).includes('resource-exhausted'), minor < 6);
        assert.equal(p.host_selection_retry_max_attempts, minor === 1 ? 3 : 5);
      }),
    );
  });
});

describe('mesh: localities, durations, h2 upgrade', () => {
  it('compacts priorities to 0..N keeping their order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 8 }), (raw) => {
        const c = compactPriorities(raw);
        assert.deepEqual([...new Set(c)].sort(), [...Array(new Set(raw).size).keys()]);
        for (let i = 0; i < raw.length; i++) for (let j = 0; j < raw.length; j++) assert.equal(raw[i] < raw[j], c[i] < c[j]);
      }),
    );
  });

  it('ranks endpoints by how much locality they share with the proxy, and all 0 without failover', () => {
    assert.deepEqual(
      [
        rawPriority('r1/z1/s1', 'r1/z1/s1'),
        rawPriority('r1/z1/s1', 'r1/z1/s2'),
        rawPriority('r1/z1/s1', 'r1/z2/s1'),
        rawPriority('r1/z1/s1', 'r2/z1/s1'),
        rawPriority('', ''),
      ],
      [0, 1, 2, 3, 0],
    );
    assert.deepEqual(failoverPriorities('r1/z1', ['r1/z1', 'r2/z1'], false), [0, 0]);
  });

  it('converts Istio durations to Envoy seconds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom(['ms', 1e6], ['s', 1e9], ['m', 60e9], ['h', 3600e9]),
        (n, [unit, ns]) => {
          assert.equal(parseIstioDurationNs(`${n}${unit}`), n * (ns as number));
        },
      ),
    );
    assert.equal(envoyDurationFromNs(parseIstioDurationNs('1m')!), '60s');
    assert.equal(envoyDurationFromNs(parseIstioDurationNs('250ms')!), '0.25s');
    assert.equal(parseIstioDurationNs('1d'), undefined);
  });

  it('upgrades to h2 as TestShouldH2Upgrade expects', () => {
    const cases: Array<[string, string | undefined, boolean, boolean, boolean]> = [
      ['UPGRADE', 'DEFAULT', false, true, true],
      ['DO_NOT_UPGRADE', 'UPGRADE', false, false, true],
      ['DO_NOT_UPGRADE', 'DEFAULT', false, true, false],
      ['DO_NOT_UPGRADE', 'UPGRADE', false, true, true],
      ['UPGRADE', 'DO_NOT_UPGRADE', false, true, false],
      ['UPGRADE', undefined, true, true, false],
      ['UPGRADE', 'DEFAULT', false, false, false],
    ];
    for (const [mesh, dr, useClient, http, want] of cases)
      assert.equal(shouldH2Upgrade(mesh, dr, useClient, http), want, `${mesh}/${dr}/${useClient}/${http}`);
  });
});
