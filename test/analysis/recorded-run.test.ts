/**
 * The analysis against a recorded real run (test/fixtures/runs/peak-load-r01). Expected values are
 * read from the raw files themselves (the outlier log, the access logs), not copied from an output.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeRun } from '../../src/analysis/read-run.ts';

const RUN = fileURLToPath(new URL('../fixtures/runs/peak-load-r01/', import.meta.url));
const lines = (rel: string) =>
  fs
    .readFileSync(RUN + rel, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('analysis on a recorded peak-load run', () => {
  it('ejection, redirect and release line up with what Envoy logged', async () => {
    const { t0Epoch } = JSON.parse(fs.readFileSync(RUN + 'manifest.json', 'utf8')) as { t0Epoch: number };
    const log = lines('raw/envoy/client/outlier.ndjson');
    const eject = log.find((e) => e.action === 'EJECT' && e.enforced === true)!;
    const uneject = log.find((e) => e.action === 'UNEJECT')!;
    const tEject = (Date.parse(String(eject.timestamp)) - t0Epoch) / 1000;
    const tBack = (Date.parse(String(uneject.timestamp)) - t0Epoch) / 1000;

    const { analysis } = await analyzeRun(RUN);
    const s = analysis.summary;
    assert.equal(s.events.firstEjectionS, Math.round(tEject * 1000) / 1000);
    assert.equal(s.firstEjection?.host, eject.upstream_url);
    assert.equal(s.firstEjection?.service, 'A');
    assert.match(s.firstEjection?.cause ?? '', /consecutive5xxErrors=1/);
    // Traffic moves at the ejection and comes back at the release, each within a few requests.
    assert.ok(
      s.events.redirectOnsetS! >= tEject - 0.001 && s.events.redirectOnsetS! < tEject + 0.05,
      `onset ${s.events.redirectOnsetS} vs eject ${tEject}`,
    );
    assert.ok(
      s.events.redirectEndS! >= tBack - 0.001 && s.events.redirectEndS! < tBack + 0.2,
      `end ${s.events.redirectEndS} vs uneject ${tBack}`,
    );
    assert.ok(analysis.redirects[0].shareB! >= 0.95);

    // The 5xx that caused it is in the client's access log, just before the ejection.
    const first5xx =
      lines('raw/envoy/client/access.ndjson')
        .filter((l) => Number(l.code) >= 500)
        .map((l) => Number(l.start) * 1000 - t0Epoch)
        .sort((x, y) => x - y)[0] / 1000;
    const ev = analysis.events.find((e) => e.kind === 'upstream-5xx' && e.envoy === 'client')!;
    assert.ok(Math.abs(ev.t - first5xx) < 0.001 && ev.t <= tEject);

    // Overflow is reported exactly when some Envoy logged a UO.
    const uo = ['client', 'a-sidecar', 'b-sidecar']
      .flatMap((e) => lines(`raw/envoy/${e}/access.ndjson`))
      .filter((l) => String(l.flags).split(',').includes('UO'));
    assert.equal(s.events.firstOverflowS === null, uo.length === 0);

    const requests = lines('raw/requests.ndjson');
    assert.equal(s.requests.total, requests.length);
    assert.equal(s.servedBy.A, requests.filter((r) => r.service === 'A').length);
    assert.equal(s.servedBy.B, requests.filter((r) => r.service === 'B').length);
  });
});
