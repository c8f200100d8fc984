/**
 * Every figure spec, on every recorded run and on synthetic runs from seconds to an hour long:
 * valid against vega-lite's own JSON schema (ajv), legends listing only what occurs, captions naming
 * only what is drawn, and event labels inside the plot width without touching each other.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { analyzeRun } from '../../src/analysis/read-run.ts';
import type { Analysis } from '../../src/analysis/analyze.ts';
import { buildFigures } from '../../src/report/figures.ts';
import { placeLabels } from '../../src/report/event-strip.ts';
import { writeSyntheticRun } from '../fixtures/runs/synthetic-run.ts';

const require = createRequire(import.meta.url);
const RUNS = fileURLToPath(new URL('../fixtures/runs/', import.meta.url));
const schemaFile = path.join(path.dirname(require.resolve('vega-lite')), '..', 'vega-lite-schema.json');

describe('report figures: schema, legends, captions, labels', function () {
  this.timeout(60000);
  const analyses: Array<[string, Analysis]> = [];
  let validate: ValidateFunction;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-figs-'));
  before(async () => {
    const file = fs.existsSync(schemaFile) ? schemaFile : path.join('node_modules/vega-lite/build/vega-lite-schema.json');
    validate = new Ajv({ allErrors: false, strict: false, validateFormats: false, logger: false }).compile(
      JSON.parse(fs.readFileSync(file, 'utf8')),
    );
    for (const name of ['peak-load-r01', 'blocked-ejections', 'balanced-5050', 'closed-loop', 'interrupted', 'killed'])
      analyses.push([name, (await analyzeRun(RUNS + name)).analysis]);
    for (const [dur, at] of [
      [8, 3],
      [120, 41],
      [3600, 1800],
    ] as const) {
      const dir = path.join(tmp, `syn-${dur}`);
      writeSyntheticRun(dir, { rps: dur > 600 ? 2 : 20, durationS: dur, ejectAtS: at, ejectForS: Math.min(60, dur / 4) });
      analyses.push([`synthetic ${dur} s`, (await analyzeRun(dir)).analysis]);
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('every spec passes the vega-lite JSON schema', () => {
    for (const [name, a] of analyses) {
      for (const f of buildFigures(a)) assert.ok(validate(f.spec), `${name} ${f.name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    }
  });

  it('the eras figure passes the schema too', async () => {
    const { erasFigure } = await import('../../src/sweep/eras-table.ts');
    const { eraOf } = await import('../../src/sweep/eras-model.ts');
    const summaries = analyses.slice(0, 2).map(([, a]) => a.summary);
    const spec = erasFigure('x', [
      { istio: '1.6', era: eraOf('1.6'), summaries, findings: [], envoyUsed: '1.40.0' },
      { istio: '1.29', era: eraOf('1.29'), summaries: [], findings: [], envoyUsed: '1.40.0' },
    ]);
    assert.ok(validate(spec), JSON.stringify(validate.errors?.slice(0, 3)));
  });

  it('legends list only series that occur; captions name only what is drawn', () => {
    for (const [name, a] of analyses) {
      const figs = Object.fromEntries(buildFigures(a).map((f) => [f.name, f]));
      const json = JSON.stringify(figs.outcomes.spec);
      const failed = a.timeseries.some((r) => r.overflow_503 + r.upstream_5xx + r.transport_errors + r.status_4xx > 0);
      assert.equal(
        json.includes('"503 overflow (UO)"'),
        a.timeseries.some((r) => r.overflow_503 > 0),
        `${name}: UO legend`,
      );
      assert.equal(
        json.includes('"transport error"'),
        a.timeseries.some((r) => r.transport_errors > 0),
        `${name}: transport legend`,
      );
      assert.equal(/retried/.test(figs.outcomes.caption), json.includes('retried by Envoy'), `${name}: caption vs retried line`);
      assert.equal(/Triangles mark/.test(figs.outcomes.caption), failed, `${name}: failure markers`);
      const red = JSON.stringify(figs.redirect.spec);
      assert.equal(red.includes('"B (remote, via gateway)"'), a.summary.servedBy.B > 0, `${name}: B legend`);
      assert.equal(red.includes('"Offered load"'), a.summary.loadModel !== 'closed', `${name}: offered line`);
      if (figs.ejections) assert.equal(JSON.stringify(figs.ejections.spec).includes('"ejected"') || a.summary.ejections === 0, true);
    }
  });

  it('failures are visible however few: one marker per failing bucket', () => {
    const [, a] = analyses.find(([n]) => n === 'peak-load-r01')!;
    assert.equal(a.summary.requests.failed, 1);
    const spec = JSON.stringify(buildFigures(a).find((f) => f.name === 'outcomes')!.spec);
    assert.equal((spec.match(/"top":/g) ?? []).length, 1);
  });

  it('event labels stay inside the plot and never overlap, at any run length', () => {
    for (const [name, a] of analyses) {
      const domain: [number, number] = [Math.min(0, a.timeseries[0].t_s), a.timeseries.at(-1)!.t_s + a.bucketS];
      for (const width of [320, 640]) {
        const labels = placeLabels(a, domain, width);
        for (const l of labels) assert.ok(l.x0 >= 0 && l.x1 <= width, `${name}: ${l.label} at [${l.x0}, ${l.x1}] of ${width}`);
        for (const x of labels)
          for (const y of labels) if (x !== y && x.row === y.row) assert.ok(x.x1 < y.x0 || y.x1 < x.x0, `${name}: ${x.label} / ${y.label}`);
      }
    }
  });
});
