import assert from 'node:assert/strict';
import { CapacityModel } from '../../src/workload/capacity.ts';

describe('workload/capacity', () => {
  it('runs up to `concurrency`, queues up to `queue`, refuses the rest', () => {
    const m = new CapacityModel<string>(2, 1);
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((j) => m.offer(j)),
      ['run', 'run', 'queued', 'rejected'],
    );
    assert.equal(m.inFlight, 2);
    assert.equal(m.queued, 1);
  });

  it('hands a freed slot to the oldest queued job, then frees it', () => {
    const m = new CapacityModel<string>(1, 2);
    m.offer('a');
    m.offer('b');
    m.offer('c');
    assert.equal(m.done(), 'b');
    assert.equal(m.inFlight, 1);
    assert.equal(m.done(), 'c');
    assert.equal(m.done(), undefined);
    assert.equal(m.inFlight, 0);
    assert.equal(m.offer('d'), 'run');
  });

  it('cancelling a queued job makes room; cancelling anything else is a no-op', () => {
    const m = new CapacityModel<string>(1, 1);
    m.offer('a');
    m.offer('b');
    assert.equal(m.offer('c'), 'rejected');
    assert.equal(m.cancel('a'), false);
    assert.equal(m.cancel('b'), true);
    assert.equal(m.offer('c'), 'queued');
    assert.equal(m.done(), 'c');
  });

  it('queue 0 means refuse as soon as every slot is busy', () => {
    const m = new CapacityModel<number>(1, 0);
    assert.deepEqual(
      [1, 2].map((j) => m.offer(j)),
      ['run', 'rejected'],
    );
  });
});
