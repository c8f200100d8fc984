/**
 * Trust nothing on disk the harness did not make (issue 11, part 2): forged state files kill nothing
 * and delete nothing, for `spillover cleanup` and for the stale-run sweep of `run`; an unsafe state
 * directory is refused before anything starts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { cleanupStaleProcesses, startTicks, Supervisor } from '../../src/process/processes.ts';
import { isSpilloverError } from '../../src/errors.ts';
import { ownRangeArgs, PEAK_LOAD, REPO_ROOT, runCliInProcess, tmpDir } from './harness.ts';
import { aliveAs, spawnRun } from './leftovers.ts';

const isRoot = process.getuid?.() === 0;

/** A process of the test's own, not started by any Supervisor: what a forger would point at. */
function victim(): ChildProcess {
  const c = spawn('/bin/sleep', ['60'], { detached: true, stdio: 'ignore' });
  c.unref();
  return c;
}

/** A state file as a forger would write it, copying everything /proc tells about the victim. */
function forge(stateDir: string, runId: string, pid: number, extra: Record<string, unknown> = {}) {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const state = {
    kept: false,
    ownerPid: 999_999_999,
    ownerStartTicks: '1',
    runId,
    token: crypto.randomBytes(16).toString('hex'),
    processes: [
      {
        name: 'envoy',
        pid,
        startTicks: startTicks(pid),
        exe: fs.readlinkSync(`/proc/${pid}/exe`),
        argv: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1),
      },
      { name: 'init', pid: 1, startTicks: startTicks(1) },
      { name: 'own-group', pid: 0, startTicks: null },
    ],
    ...extra,
  };
  fs.writeFileSync(path.join(stateDir, `${runId}.json`), JSON.stringify(state));
}

/** A directory outside every run with a key file in it: must survive every cleanup. */
function outsideKeys(tmp: string): string {
  const dir = path.join(tmp, 'home', '.ssh-like');
  fs.mkdirSync(path.join(dir, 'istio.a'), { recursive: true });
  for (const f of ['root-key.pem', 'istio.a/key.pem']) fs.writeFileSync(path.join(dir, f), 'secret', { mode: 0o600 });
  return dir;
}
const keysLeft = (dir: string) => ['root-key.pem', 'istio.a/key.pem'].filter((f) => fs.existsSync(path.join(dir, f)));

describe('hardening: forged state files kill nothing and delete nothing', function () {
  this.timeout(60_000);
  let tmp: string;
  let state: string;
  const victims: ChildProcess[] = [];
  const saved = process.env.SPILLOVER_STATE_DIR;
  beforeEach(() => {
    tmp = tmpDir('forged');
    state = path.join(tmp, 'state');
    process.env.SPILLOVER_STATE_DIR = state;
  });
  afterEach(() => {
    for (const v of victims.splice(0))
      try {
        process.kill(v.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    if (saved === undefined) delete process.env.SPILLOVER_STATE_DIR;
    else process.env.SPILLOVER_STATE_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a genuine kept run is ended and its keys deleted (the control: the checks below can fail)', () => {
    const runDir = path.join(tmp, 'results', 'genuine');
    fs.mkdirSync(path.join(runDir, 'certs', 'istio.a'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'manifest.json'), JSON.stringify({ runId: 'genuine' }));
    for (const f of ['root-key.pem', 'istio.a/key.pem', 'root-cert.pem'])
      fs.writeFileSync(path.join(runDir, 'certs', f), 'k', { mode: 0o600 });
    const sup = new Supervisor('genuine', { secretsDir: path.join(runDir, 'certs'), runDir });
    const p = sup.start('sleeper', '/bin/sleep', ['60']);
    sup.detach();
    const ticks = startTicks(p.pid);
    const refused: string[] = [];
    const removed = cleanupStaleProcesses({ includeKept: true, onRefused: (w) => refused.push(w) });
    assert.deepEqual(refused, []);
    assert.ok(removed.includes(`genuine/sleeper (pid ${p.pid})`), removed.join(', '));
    assert.deepEqual(keysLeft(path.join(runDir, 'certs')), []);
    assert.ok(fs.existsSync(path.join(runDir, 'certs', 'root-cert.pem')), 'certificates stay');
    const deadline = Date.now() + 5000;
    while (aliveAs(p.pid, ticks) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    assert.equal(aliveAs(p.pid, ticks), false, 'the kept process was ended');
  });

  it('stale-run sweep: a forged file naming a process of ours (pid, start time, exe and command line all right) and keys outside', () => {
    const v = victim();
    victims.push(v);
    const keys = outsideKeys(tmp);
    forge(state, 'forged-sweep', v.pid!, { secretsDir: keys, runDir: '/' });
    const refused: string[] = [];
    const removed = cleanupStaleProcesses({ onRefused: (w) => refused.push(w) }); // what `run` calls
    assert.deepEqual(removed, []);
    assert.ok(aliveAs(v.pid!, startTicks(v.pid!)), 'the victim is alive');
    assert.deepEqual(keysLeft(keys), ['root-key.pem', 'istio.a/key.pem'], 'no key outside was deleted');
    assert.ok(
      refused.some((r) => r.includes(`pid ${v.pid}`) && /token/.test(r)),
      refused.join('\n'),
    );
    assert.ok(
      refused.some((r) => r.includes('pid 1') && /not a valid pid/.test(r)),
      refused.join('\n'),
    );
    assert.ok(
      refused.some((r) => /outside the run's own directory/.test(r)),
      refused.join('\n'),
    );
  });

  it('a genuine state file whose pid was swapped for another process is refused (the token is not in its environment)', () => {
    const sup = new Supervisor('swapped');
    const p = sup.start('sleeper', '/bin/sleep', ['60']);
    sup.detach();
    const v = victim(); // same executable and command line as the genuine one
    victims.push(v, p.child);
    const file = path.join(state, 'swapped.json');
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    s.processes[0].pid = v.pid;
    s.processes[0].startTicks = startTicks(v.pid!);
    fs.writeFileSync(file, JSON.stringify(s));
    const refused: string[] = [];
    assert.deepEqual(cleanupStaleProcesses({ includeKept: true, onRefused: (w) => refused.push(w) }), []);
    assert.ok(aliveAs(v.pid!, startTicks(v.pid!)), 'the swapped-in process is alive');
    assert.match(refused.join('\n'), /does not carry the token/);
  });

  it('a state file whose command line is not the one running is refused, even with the right token', () => {
    const sup = new Supervisor('argv');
    const p = sup.start('sleeper', '/bin/sleep', ['60']);
    sup.detach();
    victims.push(p.child);
    const file = path.join(state, 'argv.json');
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(s.processes[0].argv, ['/bin/sleep', '60'], 'the spawned command line is recorded');
    s.processes[0].argv = ['/bin/sleep', '61'];
    fs.writeFileSync(file, JSON.stringify(s));
    const refused: string[] = [];
    assert.deepEqual(cleanupStaleProcesses({ includeKept: true, onRefused: (w) => refused.push(w) }), []);
    assert.ok(aliveAs(p.pid, startTicks(p.pid)));
    assert.match(refused.join('\n'), /is not the one the harness started/);
  });

  it("keys are deleted only inside the run's own directory, after resolving symlinks", () => {
    const keys = outsideKeys(tmp);
    const runDir = path.join(tmp, 'results', 'linky');
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(runDir, 'manifest.json'), JSON.stringify({ runId: 'linky' }));
    fs.symlinkSync(keys, path.join(runDir, 'certs')); // certs -> a directory outside
    const runDir2 = path.join(tmp, 'results', 'linky2');
    fs.mkdirSync(path.join(runDir2, 'certs', 'istio.a'), { recursive: true });
    fs.writeFileSync(path.join(runDir2, 'manifest.json'), JSON.stringify({ runId: 'linky2' }));
    fs.symlinkSync(path.join(keys, 'root-key.pem'), path.join(runDir2, 'certs', 'root-key.pem')); // a key file that is a link
    fs.symlinkSync(path.join(keys, 'istio.a'), path.join(runDir2, 'certs', 'link-dir')); // a folder that is a link
    // A run directory that does not name this run cannot vouch for a key directory.
    const runDir3 = path.join(tmp, 'results', 'other');
    fs.mkdirSync(path.join(runDir3, 'certs'), { recursive: true });
    fs.writeFileSync(path.join(runDir3, 'manifest.json'), JSON.stringify({ runId: 'someone-else' }));
    fs.writeFileSync(path.join(runDir3, 'certs', 'key.pem'), 'k');
    const v = victim();
    victims.push(v);
    forge(state, 'linky', v.pid!, { secretsDir: path.join(runDir, 'certs'), runDir });
    forge(state, 'linky2', v.pid!, { secretsDir: path.join(runDir2, 'certs'), runDir: runDir2 });
    forge(state, 'forged3', v.pid!, { secretsDir: path.join(runDir3, 'certs'), runDir: runDir3 });
    const refused: string[] = [];
    const removed = cleanupStaleProcesses({ includeKept: true, onRefused: (w) => refused.push(w) });
    assert.deepEqual(removed, []);
    assert.deepEqual(keysLeft(keys), ['root-key.pem', 'istio.a/key.pem']);
    assert.ok(fs.existsSync(path.join(runDir3, 'certs', 'key.pem')));
    assert.ok(aliveAs(v.pid!, startTicks(v.pid!)));
    assert.equal(refused.filter((r) => /outside the run's own directory/.test(r)).length, 2, refused.join('\n'));
    assert.deepEqual(fs.readdirSync(state), [], 'the forged state files are gone (they were in our own directory)');
  });

  it('`spillover cleanup` with a forged file: nothing killed, nothing deleted, the refusal is said', async () => {
    const v = victim();
    victims.push(v);
    const keys = outsideKeys(tmp);
    forge(state, 'forged-cli', v.pid!, { kept: true, secretsDir: keys, runDir: tmp });
    const r = await execa(process.execPath, [path.join(REPO_ROOT, 'bin/spillover.js'), 'cleanup'], {
      env: { ...process.env, SPILLOVER_STATE_DIR: state },
      reject: false,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /nothing to clean up/);
    assert.match(r.stderr, new RegExp(`not signalling forged-cli/envoy \\(pid ${v.pid}\\)`));
    assert.ok(aliveAs(v.pid!, startTicks(v.pid!)));
    assert.deepEqual(keysLeft(keys), ['root-key.pem', 'istio.a/key.pem']);
  });
});

describe('hardening: the stale-run sweep of a real `spillover run` trusts no forged state file (end-to-end, real Envoy)', function () {
  this.timeout(120_000);
  let tmp: string;
  const victims: ChildProcess[] = [];
  afterEach(() => {
    for (const v of victims.splice(0))
      try {
        process.kill(v.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the run sweeps, kills nothing of ours, deletes no key outside, says why, and still completes', async () => {
    tmp = tmpDir('forged-run');
    const state = path.join(tmp, 'state');
    const v = victim();
    victims.push(v);
    const keys = outsideKeys(tmp);
    forge(state, 'forged-run', v.pid!, { secretsDir: keys, runDir: tmp });
    const run = spawnRun(PEAK_LOAD, { stateDir: state, out: path.join(tmp, 'out'), args: ['--time-scale', '0.03', ...ownRangeArgs(235)] });
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stderr(), new RegExp(`not signalling forged-run/envoy \\(pid ${v.pid}\\)`));
    assert.ok(aliveAs(v.pid!, startTicks(v.pid!)), 'the victim is alive');
    assert.deepEqual(keysLeft(keys), ['root-key.pem', 'istio.a/key.pem']);
    assert.equal(fs.existsSync(path.join(state, 'forged-run.json')), false, 'the forged file was swept from our own directory');
  });
});

describe("hardening: the state directory must be the user's alone", function () {
  this.timeout(60_000);
  let tmp: string;
  const saved = process.env.SPILLOVER_STATE_DIR;
  beforeEach(() => {
    tmp = tmpDir('statedir');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SPILLOVER_STATE_DIR;
    else process.env.SPILLOVER_STATE_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is created 0700 (parents too)', () => {
    process.env.SPILLOVER_STATE_DIR = path.join(tmp, 'a', 'runs');
    const sup = new Supervisor('mode');
    sup.start('t', '/bin/true', []);
    void sup.stopAll();
    assert.equal(fs.statSync(path.join(tmp, 'a', 'runs')).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(tmp, 'a')).mode & 0o777, 0o700);
  });

  it('a world-writable one is refused by cleanup and by the supervisor, naming the path, what was found and the fix', () => {
    const dir = path.join(tmp, 'runs');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    process.env.SPILLOVER_STATE_DIR = dir;
    for (const attempt of [() => cleanupStaleProcesses(), () => new Supervisor('ww').start('t', '/bin/true', [])]) {
      assert.throws(attempt, (e: unknown) => {
        assert.ok(isSpilloverError(e));
        const m = (e as Error).message;
        assert.match(m, new RegExp(dir.replace(/[/.]/g, '\\$&')));
        assert.match(m, /mode 0777/);
        assert.match(m, /chmod 700/);
        return true;
      });
    }
  });

  it('a group-writable, non-sticky parent is refused; a sticky one (like /tmp) is fine', () => {
    const parent = path.join(tmp, 'shared');
    fs.mkdirSync(path.join(parent, 'runs'), { recursive: true, mode: 0o700 });
    fs.chmodSync(parent, 0o775);
    process.env.SPILLOVER_STATE_DIR = path.join(parent, 'runs');
    assert.throws(() => cleanupStaleProcesses(), /writable by others and not sticky/);
    fs.chmodSync(parent, 0o1777);
    assert.deepEqual(cleanupStaleProcesses(), []);
  });

  it('a foreign-owned one is refused (even when its mode looks right)', function () {
    if (!isRoot) this.skip(); // chown to another user needs root
    const dir = path.join(tmp, 'runs');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chownSync(dir, 65534, 65534);
    process.env.SPILLOVER_STATE_DIR = dir;
    assert.throws(() => cleanupStaleProcesses(), /owned by uid 65534 \(you are uid 0\)/);
  });

  it('`spillover cleanup` and `spillover run` refuse it with exit 2, and run leaves no run directory', async () => {
    const dir = path.join(tmp, 'runs');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o757);
    process.env.SPILLOVER_STATE_DIR = dir;
    const c = await runCliInProcess(['cleanup']);
    assert.equal(c.code, 2, c.stderr);
    assert.match(c.stderr, /state directory/);
    const out = path.join(tmp, 'out');
    const r = await runCliInProcess(['experiment', 'peak-load', '--time-scale', '0.1', '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /writable by others/);
    assert.deepEqual(fs.existsSync(out) ? fs.readdirSync(out) : [], [], 'no run directory');
  });
});
