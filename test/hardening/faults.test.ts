/**
 * Faults during a run. Planned ones (the experiment's `faults:` block -- kill a service, stall the
 * gateway) are part of the experiment: the run goes on, exits 0, and the run events, the scrapes and
 * the report show when each happened and what it cost. Unplanned ones (a sidecar or the client's Envoy
 * crashing) also let the run go on with what is left, but fail it (exit 1) and say which process
 * ended when. Either way every request the driver started is in raw/requests.ndjson.
 *
 * END-TO-END (real Envoy, time-scaled at 0.03): about 8-12 s per case.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isSpilloverError } from '../../src/errors.ts';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { RunResult } from '../../src/orchestrate/run-types.ts';
import type { RequestRecord, RunEvent, ScrapeRecord } from '../../src/contracts/raw.ts';
import { isolatedRuns, ownRanges, PEAK_LOAD, REPO_ROOT } from './harness.ts';
import { aliveAs, envoyRequestCount, markedProcesses, requestCounts, stateProcesses } from './leftovers.ts';

const SCALE = 0.03;
const FAILOVER = path.join(REPO_ROOT, 'experiments/failover-kill.yaml');

const ndjson = <T>(file: string): T[] =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as T)
    : [];

function assertRawComplete(runDir: string) {
  const c = requestCounts(runDir);
  assert.ok(c.started !== undefined && c.started > 100, `the driver ran its schedule (started ${c.started})`);
  assert.equal(c.recorded, c.started, 'every started request is recorded');
  assert.equal(c.torn, 0, 'no half-written lines');
}

describe('hardening: faults during a run (end-to-end, real Envoy)', function () {
  this.timeout(90_000);
  const runs = isolatedRuns('faults');
  let tmp: string;
  let stateDir: string;
  beforeEach(() => {
    tmp = runs.tmp();
    stateDir = runs.stateDir();
  });

  it('planned: kill service A and stall the gateway (experiments/failover-kill.yaml) -- B takes over, the gap is marked, exit 0', async () => {
    const res = await runExperiment({
      experimentFile: FAILOVER,
      timeScale: SCALE,
      outDir: path.join(tmp, 'out'),
      quiet: true,
      // The gateway freezes (SIGSTOP) before A dies, for three scrape intervals at least.
      set: ['faults[1]={at: 15s, action: stall, target: gateway, duration: 35s}', 'expect={}', ...ownRanges(243)],
    });
    assert.equal(res.exitCode, 0);
    assert.equal(res.manifest.outcome, 'ok');
    assertRawComplete(res.runDir);

    const events = ndjson<RunEvent>(path.join(res.runDir, 'raw/run-events.ndjson'));
    const kill = events.find((e) => e.kind === 'fault' && e.what === 'kill a');
    const stall = events.find((e) => e.kind === 'fault' && e.what === 'stall gateway');
    assert.ok(kill && stall, `fault events: ${JSON.stringify(events.filter((e) => e.kind === 'fault'))}`);
    assert.ok(kill.t >= 40 * SCALE - 0.05 && kill.t < 40 * SCALE + 2, `kill at ${kill.t}s, planned ${40 * SCALE}s`);
    assert.ok(!events.some((e) => e.kind === 'process-exit'), 'a planned kill is not a crash');

    // The stalled gateway's admin endpoint stops answering: failed scrapes inside the stall window.
    const scrapes = ndjson<ScrapeRecord>(path.join(res.runDir, 'raw/scrapes/gateway.ndjson'));
    const stallEnd = stall.t + 35 * SCALE;
    const failed = scrapes.filter((s) => !s.ok);
    assert.ok(failed.length > 0, 'failed gateway scrapes recorded');
    assert.ok(
      failed.every((s) => s.t >= stall.t - 0.3 && s.t <= stallEnd + 1),
      `failures only around the stall (${stall.t}..${stallEnd}): ${failed.map((s) => s.t).join(', ')}`,
    );
    assert.ok(
      scrapes.some((s) => s.ok && s.t > stallEnd),
      'scrapes recover after SIGCONT',
    );

    // After A is dead nothing can be served by A; B serves.
    const reqs = ndjson<RequestRecord>(path.join(res.runDir, 'raw/requests.ndjson'));
    const after = reqs.filter((r) => r.sent > kill.t + 0.3);
    assert.equal(after.filter((r) => r.service === 'A').length, 0, 'A served after it was killed');
    assert.ok(after.filter((r) => r.service === 'B').length > 0, 'B took over');

    // The client Envoy's own counter agrees with the driver's records.
    const c = envoyRequestCount(res.runDir);
    assert.ok(
      c.envoy !== undefined && c.envoy >= c.withStatus && c.envoy <= c.recorded,
      `Envoy ${c.envoy}, recorded ${c.recorded}, with status ${c.withStatus}`,
    );

    // Teardown of a run not kept deletes the CA's private keys; the certificates stay for the record.
    const certs = fs.readdirSync(path.join(res.runDir, 'certs'), { recursive: true }) as string[];
    assert.ok(certs.some((f) => f.endsWith('cert-chain.pem')));
    assert.deepEqual(
      certs.filter((f) => f.endsWith('key.pem')),
      [],
      'private keys left after teardown',
    );

    // The report marks the gap and the faults.
    assert.ok(res.reportPath && fs.existsSync(res.reportPath), 'report written');
    const eventsCsv = fs.readFileSync(path.join(res.runDir, 'events.csv'), 'utf8');
    assert.match(eventsCsv, /capture-gap.*gateway/);
    assert.match(eventsCsv, /fault: kill a/);
    assert.match(eventsCsv, /fault: stall gateway/);
  });

  it('a full disk (the request records cannot be written): the run stops and tears down, exit 1, names the cause', async () => {
    const out = path.join(tmp, 'out');
    // /dev/full answers every write with ENOSPC: the disk is full exactly where the driver writes.
    fs.mkdirSync(path.join(out, 'full', 'raw'), { recursive: true });
    fs.symlinkSync('/dev/full', path.join(out, 'full', 'raw', 'requests.ndjson'));
    let procs: Array<{ pid: number; startTicks: string | null }> = [];
    const watch = setInterval(() => {
      const now = [...stateProcesses(stateDir).values()].flat();
      if (now.length > procs.length) procs = now;
    }, 10);
    try {
      await assert.rejects(
        runExperiment({ experimentFile: PEAK_LOAD, timeScale: SCALE, outDir: out, runId: 'full', quiet: true, set: ownRanges(243) }),
        (e: unknown) => {
          assert.ok(isSpilloverError(e), String(e));
          assert.equal(e.exitCode, 1);
          assert.match(e.message, /no space left on the device of the run directory/);
          assert.match(e.message, /fix: .*--out/);
          return true;
        },
      );
    } finally {
      clearInterval(watch);
    }
    assert.ok(procs.length >= 6, 'the mesh had come up');
    assert.deepEqual(
      procs.filter((p) => aliveAs(p.pid, p.startTicks)),
      [],
      'torn down',
    );
    assert.deepEqual(
      markedProcesses(stateDir).map((p) => p.cmd),
      [],
    );
    const events = ndjson<RunEvent>(path.join(out, 'full', 'raw/run-events.ndjson'));
    assert.ok(
      events.some((e) => e.kind === 'error' && (e.detail as { code?: string })?.code === 'ENOSPC'),
      'the cause is in the run events',
    );
    assert.ok(events.some((e) => e.what === 'backend-down'));
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'full', 'manifest.json'), 'utf8')) as { outcome: string };
    assert.equal(manifest.outcome, 'failed');
  });

  it("unplanned: B's sidecar and then the client's Envoy crash -- the run goes on, records when, exits 1", async () => {
    const out = path.join(tmp, 'out');
    const running = runExperiment({
      experimentFile: PEAK_LOAD,
      timeScale: SCALE,
      outDir: out,
      quiet: true,
      set: ['expect={}', ...ownRanges(243)],
    });
    let res: RunResult | undefined;
    void running.then(
      (r) => (res = r),
      () => undefined,
    );
    const phase = async (what: string) => {
      while (!res) {
        const dir = fs.existsSync(out) ? fs.readdirSync(out)[0] : undefined;
        if (dir && ndjson<RunEvent>(path.join(out, dir, 'raw/run-events.ndjson')).some((e) => e.kind === 'phase' && e.what === what))
          return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`the run ended before ${what}`);
    };
    const crash = (name: string) => {
      const p = [...stateProcesses(stateDir).values()].flat().find((x) => x.name === name);
      assert.ok(p && aliveAs(p.pid, p.startTicks), `${name} is running`);
      process.kill(-p.pid, 'SIGKILL');
    };
    await phase('load');
    await new Promise((r) => setTimeout(r, 900));
    crash('b-sidecar');
    await new Promise((r) => setTimeout(r, 900));
    crash('client');
    const r = await running;

    assert.equal(r.exitCode, 1, 'a crash fails the run');
    assert.equal(r.manifest.outcome, 'failed');
    assert.match(r.manifest.exitReason ?? '', /b-sidecar/);
    assert.match(r.manifest.exitReason ?? '', /client/);
    assertRawComplete(r.runDir);

    const events = ndjson<RunEvent>(path.join(r.runDir, 'raw/run-events.ndjson'));
    const exits = events.filter((e) => e.kind === 'process-exit');
    assert.deepEqual(
      exits.map((e) => (e.detail as { process: string }).process),
      ['b-sidecar', 'client'],
      'each crash stamped, in order',
    );
    const loadDone = events.find((e) => e.what === 'load-done')!;
    assert.ok(
      exits.every((e) => e.t < loadDone.t),
      'stamped when it happened, not at the end',
    );

    // Without its client Envoy the load cannot get in, but the driver keeps its schedule and records
    // every refused request.
    const clientGone = exits[1].t;
    const after = ndjson<RequestRecord>(path.join(r.runDir, 'raw/requests.ndjson')).filter((q) => q.sent > clientGone + 0.1);
    assert.ok(after.length > 20, `requests kept coming after the client crashed (${after.length})`);
    assert.ok(
      after.every((q) => q.status === 0 && q.error),
      'and each failed at the transport level',
    );
    assert.deepEqual(
      markedProcesses(stateDir).map((p) => p.cmd),
      [],
      'and teardown left nothing',
    );
  });
});
