import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { analyze, type RawRun } from '../../src/analysis/analyze.ts';
import { AccessColumnsBuilder } from '../../src/analysis/access-log.ts';
import { analyzeRun } from '../../src/analysis/read-run.ts';
import { requestColumns } from '../../src/analysis/request-columns.ts';
import type { ScrapeRecord } from '../../src/contracts/raw.ts';
import { A_ADDR, GW_ADDR, manifestFor, writeSyntheticRun } from '../fixtures/runs/synthetic-run.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-events-'));

function emptyRaw(): RawRun {
  return {
    manifest: manifestFor({ rps: 1, durationS: 1, ejectAtS: 1, ejectForS: 1 }, 0),
    requests: requestColumns([]),
    loadTicks: [],
    access: {},
    outlier: {},
    scrapes: {},
    clusters: {},
    runEvents: [],
  };
}

describe('analysis/events on synthetic timelines', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('finds the ejection, the redirect onset and end where the timeline put them, with the load at that moment', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rps: fc.integer({ min: 20, max: 200 }),
          durationS: fc.integer({ min: 20, max: 40 }),
          ejectFrac: fc.double({ min: 0.2, max: 0.5, noNaN: true }),
          forFrac: fc.double({ min: 0.1, max: 0.4, noNaN: true }),
          seed: fc.nat(),
        }),
        async (p) => {
          const ejectAtS = Math.round(p.durationS * p.ejectFrac * 1000) / 1000;
          const ejectForS = Math.round(p.durationS * p.forFrac * 1000) / 1000;
          const dir = tmp();
          dirs.push(dir);
          writeSyntheticRun(dir, { rps: p.rps, durationS: p.durationS, ejectAtS, ejectForS, seed: p.seed });
          const { analysis } = await analyzeRun(dir);
          const s = analysis.summary;
          const step = 1 / p.rps + 0.0006;
          assert.equal(s.events.firstEjectionS, ejectAtS);
          assert.equal(s.firstEjection?.service, 'A');
          assert.equal(s.firstEjection?.host, A_ADDR);
          assert.match(s.firstEjection?.cause ?? '', /consecutive5xxErrors=1/);
          assert.ok(
            s.events.redirectOnsetS! >= ejectAtS - 1e-6 && s.events.redirectOnsetS! <= ejectAtS + step,
            `onset ${s.events.redirectOnsetS} vs ${ejectAtS}`,
          );
          const back = ejectAtS + ejectForS;
          assert.ok(
            s.events.redirectEndS! >= back - 1e-6 && s.events.redirectEndS! <= back + step,
            `end ${s.events.redirectEndS} vs ${back}`,
          );
          assert.equal(s.loadAtFirstEjectionRps, p.rps);
          assert.equal(s.servedBy.A + s.servedBy.B, s.requests.total);
          assert.ok(Math.abs(s.redirectedFraction! - ejectForS / p.durationS) < 2 / (p.rps * p.durationS) + 0.001);
          const ej = analysis.events.filter((e) => e.kind === 'eject');
          assert.equal(ej.length, 1);
          assert.match(ej[0].detail, /gauge at/);
          assert.equal(analysis.events.filter((e) => e.kind === 'uneject').length, 1);
          assert.equal(analysis.events.filter((e) => e.kind === 'detected-not-enforced').length, 1);
          assert.equal(analysis.events.filter((e) => e.kind === 'capture-gap').length, 2);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('an imported k6 run (no Envoy side) still gets the redirect, and no Envoy events', async () => {
    const dir = tmp();
    dirs.push(dir);
    writeSyntheticRun(dir, { rps: 50, durationS: 20, ejectAtS: 8, ejectForS: 5, envoy: false });
    const { analysis } = await analyzeRun(dir);
    assert.equal(analysis.summary.envoyTelemetry, false);
    assert.equal(analysis.summary.events.firstEjectionS, null);
    assert.ok(Math.abs(analysis.summary.events.redirectOnsetS! - 8) < 0.03);
    assert.ok(analysis.timeseries.every((r) => r.flag_uo === null));
  });

  it('falls back to /clusters health flags when the outlier log is missing', async () => {
    const dir = tmp();
    dirs.push(dir);
    writeSyntheticRun(dir, { rps: 50, durationS: 20, ejectAtS: 8.1, ejectForS: 5 });
    fs.rmSync(path.join(dir, 'raw/envoy/client/outlier.ndjson'));
    const { analysis } = await analyzeRun(dir);
    const ej = analysis.events.find((e) => e.kind === 'eject');
    assert.equal(ej?.source, 'clusters');
    assert.equal(ej?.t, 8.25);
    assert.equal(analysis.events.find((e) => e.kind === 'uneject')?.t, 13.25);
  });

  it('detects overflow from scrape counters under a truncated cluster label, and UH from the access log', () => {
    const raw = emptyRaw();
    const lbl = { envoy_cluster_name: 'outbound|80||a' };
    const sc = (t: number, v: number): ScrapeRecord => ({
      t,
      target: 'client',
      ok: true,
      ms: 1,
      samples: [['envoy_cluster_istio_svc_cluster_local_upstream_rq_pending_overflow', lbl, v]],
    });
    raw.scrapes.client = [sc(3, 0), { t: 3.25, target: 'client', ok: false, ms: 0, error: 'timeout' }, sc(3.5, 0), sc(3.75, 2), sc(4, 5)];
    const b = new AccessColumnsBuilder(0, (u) => (u === A_ADDR ? 1 : u === GW_ADDR ? 2 : 0));
    b.addLine('{"start":"5.500","code":200,"flags":"-","upstream":"127.0.1.10:8080","attempts":1}');
    b.addLine('{"start":"6.125","code":503,"flags":"UH","upstream":"-","attempts":"-"}');
    b.addLine('{"start":"garbage"}');
    b.addLine('{"half":');
    raw.access.client = b.build();
    const a = analyze(raw);
    const of = a.events.find((e) => e.kind === 'overflow');
    assert.equal(of?.t, 3.75);
    assert.equal(of?.source, 'scrape');
    assert.match(of?.cause ?? '', /http2MaxRequests=1/);
    assert.equal(a.summary.events.noHealthyUpstreamS, 6.125);
    assert.equal(a.events.filter((e) => e.kind === 'capture-gap').length, 1);
  });
});

describe('analysis/read-run', () => {
  it('tolerates a half-written last line (interrupted run) but not a broken line in the middle', async () => {
    const dir = tmp();
    try {
      writeSyntheticRun(dir, { rps: 20, durationS: 5, ejectAtS: 2, ejectForS: 1, envoy: false });
      const f = path.join(dir, 'raw/requests.ndjson');
      fs.appendFileSync(f, '{"id":99,"scen');
      const { analysis } = await analyzeRun(dir);
      assert.equal(analysis.summary.requests.total, 100);
      fs.appendFileSync(f, '\n{"id":100,"scenario":"peak","iter":100,"intended":4,"sent":4,"end":4.1,"status":200,"rid":"x"}\n');
      await assert.rejects(analyzeRun(dir), (e: Error) => e.name === 'SpilloverError' && /requests\.ndjson:101/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the missing manifest', async () => {
    await assert.rejects(analyzeRun('/nonexistent-run'), /manifest\.json: no manifest\.json/);
  });
});
