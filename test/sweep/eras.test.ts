/**
 * `spillover eras`: the era model against istio-version.ts, and real time-scaled runs of peak-load
 * and study-slide under two eras (1.6 and 1.29) whose tables must say, per era, why the study's
 * redirect does or does not happen -- consistent with what the runs measured.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eraOf, istioEras } from '../../src/sweep/eras-model.ts';
import { runEras } from '../../src/sweep/eras.ts';
import { consecutiveErrorsMode, parseIstioVersion } from '../../src/mesh/istio-version.ts';

describe('eras: the Istio semantics eras', () => {
  it('cover 1.0 to the current release without gaps, each starting where a modelled decision changes', () => {
    const eras = istioEras();
    assert.equal(eras[0].from, '1.0');
    assert.equal(eras.at(-1)!.to, '1.29');
    for (let i = 1; i < eras.length; i++) assert.equal(parseIstioVersion(eras[i].from).minor, parseIstioVersion(eras[i - 1].to).minor + 1);
    // consecutiveErrors: 5xx in 1.0, gateway failures 1.1-1.6, ignored from 1.7 -- each a boundary.
    for (const v of ['1.1', '1.7']) assert.equal(eraOf(v).from, v);
    assert.notEqual(consecutiveErrorsMode(parseIstioVersion('1.6')), consecutiveErrorsMode(parseIstioVersion('1.7')));
    assert.match(eraOf('1.7').changes.join(' '), /consecutiveErrors ignored/);
    assert.match(eraOf('1.24').changes.join(' '), /503 no longer retried/);
  });
});

describe('eras: real runs, time-scaled', function () {
  this.timeout(600000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-eras-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  for (const name of ['study-slide', 'peak-load']) {
    it(`${name}: the table says per era why the redirect does or does not happen`, async () => {
      const res = await runEras({
        experimentFile: `experiments/${name}.yaml`,
        eras: ['1.6', '1.29'],
        timeScale: 0.04,
        outDir: out,
        id: name,
        quiet: true,
        log: () => undefined,
      });
      const md = fs.readFileSync(path.join(res.dir, 'eras.md'), 'utf8');
      assert.match(md, new RegExp(`^# ${name} across Istio eras`));
      const lines = md.split('\n').filter((l) => /^\| (1\.6|1\.26–1\.29) \|/.test(l));
      assert.equal(lines.length, 2, md);
      for (const row of res.rows) {
        const line = lines.find((l) => l.includes(`| ${row.istio} |`))!;
        assert.equal(row.summaries.length, 1, `Istio ${row.istio}: the run did not complete`);
        const redirected = row.summaries.filter((s) => s.events.redirectOnsetS !== null).length * 2 > row.summaries.length;
        assert.match(line, redirected ? /\| redirect happens/ : /\| no redirect/, line);
        if (name === 'study-slide') {
          // The slide's consecutiveErrors: 1 is what the eras disagree on.
          assert.match(
            line,
            row.istio === '1.6'
              ? /consecutiveErrors maps to consecutive_gateway_failure in 1\.6|client's own circuit breaker refuses first/
              : /consecutiveErrors is ignored in 1\.29|client's own circuit breaker refuses first/,
            line,
          );
        }
      }
      const fig = JSON.parse(fs.readFileSync(path.join(res.dir, 'figures/eras.vl.json'), 'utf8'));
      assert.deepEqual([...new Set(fig.data.values.map((v: { istio: string }) => v.istio))], ['1.6', '1.29']);
    });
  }
});
