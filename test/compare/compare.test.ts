import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compareSets, minimumP, typicalSummary } from '../../src/compare/compare.ts';
import { runCompare } from '../../src/compare/run-compare.ts';
import { readRunSet } from '../../src/compare/run-set.ts';
import { main } from '../../src/cli/main.ts';
import { around, tmpDir, writeRuns, type FakeRun } from './fixtures.ts';

// Two sets of five "identical" runs: same behaviour, run-to-run noise of a couple of percent, values interleaved.
const SAME_A: FakeRun[] = [10.0, 10.2, 9.9, 10.1, 10.3].map((t, i) => ({
  firstEjectionS: t,
  redirectedFraction: [0.2, 0.205, 0.198, 0.202, 0.199][i],
  p99: [80, 82, 79, 81, 80.5][i],
}));
const SAME_B: FakeRun[] = [10.05, 9.95, 10.25, 10.15, 9.85].map((t, i) => ({
  firstEjectionS: t,
  redirectedFraction: [0.201, 0.199, 0.203, 0.2, 0.197][i],
  p99: [81, 79.5, 80.2, 82.5, 78.9][i],
}));
// consecutive5xxErrors 1 -> 5: A is ejected later and less traffic is redirected.
const LATER: FakeRun[] = [14.0, 14.3, 13.8, 14.1, 14.4].map((t, i) => ({
  firstEjectionS: t,
  redirectedFraction: [0.12, 0.125, 0.118, 0.121, 0.119][i],
  p99: [80, 81, 79, 80.5, 82][i],
}));

describe('compare: two sets of runs', () => {
  let root: string;
  const set = (name: string, runs: FakeRun[], expect?: Record<string, string[]>) => {
    writeRuns(path.join(root, name), 'peak-load', runs, { expect });
    return path.join(root, name);
  };
  beforeEach(() => (root = tmpDir()));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('five identical runs against five identical runs: no change, exit 0', () => {
    const r = compareSets(readRunSet(set('a', SAME_A)), readRunSet(set('b', SAME_B)));
    assert.deepEqual(
      r.figures.filter((f) => f.changed).map((f) => f.field),
      [],
    );
    assert.equal(r.regression, false);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.warnings, []);
  });

  it('a setting that changes behaviour is flagged with the figures that moved and by how much', () => {
    const r = compareSets(readRunSet(set('a', SAME_A)), readRunSet(set('b', LATER)));
    const moved = r.figures.filter((f) => f.changed);
    assert.deepEqual(
      moved.map((f) => f.field).sort(),
      [
        'events.firstEjectionS',
        'events.firstOverflowS',
        'events.recoveryS',
        'events.redirectEndS',
        'events.redirectOnsetS',
        'redirectedFraction',
      ].sort(),
    );
    const ej = moved.find((f) => f.field === 'events.firstEjectionS')!;
    assert.equal(ej.delta, 14.1 - 10.1);
    assert.ok(Math.abs(ej.deltaPct! - (100 * 4) / 10.1) < 1e-9);
    assert.ok(ej.p < 0.05);
    assert.match(ej.note, /moved up by 4\.00 s \(\+39\.6 %\)/);
    assert.equal(r.exitCode, 1);
  });

  it('a latency that went down is reported as an improvement and is not a regression; up is one', () => {
    const centre = { firstEjectionS: 10.1, p99: 80 };
    const faster = compareSets(readRunSet(set('a', around(5, centre))), readRunSet(set('b', around(5, { ...centre, p99: 40 }))));
    const p99 = faster.figures.find((f) => f.field === 'latencyMs.p99')!;
    assert.equal(p99.changed, true);
    assert.equal(p99.improved, true);
    assert.match(p99.note, /^improved: moved down/);
    assert.equal(faster.exitCode, 0);
    const slower = compareSets(readRunSet(set('c', around(5, centre))), readRunSet(set('d', around(5, { ...centre, p99: 160 }))));
    assert.equal(slower.figures.find((f) => f.field === 'latencyMs.p99')!.improved, false);
    assert.equal(slower.exitCode, 1);
  });

  it('an ejection that stops happening is a change even though there is no number to subtract', () => {
    const never = SAME_A.map((r) => ({ ...r, firstEjectionS: null }));
    const r = compareSets(readRunSet(set('a', SAME_A)), readRunSet(set('b', never)));
    const ej = r.figures.find((f) => f.field === 'events.firstEjectionS')!;
    assert.equal(ej.changed, true);
    assert.equal(ej.cand.median, Infinity);
    assert.equal(ej.delta, null);
    assert.match(ej.note, /stopped happening: in 5\/5 baseline runs, 0\/5 now \(Fisher p=0\.008\)/);
  });

  it('an event that merely goes missing in some runs is not a change', () => {
    const flaky = SAME_A.map((r, i) => ({ ...r, firstEjectionS: i < 3 ? null : 20 + i }));
    const r = compareSets(readRunSet(set('a', SAME_A)), readRunSet(set('b', flaky)));
    const ej = r.figures.find((f) => f.field === 'events.firstEjectionS')!;
    assert.equal(ej.cand.median, Infinity);
    assert.ok(ej.p < 0.05, 'the ranks do separate');
    assert.equal(ej.changed, false);
    assert.match(ej.note, /in 5\/5 baseline runs, 2\/5 now \(Fisher p=0\.167\)/);
  });

  it('a significant but tiny shift is not a change', () => {
    const tight = [10.0, 10.02, 9.99, 10.01, 10.03].map((t, i) => ({ ...SAME_A[i], firstEjectionS: t }));
    const shifted = tight.map((r) => ({ ...r, firstEjectionS: r.firstEjectionS + 0.2, p99: r.p99! + 50 }));
    const r = compareSets(readRunSet(set('a', tight)), readRunSet(set('b', shifted)));
    const ej = r.figures.find((f) => f.field === 'events.firstEjectionS')!;
    assert.equal(ej.significant, true);
    assert.equal(ej.changed, false);
    assert.match(ej.note, /\|Δ\| < 0\.25 s/);
    // The p99 did move a lot, and it gates.
    assert.equal(r.figures.find((f) => f.field === 'latencyMs.p99')!.changed, true);
  });

  it('a separation whose 95 % intervals still overlap is not a change (one noisy run is not a new behaviour)', () => {
    const a = [6, 10, 10.1, 10.2, 13.9].map((t) => ({ firstEjectionS: t }));
    const b = [14, 14.5, 15, 15.5, 20].map((t) => ({ firstEjectionS: t }));
    const ej = compareSets(readRunSet(set('a', a)), readRunSet(set('b', b))).figures.find((f) => f.field === 'events.firstEjectionS')!;
    assert.ok(ej.p < 0.01, `p=${ej.p}`);
    assert.equal(ej.changed, false);
    assert.match(ej.note, /CIs overlap/);
  });

  it('with --fail-on thresholds only the expect: block decides', () => {
    const r = compareSets(readRunSet(set('a', SAME_A)), readRunSet(set('b', LATER)), { failOn: 'thresholds' });
    assert.equal(r.exitCode, 0);
    const strict = readRunSet(set('c', LATER, { redirectedFraction: ['>= 0.15'], 'events.firstEjectionS': ['< 20'] }));
    const r2 = compareSets(readRunSet(set('d', SAME_A)), strict, { failOn: 'thresholds' });
    assert.deepEqual(
      r2.expectations.map((e) => [e.field, e.ok, e.runsOk]),
      [
        ['redirectedFraction', false, 0],
        ['events.firstEjectionS', true, 5],
      ],
    );
    assert.equal(r2.exitCode, 1);
  });

  it('warns when there are too few runs for any difference to be significant', () => {
    assert.equal(minimumP(5, 5), 2 / 252);
    assert.equal(minimumP(3, 3), 0.1);
    const r = compareSets(readRunSet(set('a', SAME_A.slice(0, 3))), readRunSet(set('b', LATER.slice(0, 3))));
    assert.equal(
      r.figures.some((f) => f.changed),
      false,
    );
    assert.match(r.warnings.join('\n'), /smallest possible p is 0\.100/);
  });

  it('the typical summary is the median per field, null when most runs had no event', () => {
    const s = readRunSet(set('a', [{ firstEjectionS: 1 }, { firstEjectionS: 3 }, { firstEjectionS: null }, { firstEjectionS: 2 }]));
    assert.deepEqual(typicalSummary(s, ['events.firstEjectionS', 'servedBy.B', 'nope']), {
      events: { firstEjectionS: 2 },
      servedBy: { B: 2000 },
    });
    const mostlyNever = readRunSet(set('b', [{ firstEjectionS: 1 }, { firstEjectionS: null }, { firstEjectionS: null }]));
    assert.deepEqual(typicalSummary(mostlyNever, ['events.firstEjectionS']), { events: { firstEjectionS: null } });
  });

  it('writes markdown and JUnit with one failing case per changed gated figure', () => {
    const md = path.join(root, 'out', 'cmp.md');
    const xml = path.join(root, 'out', 'cmp.xml');
    let printed = '';
    const { exitCode, result } = runCompare(set('a', SAME_A), set('b', LATER), { markdown: md, junit: xml, out: (t) => (printed += t) });
    assert.equal(exitCode, 1);
    assert.equal(fs.readFileSync(md, 'utf8'), printed);
    assert.match(printed, /\| first ejection of A .*\| +\+39\.6 % \|/);
    assert.match(printed, /\| success ratio .*\| +~ \|/);
    assert.match(printed, /Result: regression/);
    const junit = fs.readFileSync(xml, 'utf8');
    const failures = (junit.match(/<failure /g) ?? []).length;
    assert.equal(failures, result!.figures.filter((f) => f.changed && f.gate).length + result!.expectations.filter((e) => !e.ok).length);
    assert.match(junit, /<testcase classname="peak-load.figures" name="events.firstEjectionS">/);
  });

  it('baselines are written only when asked, are byte-stable, and compare like runs', () => {
    const bdir = path.join(root, 'baselines');
    const runs = set('a', SAME_A);
    assert.throws(() => runCompare(runs, undefined, { baselinesDir: bdir, out: () => {} }), /missing the runs/);
    assert.equal(fs.existsSync(bdir), false);
    runCompare(runs, undefined, { updateBaseline: true, baselinesDir: bdir, out: () => {} });
    const file = path.join(bdir, 'peak-load', 'baseline.json');
    const first = fs.readFileSync(file);
    runCompare(runs, undefined, { updateBaseline: true, baselinesDir: bdir, out: () => {} });
    assert.ok(first.equals(fs.readFileSync(file)), 'rewriting the same baseline changes nothing');
    const baseline = readRunSet(path.join(bdir, 'peak-load'));
    assert.equal(baseline.kind, 'baseline');
    assert.equal(baseline.runs.length, 5);
    assert.deepEqual(baseline.expect, { 'events.firstEjectionS': ['!= null'], redirectedFraction: ['>= 0.1'] });
    assert.equal(runCompare(path.join(bdir, 'peak-load'), set('b', SAME_B), { baselinesDir: bdir, out: () => {} }).exitCode, 0);
    assert.equal(runCompare(file, set('c', LATER), { baselinesDir: bdir, out: () => {} }).exitCode, 1);
    // A regression does not touch the baseline; --update-baseline accepts it.
    assert.ok(first.equals(fs.readFileSync(file)));
    assert.equal(runCompare(file, path.join(root, 'c'), { updateBaseline: true, baselinesDir: bdir, out: () => {} }).exitCode, 0);
    assert.ok(!first.equals(fs.readFileSync(file)));
  });

  it('bad input is an error naming the file and the fix', () => {
    assert.throws(() => readRunSet(path.join(root, 'nope')), /no such run directory.*\n[\s\S]*fix:/);
    fs.mkdirSync(path.join(root, 'empty'));
    assert.throws(() => readRunSet(path.join(root, 'empty')), /no summary\.json here/);
    const bad = path.join(root, 'bad.json');
    fs.writeFileSync(bad, '{"schema":"other"}');
    assert.throws(
      () => readRunSet(bad),
      (e: Error) => /not a Spillover baseline/.test(e.message) && /schema/.test(e.message),
    );
    writeRuns(path.join(root, 'mixed'), 'peak-load', [{ firstEjectionS: 1 }]);
    writeRuns(path.join(root, 'mixed'), 'other', [{ firstEjectionS: 1 }], { prefix: 'x' });
    assert.throws(() => readRunSet(path.join(root, 'mixed')), /different experiments/);
  });

  it('the CLI exits 0 for no change, 1 for a regression and 2 for bad input', async () => {
    const a = set('a', SAME_A);
    const b = set('b', SAME_B);
    const c = set('c', LATER);
    const write = process.stdout.write;
    const errWrite = process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const codes = [];
      for (const args of [
        [a, b],
        [a, c],
        [a, path.join(root, 'missing')],
        [a, b, '--fail-on', 'sometimes'],
      ]) {
        process.exitCode = undefined;
        codes.push(await main(['node', 'spillover', 'compare', ...args]));
      }
      assert.deepEqual(codes, [0, 1, 2, 2]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = errWrite;
      process.exitCode = undefined;
    }
  });
});

describe('compare: settings of the two sides', () => {
  it('says when the sides ran with different overrides or time scales', () => {
    const root = tmpDir();
    try {
      const a = writeRuns(path.join(root, 'a'), 'peak-load', SAME_A);
      const b = writeRuns(path.join(root, 'b'), 'peak-load', SAME_B);
      assert.deepEqual(compareSets(readRunSet(path.join(root, 'a')), readRunSet(path.join(root, 'b'))).warnings, []);
      for (const d of b) {
        const m = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
        m.overrides = ['services.A.capacity.concurrency=2'];
        fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
      }
      assert.equal(a.length, 5);
      const w = compareSets(readRunSet(path.join(root, 'a')), readRunSet(path.join(root, 'b'))).warnings;
      assert.deepEqual(w, [
        'the two sides ran with different settings: baseline time scale 1; candidate time scale 1 --set services.A.capacity.concurrency=2',
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
