import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { aggregateRuns, writeAggregate, formatAggregate } from '../../src/compare/aggregate.ts';
import { bandPoints, bandsFigure, eventTimesFigure } from '../../src/compare/figures.ts';
import { tmpDir, writeRuns } from './fixtures.ts';

describe('compare: figures across repeats', () => {
  it('band points are the mean and t interval of the runs at each time, skipping gaps', () => {
    const pts = bandPoints('B', [
      {
        run: 'r1',
        points: [
          { t: 0, value: 10 },
          { t: 1, value: 20 },
        ],
      },
      {
        run: 'r2',
        points: [
          { t: 0, value: 12 },
          { t: 1, value: null },
          { t: 2, value: 5 },
        ],
      },
    ]);
    assert.deepEqual(
      pts.map((p) => [p.t, p.mean, p.runs]),
      [
        [0, 11, 2],
        [1, 20, 1],
        [2, 5, 1],
      ],
    );
    // t(0.975, 1) = 12.706: half-width 12.706 · sd/√2 with sd = √2.
    assert.ok(Math.abs(pts[0].hi - 11 - 12.706) < 0.01, `hi=${pts[0].hi}`);
    assert.deepEqual([pts[1].lo, pts[1].hi], [20, 20]);
  });

  it('the bands figure is a band under a mean line per series, and compiles', async () => {
    const spec = bandsFigure([{ series: 'served by B', runs: [{ run: 'r1', points: [{ t: 0, value: 1 }] }] }], {
      title: 'x',
      yTitle: 'requests/s',
    }) as unknown as {
      layer: Array<{ mark: { type: string } }>;
      data: { values: unknown[] };
    };
    assert.deepEqual(
      spec.layer.map((l) => l.mark.type),
      ['area', 'line'],
    );
    assert.equal(spec.data.values.length, 1);
    const { renderSvg } = await import('../../src/report/render.ts');
    assert.match(await renderSvg(spec as never), /^<svg/);
  });

  it('writeAggregate writes the table, the JSON and byte-stable figures for a repeat set', async () => {
    const root = tmpDir();
    try {
      const dirs = writeRuns(root, 'peak-load', [{ firstEjectionS: 10 }, { firstEjectionS: 10.4 }, { firstEjectionS: 9.8 }]);
      dirs.forEach((d, i) =>
        fs.writeFileSync(
          path.join(d, 'timeseries.csv'),
          `t_s,target_rps,served_a_rps,served_b_rps\n0,100,100,0\n1,200,${150 + i},${50 - i}\n`,
        ),
      );
      const agg = aggregateRuns(dirs);
      const md = await writeAggregate(root, agg);
      assert.equal(fs.readFileSync(md, 'utf8'), `${formatAggregate(agg)}\n`);
      assert.match(fs.readFileSync(md, 'utf8'), /Coefficient of variation of the first ejection: 3\.0 % \(target ≤ 5\.0 %: met\)/);
      assert.match(fs.readFileSync(md, 'utf8'), /Spillover's own repeatability goal for this instrument \(not an Istio or Envoy figure\)/);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'aggregate.json'), 'utf8')), JSON.parse(JSON.stringify(agg)));
      const figs = fs.readdirSync(path.join(root, 'figures')).sort();
      assert.deepEqual(figs, ['event-times.svg', 'event-times.vl.json', 'served-bands.svg', 'served-bands.vl.json']);
      const bands = JSON.parse(fs.readFileSync(path.join(root, 'figures', 'served-bands.vl.json'), 'utf8'));
      assert.deepEqual(bands.data.values.find((v: { series: string; t: number }) => v.series === 'A (local)' && v.t === 1).mean, 151);
      const before = fs.readFileSync(path.join(root, 'figures', 'served-bands.svg'));
      await writeAggregate(root, aggregateRuns(dirs));
      assert.ok(before.equals(fs.readFileSync(path.join(root, 'figures', 'served-bands.svg'))));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('event times show one dot per run that had the event', () => {
    const root = tmpDir();
    try {
      const agg = aggregateRuns(writeRuns(root, 'peak-load', [{ firstEjectionS: 10 }, { firstEjectionS: null }]));
      const spec = eventTimesFigure(agg) as unknown as { layer: Array<{ data: { values: Array<{ event: string; run?: string }> } }> };
      const dots = spec.layer[2].data.values.filter((v) => v.event === 'first ejection of A');
      assert.deepEqual(
        dots.map((d) => d.run),
        ['run-01'],
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
