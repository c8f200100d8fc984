/**
 * The harness's control plane, end to end (experiments/endpoint-updates.yaml, time-scaled): a pod
 * that fails readiness leaves the endpoints after probe period x failure threshold + debounce, a
 * changed DestinationRule shifts traffic, a drained pod is ejected -- and each push is recorded when
 * the Envoy's own update_success counter showed it applied.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/orchestrate/run.ts';
import { ndjsonLines } from './ndjson-lines.ts';
import type { RunEvent } from '../../src/contracts/raw.ts';

const lines = ndjsonLines;
const SCALE = 0.5;

describe('control plane: readiness, DestinationRule change and drain during a run (time scale 0.5)', function () {
  this.timeout(120_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-control-plane-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('pushes each change to the client and the gateway and traffic follows', async () => {
    const res = await runExperiment({ experimentFile: 'experiments/endpoint-updates.yaml', timeScale: SCALE, outDir: out, quiet: true });
    assert.equal(res.exitCode, 0);
    const events = lines<RunEvent>(path.join(res.runDir, 'raw/run-events.ndjson'));
    const pushes = events.filter((e) => e.kind === 'push');
    const unready = pushes.filter((e) => String(e.detail?.reason).startsWith('unready'));
    const apply = pushes.filter((e) => String(e.detail?.reason).startsWith('apply'));
    assert.deepEqual(unready.map((e) => e.detail?.envoy).sort(), ['client', 'gateway-cluster1']);
    assert.deepEqual(apply.map((e) => e.detail?.envoy).sort(), ['client', 'gateway-cluster1']);
    for (const e of pushes) assert.equal(typeof e.detail?.latencyMs, 'number', `${e.what} was seen applied`);
    // Readiness: at 4 s x 0.5, plus 3 x 0.5 s probes and 50 ms debounce (the push itself follows).
    const unreadyAt = unready.find((e) => e.detail?.envoy === 'client')!.t;
    assert.ok(unreadyAt >= 2 + 1.5 + 0.05 - 0.05, `pushed at ${unreadyAt} s, not before the probes could fail`);
    // The DR change touches the cluster (CDS) and its endpoints' locality weights (EDS).
    assert.ok((apply[0].detail?.resources as string[]).includes('cds.json'));

    const reqs = lines<{ sent: number; instance?: string; status: number }>(path.join(res.runDir, 'raw/requests.ndjson'));
    const applyAt = apply.find((e) => e.detail?.envoy === 'client')!.t;
    const drainAt = 15 * SCALE;
    const scaleAt = 12 * SCALE;
    const between = (a: number, b: number) => reqs.filter((r) => r.sent > a && r.sent < b && r.status === 200);
    assert.ok(
      between(0, 2).some((r) => r.instance === 'helloworld-z1-0'),
      'pod 0 served before its readiness failed',
    );
    assert.equal(
      between(unreadyAt + 0.05, 100).filter((r) => r.instance === 'helloworld-z1-0').length,
      0,
      'pod 0 served nothing once it left the endpoints, the scale-up included',
    );
    const shifted = between(applyAt + 0.1, drainAt);
    const z2 = shifted.filter((r) => r.instance === 'helloworld-z2-0').length / shifted.length;
    assert.ok(
      z2 > 0.6 && z2 < 0.95,
      `zone2 took ${z2} of the ${shifted.length} calls between the push at ${applyAt} s and the drain at ${drainAt} s`,
    );
    assert.equal(
      between(drainAt + 0.3, 100).filter((r) => r.instance === 'helloworld-z2-0').length,
      0,
      'the drained pod served nothing more',
    );
    // Scale-up at 12 s: the third pod is created then and joins at a probe tick (0.5 s apart) after its start, plus the debounce.
    const scaled = pushes.find((e) => e.detail?.envoy === 'client' && String(e.detail?.reason).startsWith('scale up'))!;
    assert.ok(scaled && scaled.t >= scaleAt + 0.5, `scale-up pushed at ${scaled?.t}`);
    assert.equal(
      between(0, scaled.t - 0.2).filter((r) => r.instance === 'helloworld-z1-2').length,
      0,
      'the standby pod served nothing before it joined',
    );
    assert.ok(between(scaled.t + 0.1, 100).filter((r) => r.instance === 'helloworld-z1-2').length > 0, 'the new pod serves once it joined');
    // xDS files are in the run directory, renamed into place (no temporary file left).
    const xds = fs.readdirSync(path.join(res.runDir, 'xds/client'));
    assert.ok(xds.includes('cds.json') && !xds.some((f) => f.endsWith('.tmp')));
    // The report says when each push reached each Envoy, and where the answers went next.
    const report = fs.readFileSync(path.join(res.runDir, 'report.md'), 'utf8');
    for (const envoy of ['client', 'gateway-cluster1'])
      assert.match(report, new RegExp(`${envoy} applied the control plane's push "unready`), `${envoy}'s readiness push is in the report`);
    assert.match(report, /client applied the control plane's push "apply[^\n]*In the next [\d.]+ s the answers came from helloworld-z2-0/);
    assert.match(report, /a fault was injected: drain[^\n]*In the next [\d.]+ s the answers came from helloworld-z1-[12]/);
  });
});
