import assert from 'node:assert/strict';
import fs from 'node:fs';
import { aggregateRuns, formatAggregate } from '../../src/compare/aggregate.ts';
import { tmpDir, writeRuns } from './fixtures.ts';

describe('compare: aggregate repeats', () => {
  let root: string;
  beforeEach(() => (root = tmpDir()));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('describes each key figure across the runs, keeping per-run values in order', () => {
    const dirs = writeRuns(root, 'peak-load', [
      { firstEjectionS: 10 },
      { firstEjectionS: 12 },
      { firstEjectionS: 11 },
      { firstEjectionS: null },
    ]);
    const a = aggregateRuns(dirs);
    assert.equal(a.n, 4);
    assert.equal(a.experiment, 'peak-load');
    const ej = a.figures.find((f) => f.field === 'events.firstEjectionS')!;
    assert.deepEqual(ej.values, [10, 12, 11, null]);
    assert.equal(ej.happened, 3);
    assert.equal(ej.stats!.mean, 11);
    assert.equal(ej.stats!.sd, 1);
    assert.ok(Math.abs(ej.stats!.cv! - 1 / 11) < 1e-12);
    const text = formatAggregate(a);
    assert.match(text, /\| first ejection of A \| 3\/4 \| 11\.0s \| 1\.00s \|/);
    assert.match(text, /9\.1 %/);
  });

  it('a figure no run has is shown as absent, not as zero', () => {
    const dirs = writeRuns(root, 'peak-load', [{ firstEjectionS: null }, { firstEjectionS: null }]);
    const a = aggregateRuns(dirs);
    const ej = a.figures.find((f) => f.field === 'events.firstEjectionS')!;
    assert.equal(ej.stats, null);
    assert.match(formatAggregate(a), /\| first ejection of A \| 0\/2 \| — \|/);
  });

  it('a run directory without summary.json is an error naming the file and the fix', () => {
    const [dir] = writeRuns(root, 'peak-load', [{ firstEjectionS: 1 }]);
    fs.rmSync(`${dir}/summary.json`);
    assert.throws(
      () => aggregateRuns([dir]),
      (e: Error) => /summary\.json/.test(e.message) && /spillover report/.test(e.message),
    );
  });
});

describe('compare: aggregate intervals stay within what a figure can be', () => {
  it('cuts a latency interval at 0 and a ratio interval at 1, but not an event time', () => {
    const root = tmpDir();
    try {
      const dirs = writeRuns(root, 'peak-load', [
        { firstEjectionS: 0.1, successRatio: 1, p99: 10 },
        { firstEjectionS: 5, successRatio: 0.6, p99: 900 },
      ]);
      const a = aggregateRuns(dirs);
      const get = (f: string) => a.figures.find((x) => x.field === f)!.stats!;
      assert.equal(get('latencyMs.p99').ci95[0], 0);
      assert.equal(get('successRatio').ci95[1], 1);
      assert.ok(get('events.firstEjectionS').ci95[0] < 0, 'event times may be negative (before load start)');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('compare/aggregate: an event seen in one run only', () => {
  it('never prints NaN, and gives no repeatability verdict from a single run with the event', async () => {
    const { aggregateSummaries } = await import('../../src/compare/aggregate.ts');
    const s = (eject: number | null) => ({
      experiment: 'x',
      events: { firstEjectionS: eject },
      successRatio: 1,
      latencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
    });
    const text = formatAggregate(
      aggregateSummaries([
        { runId: 'r1', summary: s(24.6) },
        { runId: 'r2', summary: s(null) },
      ] as never),
    );
    assert.doesNotMatch(text, /NaN/);
    assert.match(text, /\| first ejection of A \| 1\/2 \| 24\.6s \|/);
    assert.doesNotMatch(text, /target/, 'no repeatability verdict from one run with an ejection');
  });
});
