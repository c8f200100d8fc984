/**
 * The `scale` fault on the local backend, end to end (experiments/scale.yaml, time-scaled): pods a
 * scale-up adds are created at the fault's time (their processes start then), join the endpoints
 * only after their readiness probe passed; pods a scale-down removes leave the endpoints first, drain,
 * and are then terminated -- each step a `pod` run event, in the report.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/orchestrate/run.ts';
import { ndjsonLines } from './ndjson-lines.ts';
import type { RunEvent, ScrapeRecord } from '../../src/contracts/raw.ts';
import { TERMINATION } from '../../src/runner/backends/local-scale.ts';

const lines = ndjsonLines;
const SCALE = 0.5;

describe('scale fault: pods created and terminated at the fault (time scale 0.5)', function () {
  this.timeout(120_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-scale-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('scale 1 -> 3 -> 1: created, running, ready, pushed; then out of the endpoints, drained, SIGTERM, gone', async () => {
    const res = await runExperiment({ experimentFile: 'experiments/scale.yaml', timeScale: SCALE, outDir: out, quiet: true });
    assert.equal(res.exitCode, 0, 'the expect: block holds (no call failed, both new pods served)');
    const events = lines<RunEvent>(path.join(res.runDir, 'raw/run-events.ndjson'));
    const faults = events.filter((e) => e.kind === 'fault');
    const [upAt, downAt] = faults.map((e) => e.t);
    const step = (pod: string, name: string) => events.find((e) => e.kind === 'pod' && e.detail?.pod === pod && e.detail?.step === name);
    const push = (reason: string) => events.find((e) => e.kind === 'push' && e.detail?.envoy === 'client' && e.detail?.reason === reason);
    const reqs = lines<{ sent: number; instance?: string; status: number }>(path.join(res.runDir, 'raw/requests.ndjson'));
    const servedBy = (pod: string, a: number, b: number) => reqs.filter((r) => r.instance === pod && r.sent > a && r.sent < b).length;

    for (const pod of ['helloworld-1', 'helloworld-2']) {
      const created = step(pod, 'created')!;
      const running = step(pod, 'running')!;
      const ready = step(pod, 'ready')!;
      const joined = push(`scale up ${pod}`)!;
      assert.ok(created && running && ready && joined, `${pod}: created, running, ready and pushed`);
      assert.ok(created.t >= upAt, `${pod} is created by the fault, not with the run`);
      assert.ok(created.t <= running.t && running.t <= ready.t && ready.t <= joined.t, `${pod}: created → running → ready → pushed`);
      // Its processes did not exist before: its sidecar's first scrape comes after it was running.
      const scrapes = lines<ScrapeRecord>(path.join(res.runDir, `raw/scrapes/${pod}-sidecar.ndjson`));
      assert.ok(scrapes.length > 0 && scrapes[0].t >= running.t - 0.3, `${pod}'s sidecar first scraped at ${scrapes[0]?.t}`);
      assert.ok(
        scrapes.every((r) => r.ok),
        `${pod}: no scrape gap while it did not exist`,
      );
      assert.equal(servedBy(pod, 0, joined.t - 0.05), 0, `${pod} served nothing before its endpoint was pushed`);
      assert.ok(servedBy(pod, joined.t, downAt) > 0, `${pod} served once it joined`);

      const terminating = step(pod, 'terminating')!;
      const left = push('scale down helloworld-1,helloworld-2')!;
      const sigterm = step(pod, 'sigterm')!;
      const terminated = step(pod, 'terminated')!;
      assert.ok(terminating && left && sigterm && terminated, `${pod}: terminating, pushed out, SIGTERM, terminated`);
      assert.ok(terminating.t >= downAt && left.t >= terminating.t);
      // kubelet's order: out of the endpoints and draining first, SIGTERM after Istio's drain duration.
      assert.ok(sigterm.t - terminating.t >= (TERMINATION.drainMs * SCALE) / 1000 - 0.01, `SIGTERM ${sigterm.t - terminating.t} s after`);
      assert.match(terminated.what, new RegExp(`${pod} exit 0, ${pod}-sidecar exit 0`), 'both processes ended on SIGTERM');
      assert.equal(servedBy(pod, left.t + 0.3, 1e9), 0, `${pod} served nothing once it left the endpoints`);
      assert.ok(scrapes[scrapes.length - 1].t <= sigterm.t + 0.3, `${pod} not scraped after it was terminated`);
    }
    assert.equal(step('helloworld-0', 'terminating'), undefined, 'the first replica stays');
    assert.ok(!events.some((e) => e.kind === 'process-exit'), 'a scale-down is not a crash');
    const report = fs.readFileSync(path.join(res.runDir, 'report.md'), 'utf8');
    assert.match(report, /pod helloworld-1 created \(scale helloworld to 3\)/);
    assert.match(report, /pod helloworld-2: SIGTERM to app and sidecar/);
  });
});
