/**
 * The whole pipeline, time-scaled: experiment -> local backend up -> load + capture -> raw results ->
 * analysis -> report, through runExperiment as `npm run experiment peak-load` calls it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { RunManifest } from '../../src/contracts/raw.ts';

const lines = (f: string) =>
  fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('run: peak-load end to end on the local backend (time scale 0.05)', function () {
  this.timeout(120_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-run-test-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("shows from Envoy's own telemetry that A was ejected and B then served, and writes the report", async () => {
    const res = await runExperiment({ experimentFile: 'experiments/peak-load.yaml', timeScale: 0.05, outDir: out, quiet: true });
    assert.equal(res.exitCode, 0, `exit code ${res.exitCode}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(res.runDir, 'manifest.json'), 'utf8')) as RunManifest;
    assert.equal(manifest.outcome, 'ok');
    assert.equal(manifest.versions.envoy, '1.40.0');
    assert.ok(manifest.topology?.clientCluster.startsWith('outbound|80||a.istio'));

    // Envoy's own outlier event log: A's sidecar address ejected by the client.
    const aAddr = Object.entries(manifest.topology!.endpoints).find(([, e]) => e.service === 'A')![0];
    const ejects = lines(path.join(res.runDir, 'raw/envoy/client/outlier.ndjson')).filter(
      (e) => e.action === 'EJECT' && e.upstream_url === aAddr,
    );
    assert.ok(ejects.length >= 1, 'the client Envoy logged an ejection of A');

    // Requests the driver recorded: B served some after the ejection.
    const reqs = lines(path.join(res.runDir, 'raw/requests.ndjson'));
    assert.ok(
      reqs.some((r) => r.service === 'B'),
      'B served requests',
    );
    assert.ok(reqs.every((r) => typeof r.intended === 'number' && typeof r.end === 'number'));

    const summary = res.summary as { events: { firstEjectionS: number | null }; servedBy: { B: number }; requests: { total: number } };
    assert.ok(summary.events.firstEjectionS !== null);
    assert.ok(summary.servedBy.B > 0);
    assert.equal(summary.requests.total, reqs.length, 'the summary counts every recorded request');
    for (const f of [
      'report.html',
      'report.md',
      'summary.json',
      'timeseries.csv',
      'events.csv',
      'requests.csv',
      'figures/redirect.vl.json',
      'figures/redirect.svg',
      'figures/redirect.png',
    ]) {
      assert.ok(fs.existsSync(path.join(res.runDir, f)), `${f} written`);
    }
    // CA private keys are removed at teardown; certificates stay for the record.
    const keys = fs
      .readdirSync(path.join(res.runDir, 'certs'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('key.pem'));
    assert.deepEqual(keys, []);
  });

  it('--dry-run writes the resolved experiment, every Envoy config and the plan, and starts nothing', async () => {
    const res = await runExperiment({ experimentFile: 'experiments/peak-load.yaml', dryRun: true, outDir: out, quiet: true });
    assert.equal(res.exitCode, 0);
    for (const f of [
      'experiment.resolved.yaml',
      'manifest.json',
      'plan.json',
      'config/client.yaml',
      'config/a-sidecar.yaml',
      'config/gateway.yaml',
      'config/b-sidecar.yaml',
    ]) {
      assert.ok(fs.existsSync(path.join(res.runDir, f)), `${f} written`);
    }
    assert.ok(!fs.existsSync(path.join(res.runDir, 'raw/requests.ndjson')), 'no load was sent');
    assert.ok(!fs.existsSync(path.join(res.runDir, 'certs')), 'no CA was created');
  });
});
