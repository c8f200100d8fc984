/**
 * The supervisor's stop path on processes in awkward states: frozen by a stall fault, or already gone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cleanupStaleProcesses, Supervisor } from '../../src/process/processes.ts';
import { tmpDir } from './harness.ts';
import { aliveAs } from './leftovers.ts';

describe('hardening: supervisor stop path', function () {
  let tmp: string;
  const saved = process.env.SPILLOVER_STATE_DIR;
  beforeEach(() => {
    tmp = tmpDir('supervisor');
    process.env.SPILLOVER_STATE_DIR = path.join(tmp, 'state');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SPILLOVER_STATE_DIR;
    else process.env.SPILLOVER_STATE_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a stalled (SIGSTOPped) process ends on the polite SIGTERM, not only after the SIGKILL grace', async () => {
    const sup = new Supervisor('stall-test');
    // A shell that says how it ended: only a handled SIGTERM writes the file.
    const marker = path.join(tmp, 'got-term');
    const p = sup.start('frozen', '/bin/sh', ['-c', `trap 'echo term > ${marker}; exit 0' TERM; while :; do sleep 0.05; done`]);
    await new Promise((r) => setTimeout(r, 200)); // let the trap be installed
    process.kill(-p.pid, 'SIGSTOP');
    // A grace far beyond mocha's timeout: if SIGTERM were not delivered, this would time the test out.
    await sup.stop(p, 120_000);
    assert.equal(fs.readFileSync(marker, 'utf8').trim(), 'term', 'the process handled SIGTERM');
    assert.equal(aliveAs(p.pid, null), false);
    await sup.stopAll();
  });

  it('stopping a process that already exited is a no-op, and the state file goes with stopAll', async () => {
    const sup = new Supervisor('gone-test');
    const p = sup.start('short', '/bin/true', []);
    await p.exited;
    await sup.stop(p);
    assert.ok(fs.existsSync(path.join(tmp, 'state', 'gone-test.json')));
    await sup.stopAll();
    assert.equal(fs.existsSync(path.join(tmp, 'state', 'gone-test.json')), false);
  });
});

describe('hardening: CA keys of runs that did not tear down themselves', function () {
  let tmp: string;
  const saved = process.env.SPILLOVER_STATE_DIR;
  beforeEach(() => {
    tmp = tmpDir('secrets');
    process.env.SPILLOVER_STATE_DIR = path.join(tmp, 'state');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SPILLOVER_STATE_DIR;
    else process.env.SPILLOVER_STATE_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A CA directory laid out as src/runner/ca.ts writes it, in a run directory naming `runId`. */
  function fakeCa(runId = 'kept-run'): string {
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify({ runId }));
    const dir = path.join(tmp, 'certs');
    fs.mkdirSync(path.join(dir, 'istio.a'), { recursive: true });
    for (const f of ['root-cert.pem', 'root-key.pem', 'istio.a/cert-chain.pem', 'istio.a/key.pem'])
      fs.writeFileSync(path.join(dir, f), 'x', { mode: 0o600 });
    return dir;
  }
  const left = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.pem')).sort();

  it('`spillover cleanup` of a kept run deletes its private keys and keeps its certificates', async () => {
    const dir = fakeCa();
    const sup = new Supervisor('kept-run', { secretsDir: dir, runDir: tmp });
    sup.start('sleeper', '/bin/sleep', ['30']);
    sup.detach();
    const removed = cleanupStaleProcesses({ includeKept: true });
    assert.ok(
      removed.some((r) => r.startsWith('kept-run/sleeper')),
      removed.join(', '),
    );
    assert.deepEqual(left(dir), ['istio.a/cert-chain.pem', 'root-cert.pem']);
  });

  it('the kill-everything-now path (second Ctrl-C, exit hook) deletes them too', () => {
    const dir = fakeCa();
    const sup = new Supervisor('hurried-run', { secretsDir: dir });
    sup.start('sleeper', '/bin/sleep', ['30']);
    sup.killAllNow();
    assert.deepEqual(left(dir), ['istio.a/cert-chain.pem', 'root-cert.pem']);
  });
});
