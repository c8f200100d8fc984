import assert from 'node:assert/strict';
import { simulateIterations } from '../../src/load/simulate-iterations.ts';
import type { IterationsSpec } from '../../src/load/types.ts';

const spec = (o: Partial<IterationsSpec> & Pick<IterationsSpec, 'executor'>): IterationsSpec =>
  ({
    name: 'default',
    startTime: 0,
    gracefulStop: 30,
    exec: 'default',
    env: {},
    requests: [],
    vus: 1,
    iterations: 1,
    maxDuration: 600,
    ...o,
  }) as IterationsSpec;

// k6's own executor tests (lib/executor/shared_iterations_test.go, per_vu_iterations_test.go at
// grafana/k6 87883075), in virtual time.
describe('load/simulate-iterations: k6 vectors for shared-iterations and per-vu-iterations', () => {
  it('TestSharedIterationsRun: 10 VUs share 100 iterations, maxDuration 5s: 100 done', () => {
    const r = simulateIterations(spec({ executor: 'shared-iterations', vus: 10, iterations: 100, maxDuration: 5 }), () => 0.001);
    assert.equal(r.completed, 100);
    assert.equal(r.dropped, 0);
  });

  it('TestSharedIterationsRunVariableVU: the VU that is slow from its 2nd iteration on does 2, total 100', () => {
    // Every iteration takes 10 ms; the first VU to run sleeps 200 ms more from its second iteration.
    const r = simulateIterations(
      spec({ executor: 'shared-iterations', vus: 10, iterations: 100, maxDuration: 5 }),
      (vu, k) => 0.01 + (vu === 0 && k >= 1 ? 0.2 : 0),
    );
    assert.equal(r.perVu[0], 2);
    assert.equal(r.completed, 100);
  });

  it('TestSharedIterationsEmitDroppedIterations: 5 VUs, 100 iterations, blocking, maxDuration 1s: 5 started, 95 dropped', () => {
    const r = simulateIterations(spec({ executor: 'shared-iterations', vus: 5, iterations: 100, maxDuration: 1 }), () => Infinity);
    assert.equal(r.started, 5);
    assert.equal(r.dropped, 95);
    assert.equal(r.interrupted, 5);
  });

  it('TestPerVUIterationsRun: 10 VUs × 100 iterations, maxDuration 3s: 100 each, 1000 in all', () => {
    const r = simulateIterations(
      spec({ executor: 'per-vu-iterations', vus: 10, iterations: 100, maxDuration: 3, gracefulStop: 1 }),
      () => 0.001,
    );
    assert.deepEqual(r.perVu, new Array(10).fill(100));
    assert.equal(r.completed, 1000);
  });

  it('TestPerVUIterationsRunVariableVU: a VU at 201 ms per iteration does 15 in 3s (+1s gracefulStop), the others 100', () => {
    const r = simulateIterations(
      spec({ executor: 'per-vu-iterations', vus: 10, iterations: 100, maxDuration: 3, gracefulStop: 1 }),
      (vu) => (vu === 0 ? 0.201 : 0),
    );
    assert.equal(r.perVu[0], 15);
    assert.deepEqual(r.perVu.slice(1), new Array(9).fill(100));
    assert.equal(r.completed, 9 * 100 + 15);
  });

  it('TestPerVuIterationsEmitDroppedIterations: 5 VUs × 20, blocking, maxDuration 1s: 5 started, 95 dropped', () => {
    const r = simulateIterations(spec({ executor: 'per-vu-iterations', vus: 5, iterations: 20, maxDuration: 1 }), () => Infinity);
    assert.equal(r.started, 5);
    assert.equal(r.dropped, 95);
  });
});
