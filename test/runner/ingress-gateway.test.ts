/**
 * The ingress gateway end to end on the local backend (time-scaled): Istio's "Ingress Gateways" task
 * (experiments/istio-tasks/ingress.yaml) meets its `expect:` block, the routed prefixes reach httpbin
 * through the gateway and the unrouted path is the gateway's own 404; and the gateway is a hop with
 * its own circuit breaker, whose overflow is named after the gateway's Envoy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { MeshSummary } from '../../src/analysis/mesh-summary.ts';

type Summary = { mesh: MeshSummary; outcomes: Record<string, number>; requests: { total: number } };

const lines = (f: string) =>
  fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('ingress gateway on the local backend (time-scaled)', function () {
  this.timeout(180_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-ingress-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("Istio's ingress task: Host httpbin.example.com /status and /delay answer 200 from httpbin, /headers 404 from the gateway", async () => {
    const res = await runExperiment({ experimentFile: 'experiments/istio-tasks/ingress.yaml', timeScale: 0.3, outDir: out, quiet: true });
    assert.equal(res.exitCode, 0, 'the expect: block holds');
    const s = res.summary as Summary;
    // Every iteration sends /status/200, /delay/1 and /headers: two of three are routed.
    assert.equal(s.mesh.status['200'] + s.mesh.status['404'], s.requests.total);
    assert.equal(s.mesh.status['200'], 2 * s.mesh.status['404']);
    assert.equal(s.mesh.byService.httpbin, s.mesh.status['200']);
    // The gateway's own access log: routed requests went upstream to httpbin's sidecar, the rest is "no route" (NR).
    const log = lines(path.join(res.runDir, 'raw/envoy/ingress-cluster1/access.ndjson'));
    assert.equal(log.length, s.requests.total);
    for (const e of log) {
      if (e.path === '/headers') assert.deepEqual([e.code, e.flags, e.cluster], [404, 'NR', null]);
      else assert.deepEqual([e.code, e.cluster], [200, 'outbound|8000||httpbin.default.svc.cluster.local']);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(res.runDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.topology.envoys['ingress-cluster1'].role, 'ingress-gateway');
    assert.equal(manifest.topology.envoys.client, undefined, 'the outside client has no sidecar');
    assert.ok(fs.existsSync(path.join(res.runDir, 'raw/scrapes/ingress-cluster1.ndjson')), "the gateway's Envoy is scraped");
  });

  it("the gateway's own circuit breaker: its overflow 503s are counted by its Envoy and named after it", async () => {
    const res = await runExperiment({
      experimentFile: 'test/fixtures/topology/ingress-breaker.yaml',
      timeScale: 0.5,
      outDir: out,
      quiet: true,
    });
    assert.equal(res.exitCode, 0, 'the expect: block holds');
    const s = res.summary as Summary;
    assert.ok(s.outcomes.overflow503 > 0);
    assert.equal(s.mesh.clientPendingOverflow, s.outcomes.overflow503, "the gateway's upstream_rq_pending_overflow equals the 503s");
    const events = fs.readFileSync(path.join(res.runDir, 'events.csv'), 'utf8').trim().split('\n').slice(1);
    const overflow = events.filter((l) => l.split(',')[1] === 'overflow');
    assert.ok(overflow.length > 0);
    for (const l of overflow) assert.equal(l.split(',')[2], 'ingress-cluster1', l);
  });
});
