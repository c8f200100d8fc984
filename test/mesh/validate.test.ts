import assert from 'node:assert/strict';
import { validateIstioResources } from '../../src/mesh/validate.ts';
import { peakLoadResources } from './plans.ts';

const CTX = { file: 'experiments/x.yaml', basePath: 'resources' };
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const withDr = (mutate: (spec: any) => void) => {
  const r = clone(peakLoadResources());
  mutate((r[1] as any).spec);
  return r;
};

describe('mesh: Istio resource validation', () => {
  it('accepts the peak-load resources', () => {
    assert.deepEqual(validateIstioResources(peakLoadResources(), CTX), []);
  });

  it("reports the slide's spec.tls with the place it belongs", () => {
    const r = withDr((spec) => {
      spec.tls = spec.trafficPolicy.tls;
      delete spec.trafficPolicy.tls;
    });
    const [p, ...rest] = validateIstioResources(r, CTX);
    assert.equal(rest.length, 0);
    assert.equal(p.file, 'experiments/x.yaml');
    assert.equal(p.path, 'resources[1].spec.tls');
    assert.equal(p.fix, 'did you mean spec.trafficPolicy.tls?');
    assert.match(p.expected!, /host, trafficPolicy, subsets, exportTo, workloadSelector/);
  });

  it('suggests the near spelling of a misspelt field', () => {
    const r = withDr((spec) => {
      spec.trafficPolicy.outlierDetection.consecutive5xxError = 1;
    });
    const [p] = validateIstioResources(r, CTX);
    assert.equal(p.path, 'resources[1].spec.trafficPolicy.outlierDetection.consecutive5xxError');
    assert.equal(p.fix, 'did you mean spec.trafficPolicy.outlierDetection.consecutive5xxErrors?');
  });

  it('reports wrong types, durations and enum values with their paths', () => {
    const r = withDr((spec) => {
      spec.trafficPolicy.connectionPool.tcp.maxConnections = '32';
      spec.trafficPolicy.outlierDetection.baseEjectionTime = '1d';
      spec.trafficPolicy.outlierDetection.interval = 5;
      spec.trafficPolicy.tls.mode = 'istio_mutual';
    });
    const byPath = Object.fromEntries(validateIstioResources(r, CTX).map((p) => [p.path, p]));
    assert.equal(byPath['resources[1].spec.trafficPolicy.connectionPool.tcp.maxConnections'].found, '"32"');
    assert.match(byPath['resources[1].spec.trafficPolicy.outlierDetection.baseEjectionTime'].expected!, /Go-style duration/);
    assert.equal(byPath['resources[1].spec.trafficPolicy.outlierDetection.interval'].expected, 'string');
    assert.equal(byPath['resources[1].spec.trafficPolicy.tls.mode'].fix, 'write ISTIO_MUTUAL (enum values are upper case)');
  });

  it('accepts every duration form Istio accepts', () => {
    for (const d of ['1s', '500ms', '1m', '1h30m', '1.5s', '250us', '10ns']) {
      const r = withDr((spec) => {
        spec.trafficPolicy.outlierDetection.baseEjectionTime = d;
      });
      const problems = validateIstioResources(r, CTX);
      // The syntax parses; Istio's ValidateDuration then wants >= 1ms for this field.
      if (d === '250us' || d === '10ns')
        assert.deepEqual(
          problems.map((p) => p.message),
          ['Istio requires at least 1ms here (ValidateDuration)'],
          d,
        );
      else assert.deepEqual(problems, [], d);
    }
  });

  it('names unknown kinds and apiVersions', () => {
    const r = clone(peakLoadResources()) as any[];
    r[0].kind = 'ServiceEntri';
    r[1].apiVersion = 'networking.istio.io/v2';
    const ps = validateIstioResources(r, CTX);
    const kind = ps.find((p) => p.path === 'resources[0].kind')!;
    assert.equal(kind.fix, 'did you mean ServiceEntry?');
    assert.ok(ps.some((p) => p.path === 'resources[1].apiVersion'));
  });

  it('reports a ServiceEntry host no DestinationRule covers, and a DestinationRule host that matches nothing', () => {
    const r = withDr((spec) => {
      spec.host = 'a.istio.svc.cluster.locl';
    });
    const ps = validateIstioResources(r, CTX);
    assert.deepEqual(ps.map((p) => p.path).sort(), ['resources[0].spec.hosts[0]', 'resources[1].spec.host']);
    assert.equal(ps.find((p) => p.path === 'resources[1].spec.host')!.fix, 'did you mean a.istio.svc.cluster.local?');
    // A DestinationRule for one of the experiment's own services needs no ServiceEntry.
    const onlyDr = [r[1]];
    (onlyDr[0] as any).spec.host = 'b.istio.svc.cluster.local';
    assert.deepEqual(validateIstioResources(onlyDr, { ...CTX, hosts: ['b.istio.svc.cluster.local'] }), []);
  });

  it("applies Istio's own rules: local-origin failures need the split", () => {
    const r = withDr((spec) => {
      spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures = 3;
    });
    const [p] = validateIstioResources(r, CTX);
    assert.equal(p.path, 'resources[1].spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures');
  });

  it('checks VirtualService retries and PeerAuthentication modes', () => {
    const ps = validateIstioResources(
      [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'a' },
          spec: { hosts: ['a'], http: [{ retries: { attempts: 2, retryOn: '5xx', perTryTimout: '1s' }, timeout: 'soon' }] },
        },
        { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'p' }, spec: { mtls: { mode: 'STRICTLY' } } },
      ],
      CTX,
    );
    const byPath = Object.fromEntries(ps.map((p) => [p.path, p]));
    assert.equal(byPath['resources[0].spec.http[0].retries.perTryTimout'].fix, 'did you mean spec.http[0].retries.perTryTimeout?');
    assert.ok(byPath['resources[0].spec.http[0].timeout']);
    assert.equal(byPath['resources[1].spec.mtls.mode'].fix, 'did you mean STRICT?');
  });

  // Rules istiod enforces that `spillover mesh diff` found src/mesh accepting.
  it('applies the rules istiod refused: empty traffic policy, routeless HTTP route, useClientProtocol with UPGRADE', () => {
    const ps = validateIstioResources(
      [
        { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'e' }, spec: { host: 'a', trafficPolicy: {} } },
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'u' },
          spec: { host: 'a', trafficPolicy: { connectionPool: { http: { useClientProtocol: true, h2UpgradePolicy: 'UPGRADE' } } } },
        },
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'v' },
          spec: { hosts: ['a'], http: [{ timeout: '1s' }] },
        },
      ],
      { ...CTX, hosts: ['a.istio.svc.cluster.local'] },
    );
    const paths = ps.map((p) => p.path);
    assert.ok(paths.includes('resources[0].spec.trafficPolicy'), paths.join(', '));
    assert.ok(paths.includes('resources[1].spec.trafficPolicy.connectionPool.http.useClientProtocol'), paths.join(', '));
    assert.ok(paths.includes('resources[2].spec.http[0]'), paths.join(', '));
  });
});
