import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arrivalTimes, planSchedule, rampingArrivalTimes, vuSteps } from '../../src/load/schedule.ts';
import { simulateArrivalRate } from '../../src/load/simulate.ts';
import type { ConstantArrivalRate, RampingArrivalRate, RampingVus, Stage } from '../../src/load/types.ts';

const base = { startTime: 0, gracefulStop: 30, exec: 'default', env: {}, requests: [] };
const car = (o: Partial<ConstantArrivalRate>): ConstantArrivalRate => ({
  ...base,
  name: 'c',
  executor: 'constant-arrival-rate',
  rate: 1,
  timeUnit: 1,
  duration: 1,
  preAllocatedVUs: 1,
  maxVUs: 1,
  ...o,
});
const rar = (o: Partial<RampingArrivalRate>): RampingArrivalRate => ({
  ...base,
  name: 'r',
  executor: 'ramping-arrival-rate',
  startRate: 0,
  timeUnit: 1,
  stages: [],
  preAllocatedVUs: 1,
  maxVUs: 1,
  ...o,
});
const st = (duration: number, target: number): Stage => ({ duration, target });
const MS = 0.001;
const closeTo = (got: number[], want: number[]) => {
  assert.equal(got.length, want.length, `count: got ${got.length}, want ${want.length}`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= MS, `iteration ${i}: got ${g}, want ${want[i]}`));
};
const perSecond = (times: number[], seconds: number) => {
  const counts = new Array(seconds).fill(0);
  for (const t of times) counts[Math.min(seconds - 1, Math.ceil(t) - 1 < 0 ? 0 : Math.ceil(t) - 1)]++;
  return counts;
};

describe('load/schedule: k6 executor maths (facts §2 vectors, virtual time)', () => {
  it('vector 1: ramping cal times for stages [5s→1, 1s→1, 5s→0]', () => {
    const times = [...rampingArrivalTimes(0, 1, [st(5, 1), st(1, 1), st(5, 0)])];
    closeTo(times, [Math.sqrt(10), Math.sqrt(20), 5.5, 11 - Math.sqrt(20), 11 - Math.sqrt(10), 11]);
    // The one at exactly the total duration races k6's deadline; the plan does not start it.
    closeTo(
      [...arrivalTimes(rar({ stages: [st(5, 1), st(1, 1), st(5, 0)] }))],
      [Math.sqrt(10), Math.sqrt(20), 5.5, 11 - Math.sqrt(20), 11 - Math.sqrt(10)],
    );
  });

  it('vector 4: startRate 10, [1s→10, 1s→50, 1s→50]: 10/30/50 per second, first at 0.1 s', () => {
    const all = [...rampingArrivalTimes(10, 1, [st(1, 10), st(1, 50), st(1, 50)])];
    assert.equal(all.length, 90);
    assert.ok(Math.abs(all[0] - 0.1) <= MS);
    assert.ok(Math.abs(all[89] - 3.0) <= MS);
    const planned = [...arrivalTimes(rar({ startRate: 10, stages: [st(1, 10), st(1, 50), st(1, 50)] }))];
    const counts = perSecond(planned, 3);
    assert.deepEqual(
      counts.map((c, i) => Math.abs(c - [10, 30, 50][i]) <= [1, 2, 3][i]),
      [true, true, true],
      `counts ${counts}`,
    );
  });

  it('vector 5: startRate 0, (2s − 1ns) → 10, pre 1 max 3: started + dropped = 9 at the derived times', () => {
    const spec = rar({ stages: [st(2 - 1e-9, 10)], preAllocatedVUs: 1, maxVUs: 3 });
    closeTo([...arrivalTimes(spec)], [0.632, 0.894, 1.095, 1.265, 1.414, 1.549, 1.673, 1.789, 1.897]);
    const sim = simulateArrivalRate(spec, () => Infinity);
    assert.equal(sim.started + sim.dropped, 9);
    assert.equal(sim.allocated, 3);
    assert.equal(sim.started, 3);
  });

  it('vector 6: gracefulStop lets in-flight iterations finish: 10 full iterations', () => {
    const spec = rar({ startRate: 10, stages: [st(2, 10)], preAllocatedVUs: 10, maxVUs: 10, gracefulStop: 5 });
    const sim = simulateArrivalRate(spec, () => 5);
    assert.equal(sim.completed, 10);
    assert.equal(sim.interrupted, 0);
    assert.equal(sim.allocated, 10);
    closeTo(sim.startTimes, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]);
  });

  it('vector 7: constant 10/s for 950 ms, pre = max = 5, blocking: 5 started, 5 dropped, one warning', () => {
    const spec = car({ rate: 10, duration: 0.95, preAllocatedVUs: 5, maxVUs: 5, gracefulStop: 0 });
    closeTo([...arrivalTimes(spec)], [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    const sim = simulateArrivalRate(spec, () => Infinity);
    assert.deepEqual([sim.started, sim.dropped, sim.insufficientVUs, sim.interrupted], [5, 5, true, 5]);
  });

  it('vector 10: constant 50/s for 5 s: 250 iterations, 50 in every second, first at t = 0', () => {
    const times = [...arrivalTimes(car({ rate: 50, duration: 5, preAllocatedVUs: 10, maxVUs: 20 }))];
    assert.equal(times.length, 250);
    assert.equal(times[0], 0);
    assert.deepEqual(
      perSecond(
        times.map((t) => t + 1e-9),
        5,
      ),
      [50, 50, 50, 50, 50],
    );
  });

  it('vector 11: pre 5 max 10 with blocking iterations: concurrency ends between 5 and 10', () => {
    for (const spec of [
      rar({ startRate: 10, stages: [st(0.95, 20)], preAllocatedVUs: 5, maxVUs: 10 }),
      car({ rate: 10, duration: 0.95, preAllocatedVUs: 5, maxVUs: 10 }),
    ]) {
      const sim = simulateArrivalRate(spec, () => Infinity);
      assert.ok(sim.maxActive >= 5 && sim.maxActive <= 10, `${spec.executor}: ${sim.maxActive}`);
      assert.equal(sim.started + sim.dropped, sim.due);
    }
  });

  it('derived: fractional carry across a 0-duration jump (1.5 s at 1/s, then jump to 2/s)', () => {
    // Stage 1 owes 1.5 iterations: the 2nd lands 0.5 iterations (0.25 s at 2/s) into stage 2.
    const spec = rar({ startRate: 1, stages: [st(1.5, 1), st(0, 2), st(1, 2)] });
    closeTo([...arrivalTimes(spec)], [1, 1.75, 2.25]);
  });

  it('derived: timeUnit scales the rate (3 per minute → every 20 s), startTime offsets the plan', () => {
    const spec = car({ rate: 3, timeUnit: 60, duration: 60, startTime: 5 });
    const [plan] = planSchedule({ timeScale: 1, warnings: [], scenarios: [spec] });
    closeTo(plan.times, [5, 25, 45]);
  });

  it('derived: a drop grows the pool by one slot at a time (pre 0, max 2)', () => {
    const sim = simulateArrivalRate(car({ rate: 10, duration: 1, preAllocatedVUs: 0, maxVUs: 2 }), () => Infinity);
    // t=0 dropped (grow), t=0.1 starts on slot 1, t=0.2 dropped (grow), t=0.3 starts on slot 2, the rest drop.
    closeTo(sim.startTimes, [0.1, 0.3]);
    assert.deepEqual([sim.started, sim.dropped, sim.allocated], [2, 8, 2]);
  });

  it('property: ramping iterations are non-decreasing and number floor(∫rate) over the stages', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.array(fc.record({ d: fc.integer({ min: 0, max: 20 }), t: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 5 }),
        (startRate, raw) => {
          const stages = raw.map((s) => st(s.d / 4, s.t));
          const times = [...rampingArrivalTimes(startRate, 1, stages)];
          let area = 0,
            from = startRate,
            end = 0;
          for (const s of stages) {
            area += (s.duration * (from + s.target)) / 2;
            from = s.target;
            end += s.duration;
          }
          for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1] - 1e-9);
          assert.ok(Math.abs(times.length - Math.floor(area + 1e-9)) <= 1, `${times.length} vs ${area}`);
          if (times.length) assert.ok(times[times.length - 1] <= end + 1e-9);
        },
      ),
    );
  });

  it('ramping-vus steps: floor of the line going up, ceiling going down, then 0', () => {
    const spec: RampingVus = {
      ...base,
      name: 'v',
      executor: 'ramping-vus',
      startVUs: 0,
      gracefulRampDown: 30,
      stages: [st(4, 4), st(4, 0)],
    };
    assert.deepEqual(vuSteps(spec), [
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 3],
      [6, 2],
      [7, 1],
      [8, 0],
    ]);
    const jump: RampingVus = { ...spec, startVUs: 2, stages: [st(0, 5), st(3, 5)] };
    assert.deepEqual(vuSteps(jump), [
      [0, 5],
      [3, 0],
    ]);
  });
});
