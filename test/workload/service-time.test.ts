import assert from 'node:assert/strict';
import { serviceTimeSampler } from '../../src/workload/service-time.ts';

const draw = (f: () => number, n: number) => Array.from({ length: n }, f);
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
const close = (found: number, want: number, rel: number) =>
  assert.ok(Math.abs(found - want) <= rel * want, `${found} not within ${rel * 100}% of ${want}`);

describe('workload/service-time', () => {
  const lognormal = { distribution: 'lognormal', median: '20ms', p99: '200ms' } as const;

  it('the same seed gives the same sequence; another seed a different one', () => {
    const a = draw(serviceTimeSampler(lognormal, 42), 200);
    assert.deepEqual(draw(serviceTimeSampler(lognormal, 42), 200), a);
    assert.notDeepEqual(draw(serviceTimeSampler(lognormal, 43), 200), a);
    const e = { distribution: 'exponential', mean: '10ms' } as const;
    assert.deepEqual(draw(serviceTimeSampler(e, 7), 50), draw(serviceTimeSampler(e, 7), 50));
  });

  it('lognormal honours median and p99', () => {
    const xs = draw(serviceTimeSampler(lognormal, 1), 40_000);
    close(quantile(xs, 0.5), 20, 0.03);
    close(quantile(xs, 0.99), 200, 0.06);
    assert.ok(xs.every((x) => x > 0));
  });

  it('exponential honours the mean; the first draws of small seeds are not outliers', () => {
    const xs = draw(serviceTimeSampler({ distribution: 'exponential', mean: '10ms' }, 1), 40_000);
    close(xs.reduce((s, x) => s + x, 0) / xs.length, 10, 0.03);
    for (const seed of [0, 1, 2, 3])
      assert.ok(serviceTimeSampler({ distribution: 'exponential', mean: '10ms' }, seed)() < 60, `seed ${seed}`);
  });

  it('fixed is fixed, and durations use the experiment syntax', () => {
    assert.deepEqual(draw(serviceTimeSampler({ distribution: 'fixed', value: '1s' }, 5), 3), [1000, 1000, 1000]);
  });

  it('refuses a lognormal whose p99 is below its median', () => {
    assert.throws(
      () => serviceTimeSampler({ distribution: 'lognormal', median: '50ms', p99: '10ms' }, 1),
      /capacity\.serviceTime[\s\S]*median 50ms, p99 10ms/,
    );
  });
});
