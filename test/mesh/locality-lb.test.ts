/**
 * Locality load balancing as istiod computes it (loadbalancer.ApplyLocalityLoadBalancer), on the
 * vectors of Istio's own unit tests where they exist (TestSidecarLocalityLB, TestApplyLocalitySetting)
 * and on hand-worked cases of the distribute and failoverPriority rules.
 */
import assert from 'node:assert/strict';
import { applyLocalityLb, groupByLocality, localityMatch, type WeightedEndpoint } from '../../src/mesh/locality-lb.ts';

const ep = (locality: string, labels: Record<string, string> = {}, weight = 1): WeightedEndpoint => ({
  ip: '127.0.0.1',
  port: 1,
  locality,
  service: 'x',
  tlsMode: 'istio',
  origin: locality,
  labels,
  weight,
});
const prios = (r: ReturnType<typeof applyLocalityLb>) => Object.fromEntries(r.groups.map((g) => [g.locality, g.priority]));

describe('mesh: locality load balancing (istiod ApplyLocalityLoadBalancer)', () => {
  it('TestSidecarLocalityLB: same subzone 0, same zone 1, other region 2 after compaction', () => {
    const groups = groupByLocality([ep('region1/zone1/subzone1'), ep('region1/zone1/subzone2'), ep('region2/zone1/subzone1')]);
    const r = applyLocalityLb(groups, { locality: 'region1/zone1/subzone1', labels: {} }, { failover: [] }, true);
    assert.deepEqual(prios(r), { 'region1/zone1/subzone1': 0, 'region1/zone1/subzone2': 1, 'region2/zone1/subzone1': 2 });
  });

  it('without outlier detection (no failover) or with enabled: false every locality stays at priority 0', () => {
    const groups = groupByLocality([ep('r1/z1'), ep('r2/z1')]);
    assert.deepEqual(prios(applyLocalityLb(groups, { locality: 'r1/z1', labels: {} }, { enabled: true }, false)), {
      'r1/z1': 0,
      'r2/z1': 0,
    });
    assert.deepEqual(prios(applyLocalityLb(groups, { locality: 'r1/z1', labels: {} }, { enabled: false }, true)), {
      'r1/z1': 0,
      'r2/z1': 0,
    });
  });

  it('a failover rule keeps its `to` region at raw 3 and pushes other regions to raw 4 (the failover task)', () => {
    const groups = groupByLocality([ep('region3/zone4'), ep('region2/zone3'), ep('region1/zone2'), ep('region1/zone1')]);
    const r = applyLocalityLb(groups, { locality: 'region1/zone1', labels: {} }, { failover: [{ from: 'region1', to: 'region2' }] }, true);
    assert.deepEqual(prios(r), { 'region1/zone1': 0, 'region1/zone2': 1, 'region2/zone3': 2, 'region3/zone4': 3 });
    assert.equal(r.localityWeighted, true);
  });

  it('failoverPriority: label priority (n - first mismatch) x 5 plus the locality priority, compacted', () => {
    const proxy = { locality: 'r1/z2', labels: { net: 'n1', region: 'r1' } };
    const groups = groupByLocality([
      ep('r1/z1', { net: 'n1', region: 'r1' }),
      ep('r1/z2', { net: 'n1', region: 'r1' }),
      ep('r2/z1', { net: 'n1', region: 'r2' }),
      ep('r3/z1', { net: 'n2' }),
    ]);
    const r = applyLocalityLb(groups, proxy, { failoverPriority: ['net', 'region'], failover: [{ from: 'r1', to: 'r3' }] }, true);
    // raw: r1/z2 0, r1/z1 1, r2/z1 1*5+4 = 9, r3/z1 2*5+3 = 13
    assert.deepEqual(prios(r), { 'r1/z2': 0, 'r1/z1': 1, 'r2/z1': 2, 'r3/z1': 3 });
  });

  it('failoverPriority splits one locality whose endpoints differ in a label', () => {
    const groups = groupByLocality([ep('r1/z1', { version: 'v1' }), ep('r1/z1', { version: 'v2' })]);
    const r = applyLocalityLb(groups, { locality: 'r1/z1', labels: { version: 'v2' } }, { failoverPriority: ['version'] }, true);
    assert.deepEqual(
      r.groups.map((g) => [g.priority, g.endpoints.map((e) => e.labels!.version)]),
      [
        [0, ['v2']],
        [1, ['v1']],
      ],
    );
  });

  it("distribute: a wildcard shares its weight by the localities' own weights (ceil); unnamed localities are kept empty", () => {
    const groups = groupByLocality([ep('us-east/e2'), ep('us-east/e2'), ep('us-east/e3'), ep('us-west/w1', {}, 2), ep('eu/x1')]);
    const r = applyLocalityLb(
      groups,
      { locality: 'us-east/e1', labels: {} },
      { distribute: [{ from: 'us-east/e1/*', to: { 'us-east/*': 80, 'us-west/w1/*': 20 } }] },
      true,
    );
    assert.deepEqual(Object.fromEntries(r.groups.map((g) => [g.locality, g.weight])), {
      'us-east/e2': 54,
      'us-east/e3': 27,
      'us-west/w1': 20,
      'eu/x1': 1,
    });
    // istiod sets LbEndpoints = nil on a locality no rule names, and keeps the entry with its weight.
    assert.deepEqual(r.groups.find((g) => g.locality === 'eu/x1')!.endpoints, []);
    assert.equal(r.localityWeighted, true);
  });

  it('LocalityMatch: "*" and missing parts match anything, the region must be named', () => {
    assert.ok(localityMatch('r1/z1/s1', 'r1/*'));
    assert.ok(localityMatch('r1/z1/s1', 'r1'));
    assert.ok(localityMatch('r1/z1/s1', '*'));
    assert.ok(!localityMatch('r1/z1/s1', 'r1/z2'));
    assert.ok(!localityMatch('r1/z1', 'r2/*'));
  });
});
