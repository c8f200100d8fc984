/**
 * VirtualService mirror and Sidecar egress scoping end to end on the local backend (time-scaled),
 * with real Envoys: the mirror target really receives the shadow copies (counted by the app apart
 * from the answers the client got), and a Sidecar whose egress leaves out the called host changes
 * what the client gets -- passthrough (ALLOW_ANY: answers, but without the DestinationRule) or
 * 502 from block_all (REGISTRY_ONLY).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { MeshSummary } from '../../src/analysis/mesh-summary.ts';

type Summary = { mesh: MeshSummary; outcomes: Record<string, number>; requests: { total: number; ok: number } };
const ROOT = path.join(import.meta.dirname, '../..');

describe('VirtualService mirror and Sidecar egress on the local backend (time-scaled)', function () {
  this.timeout(180_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-route-egress-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("mirroring task: every answer comes from v1, and v2's app receives the shadow copies", async () => {
    const res = await runExperiment({
      experimentFile: 'experiments/istio-tasks/mirroring.yaml',
      timeScale: 0.3,
      outDir: out,
      quiet: true,
      set: [],
    });
    assert.equal(res.exitCode, 0, 'the expect: block holds');
    const s = res.summary as Summary;
    assert.deepEqual(Object.keys(s.mesh.byVersion), ['v1'], 'the client only sees v1');
    const shadow = s.mesh.mirrored?.byInstance['httpbin-v2-0'] ?? 0;
    // 100 % mirrored: every request the client sent was copied to v2 (the last scrape may miss the last few).
    assert.ok(shadow > 0.8 * s.requests.total && shadow <= s.requests.total, `v2 got ${shadow} shadow copies of ${s.requests.total}`);
    assert.equal(s.mesh.mirrored?.byInstance['httpbin-v1-0'] ?? 0, 0, 'v1 gets no shadow copy');
  });

  /** The egress fixture with the given outboundTrafficPolicy, as a run-able experiment. */
  const egressExperiment = (mode: 'ALLOW_ANY' | 'REGISTRY_ONLY') => {
    const doc = parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/topology/sidecar-egress.yaml'), 'utf8'));
    doc.resources[1].spec.outboundTrafficPolicy = { mode };
    doc.metadata.name = `sidecar-egress-${mode.toLowerCase().replace('_', '-')}`;
    doc.load = { scenario: path.join(ROOT, 'scenarios/istio-tasks/mirroring.js') };
    const file = path.join(out, `${doc.metadata.name}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
  };

  it('Sidecar egress without the called host: ALLOW_ANY passes through to its pod, REGISTRY_ONLY gets 502 from block_all', async () => {
    const allow = await runExperiment({ experimentFile: egressExperiment('ALLOW_ANY'), timeScale: 0.2, outDir: out, quiet: true, set: [] });
    const a = allow.summary as Summary;
    assert.ok(a.requests.total > 0);
    assert.equal(a.mesh.status['200'], a.requests.total, 'passthrough reaches httpbin');
    assert.equal(a.mesh.byService.httpbin, a.requests.total);
    const manifest = JSON.parse(fs.readFileSync(path.join(allow.runDir, 'manifest.json'), 'utf8'));
    assert.ok(
      manifest.warnings.some((w: string) => /does not import httpbin\.default\.svc\.cluster\.local.*PassthroughCluster/.test(w)),
      'the run says what egress scoping did',
    );

    const block = await runExperiment({
      experimentFile: egressExperiment('REGISTRY_ONLY'),
      timeScale: 0.2,
      outDir: out,
      quiet: true,
      set: [],
    });
    const b = block.summary as Summary;
    assert.ok(b.requests.total > 0);
    assert.equal(b.mesh.status['502'], b.requests.total, 'block_all answers 502 to every request');
    assert.equal(b.requests.ok, 0);
  });
});
