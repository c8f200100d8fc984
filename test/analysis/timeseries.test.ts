import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTimeseries, offeredRate } from '../../src/analysis/timeseries.ts';
import { requestColumns } from '../../src/analysis/request-columns.ts';
import { k6PercentileOf } from '../../src/util/percentile.ts';
import type { LoadTick, RequestRecord } from '../../src/contracts/raw.ts';

const tick = (t: number, target: number): LoadTick => ({ t, scenario: 's', target, started: target, dropped: 0, active: 0, allocated: 0 });

describe('analysis/timeseries', () => {
  it('spreads each load tick (t−1, t] over the buckets it overlaps', () => {
    const ticks = [tick(1, 10), tick(2, 30)];
    assert.equal(offeredRate(ticks, 0, 1), 10);
    assert.equal(offeredRate(ticks, 0.5, 1.5), 20);
    assert.equal(offeredRate(ticks, 0, 2), 20);
    assert.equal(offeredRate(ticks, 1.5, 2), 30);
  });

  it('conserves requests across buckets and matches k6 percentiles per bucket', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            sent: fc.double({ min: 0, max: 9.999, noNaN: true }),
            lat: fc.double({ min: 0.0001, max: 2, noNaN: true }),
            b: fc.boolean(),
            status: fc.constantFrom(200, 503, 0),
          }),
          { minLength: 1, maxLength: 300 },
        ),
        fc.constantFrom(0.5, 1, 2),
        (reqs, bucketS) => {
          const recs: RequestRecord[] = reqs.map((r, i) => ({
            id: i,
            scenario: 's',
            iter: i,
            intended: r.sent,
            sent: r.sent,
            end: r.sent + r.lat,
            status: r.status,
            ...(r.status ? { service: r.b ? 'B' : 'A' } : {}),
            rid: `r${i}`,
          }));
          const rows = buildTimeseries(requestColumns(recs), [], undefined, bucketS);
          const total = rows.reduce((s, r) => s + r.sent_rps * bucketS, 0);
          assert.ok(Math.abs(total - recs.length) < 1e-6);
          const served = rows.reduce((s, r) => s + (r.served_a_rps + r.served_b_rps) * bucketS, 0);
          assert.ok(Math.abs(served - recs.filter((r) => r.service).length) < 1e-6);
          const row = rows[0];
          const inFirst = recs.filter((r) => r.sent >= row.t_s && r.sent < row.t_s + bucketS).map((r) => (r.end - r.intended) * 1000);
          if (inFirst.length) assert.ok(Math.abs((row.p95_ms as number) - k6PercentileOf(inFirst, 0.95)) < 0.001);
          else assert.equal(row.p95_ms, null);
        },
      ),
      { numRuns: 60 },
    );
  });
});
