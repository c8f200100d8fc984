/**
 * Istio's documentation tasks as experiments (experiments/istio-tasks/), time-scaled, end to end on
 * the local backend: each must meet its own `expect:` block (exit code 0), and the summary must
 * show the task's outcome in the terms the task uses.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { MeshSummary } from '../../src/analysis/mesh-summary.ts';

type Summary = { mesh: MeshSummary; outcomes: Record<string, number>; requests: { total: number } };

describe('Istio documentation tasks on the local backend (time-scaled)', function () {
  this.timeout(180_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-istio-tasks-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));
  const run = (name: string, timeScale: number, set: string[] = []) =>
    runExperiment({ experimentFile: `experiments/istio-tasks/${name}.yaml`, timeScale, outDir: out, quiet: true, set });

  it('multicluster verify: v1 (cluster1) and v2 (cluster2, through its east-west gateway) each answer about half', async () => {
    const res = await run('multicluster-verify', 0.3);
    assert.equal(res.exitCode, 0, 'the expect: block holds');
    const s = res.summary as Summary;
    assert.ok(s.mesh.byVersion.v1 > 0 && s.mesh.byVersion.v2 > 0);
    assert.equal(s.mesh.byVersion.v1 + s.mesh.byVersion.v2, s.requests.total);
  });

  it("circuit breaking: fortio's -c 2 -n 20 then -c 3 -n 30, 200 and 503 both appear, every 503 the caller's overflow", async () => {
    const res = await run('circuit-breaking', 0.3);
    assert.equal(res.exitCode, 0, 'the expect: block holds');
    const s = res.summary as Summary;
    assert.equal(s.requests.total, 50);
    assert.equal(s.mesh.status['503'], s.outcomes.overflow503);
    assert.equal(s.mesh.clientPendingOverflow, s.outcomes.overflow503);
    assert.equal((s.mesh.status['200'] ?? 0) + s.outcomes.overflow503, 50, 'nothing but 200 and overflow 503');
    // Each phase sends exactly its count, and the second starts only after the first has ended.
    const recs = fs
      .readFileSync(path.join(res.runDir, 'raw/requests.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { scenario: string; sent: number; end: number });
    const phase = (name: string) => recs.filter((r) => r.scenario === name);
    assert.equal(phase('c2').length, 20);
    assert.equal(phase('c3').length, 30);
    assert.ok(Math.max(...phase('c2').map((r) => r.end)) < Math.min(...phase('c3').map((r) => r.sent)));
  });

  it('locality failover: region1/zone1 -> region1/zone2 -> region2/zone3 -> region3/zone4, 10+ in a row from each', async () => {
    const res = await run('locality-failover', 0.3);
    assert.equal(res.exitCode, 0, 'the expect: block holds');
    const s = res.summary as Summary;
    assert.deepEqual(
      s.mesh.failovers.map((f) => `${f.from}>${f.to}`),
      ['region1/zone1>region1/zone2', 'region1/zone2>region2/zone3', 'region2/zone3>region3/zone4'],
    );
    for (const r of s.mesh.localityRuns) assert.ok(r.responses >= 10, `${r.locality} answered ${r.responses} in a row`);
  });

  it("locality failover with the task's default maxEjectionPercent (10 %): Envoy refuses the ejection, nothing fails over", async () => {
    const res = await run('locality-failover', 0.3, [
      'resources.DestinationRule/helloworld.spec.trafficPolicy.outlierDetection.maxEjectionPercent=10',
    ]);
    assert.equal(res.exitCode, 99, 'the expect: block fails as Envoy 1.40 behaves');
    const s = res.summary as Summary;
    assert.deepEqual(s.mesh.failovers, []);
    assert.ok((s.mesh.status['503'] ?? 0) > 0, 'the drained locality keeps its traffic and fails it');
    const last = fs.readFileSync(path.join(res.runDir, 'raw/scrapes/client.ndjson'), 'utf8').trim().split('\n').pop()!;
    const overflow = (JSON.parse(last).samples as Array<[string, Record<string, string>, number]>).find(
      ([n]) => n === 'envoy_cluster_outlier_detection_ejections_overflow',
    );
    assert.ok(overflow && overflow[2] > 0, 'outlier_detection.ejections_overflow counts the refused ejections');
  });
});
