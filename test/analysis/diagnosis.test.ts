/**
 * The configuration diagnosis on the project's own experiments and on edited copies of them: each
 * pitfall is found exactly where the configuration has it, with the numbers its prediction rests on.
 */
import assert from 'node:assert/strict';
import { readExperiment } from '../../src/experiment/read-experiment.ts';
import { diagnose } from '../../src/analysis/diagnosis/pitfalls.ts';
import { erlangB, meanServiceMs, predictCapacity, rateForLoss } from '../../src/analysis/diagnosis/capacity.ts';
import { explain } from '../../src/cli/commands/explain.ts';
import { isSpilloverError } from '../../src/errors.ts';

const spec = (name: string, set: string[] = []) => JSON.parse(JSON.stringify(readExperiment(`experiments/${name}.yaml`, { set }).spec));
const ids = (s: unknown, peak: number | null = 250) => diagnose({ spec: s, peakRps: peak }).map((f) => f.id);
const dr = (s: { resources: Array<Record<string, any>> }) => s.resources.find((r) => r.kind === 'DestinationRule')!;

describe('diagnosis: known pitfalls in a configuration', () => {
  it('study-slide: consecutiveErrors ignored, limits of 1 overflow before A fails, so no ejection', () => {
    const f = diagnose({ spec: spec('study-slide'), peakRps: 250 });
    const got = f.map((x) => x.id);
    for (const id of [
      'consecutive-errors-ignored',
      'pool-below-load',
      'overflow-is-not-a-host-error',
      'pending-and-max-requests-per-connection',
      'inbound-pool',
    ])
      assert.ok(got.includes(id as never), `${id} in ${got}`);
    assert.match(
      f.find((x) => x.id === 'consecutive-errors-ignored')!.effect,
      /Istio 1\.29 ignores it \(removed in 1\.7\): Envoy's default applies: 5 consecutive 5xx/,
    );
    const pool = f.find((x) => x.id === 'pool-below-load')!;
    assert.equal(pool.numbers!.limit, 1);
    // Erlang B with one slot is a / (1 + a): 1 % loss at a = 1/99, i.e. λ = 1000 / (99 W).
    const w = pool.numbers!.meanServiceMs!;
    assert.ok(Math.abs(pool.numbers!.overflowFromRps! - 1000 / (99 * w)) < 0.1, String(pool.numbers!.overflowFromRps));
  });

  it('the same resources on Istio 1.6: consecutiveErrors counts gateway errors only', () => {
    const f = diagnose({ spec: spec('study-slide', ['istio.version="1.6"']), peakRps: 250 });
    assert.match(f.find((x) => x.id === 'consecutive-errors-ignored')!.effect, /consecutive_gateway_failure .* a 500 never ejects/);
    assert.ok(
      f.some((x) => x.id === 'retries-hide-5xx'),
      'Istio before 1.24 retries 503 by default',
    );
    assert.ok(!ids(spec('study-slide')).includes('retries-hide-5xx'), 'Istio 1.29 does not');
  });

  it('peak-load: the capacity model predicts A saturating above ~concurrency / mean service time', () => {
    const f = diagnose({ spec: spec('peak-load'), peakRps: 250 }).find((x) => x.id === 'pool-below-load')!;
    const mean = meanServiceMs({ distribution: 'lognormal', median: '20ms', p99: '60ms' })!;
    assert.equal(f.numbers!.aMaxRps, Math.round((4 * 1000) / mean));
    assert.match(f.title, /above A's capacity/);
    assert.ok(!ids(spec('peak-load')).includes('max-ejection-percent'));
    assert.ok(!ids(spec('peak-load')).includes('consecutive-errors-ignored'));
    assert.equal(predictCapacity(100, 4, 8, { distribution: 'fixed', value: '20ms' })!.aSaturatesAboveRps, null);
  });

  it('maxEjectionPercent unset with two hosts refuses every ejection; 50 allows one of two', () => {
    const s = spec('peak-load');
    delete dr(s).spec.trafficPolicy.outlierDetection.maxEjectionPercent;
    const f = diagnose({ spec: s, peakRps: 250 }).find((x) => x.id === 'max-ejection-percent')!;
    assert.match(f.effect, /one of 2 hosts is 50 % > 10 %/);
    dr(s).spec.trafficPolicy.outlierDetection.maxEjectionPercent = 50;
    assert.ok(!ids(s).includes('max-ejection-percent'));
  });

  it('no outlierDetection: no failover, only balancing; tls under spec; ServiceEntry namespace and port name', () => {
    const s = spec('peak-load');
    const t = dr(s).spec;
    delete t.trafficPolicy.outlierDetection;
    t.tls = t.trafficPolicy.tls;
    delete t.trafficPolicy.tls;
    const se = s.resources.find((r: Record<string, any>) => r.kind === 'ServiceEntry');
    se.metadata.namespace = 'default';
    se.spec.ports[0].name = 'http-a';
    const got = ids(s);
    for (const id of ['failover-needs-outlier-detection', 'tls-under-spec', 'se-namespace', 'se-port-name'])
      assert.ok(got.includes(id as never), `${id} in ${got}`);
    assert.ok(!got.includes('panic-threshold'));
  });

  it('locality failover switched off beside outlierDetection is the same balancing pitfall', () => {
    const s = spec('peak-load');
    dr(s).spec.trafficPolicy.loadBalancer = { localityLbSetting: { enabled: false } };
    const f = diagnose({ spec: s, peakRps: 250 }).find((x) => x.id === 'failover-needs-outlier-detection')!;
    assert.match(f.title, /localityLbSetting\.enabled: false/);
    assert.ok(!ids(spec('peak-load')).includes('failover-needs-outlier-detection'));
  });

  it('a closed loop: the VU count is what is in flight, compared with the limits', () => {
    const s = spec('study-slide');
    const f = diagnose({ spec: s, peakRps: null, closedLoopVus: 4 }).find((x) => x.id === 'pool-below-load')!;
    assert.match(f.effect, /keeps all 4 requests in flight: 1 proceed, 1 wait as pending, and 2 are refused at once/);
    assert.ok(!diagnose({ spec: s, peakRps: null, closedLoopVus: 1 }).some((x) => x.id === 'pool-below-load'));
  });

  it("Erlang's loss formula and its inverse agree with the closed forms", () => {
    assert.ok(Math.abs(erlangB(1, 0.5) - 0.5 / 1.5) < 1e-12);
    assert.ok(Math.abs(erlangB(2, 1) - 0.5 / 2.5) < 1e-12);
    const r = rateForLoss(8, 20, 0.01);
    assert.ok(erlangB(8, ((r + 1) * 20) / 1000) > 0.01 && erlangB(8, ((r - 1) * 20) / 1000) <= 0.01);
  });

  it('spillover explain prints the findings; an unknown experiment is a clear error', async () => {
    const text = await explain('study-slide');
    assert.match(text, /^study-slide: Istio 1\.29 semantics, scenario peak 250 req\/s/);
    assert.match(text, /will: Istio 1\.29 ignores it/);
    assert.match(text, /source: .*a291ab60276/);
    await assert.rejects(explain('no-such-experiment'), (e: unknown) => isSpilloverError(e) && e.exitCode === 2);
  });
});
