/**
 * Every process the harness starts goes through here, so that every one of them is ended when the run
 * ends -- on success, error, Ctrl-C or SIGTERM -- and so that a run killed with SIGKILL (which no
 * handler can catch) is cleaned up by the next one.
 *
 * Children start in their own process group (detached), so one signal to the group reaches anything
 * they spawn, and a Ctrl-C in the terminal is not delivered to them behind our back: we stop them in
 * order, SIGTERM first, SIGKILL after a grace period.
 *
 * A state file per live run (pids + kernel start times) lets `cleanupStale` tell a leftover of a dead
 * run from an unrelated process that happens to reuse the pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

export interface ManagedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the harness itself asked it to stop (an exit before that is a crash). */
  stopping: boolean;
}

interface StateEntry {
  name: string;
  pid: number;
  startTicks: string | null;
}
interface StateFile {
  ownerPid: number;
  ownerStartTicks: string | null;
  runId: string;
  /** Left running on purpose (--keep): only an explicit `spillover cleanup` ends it. */
  kept?: boolean;
  /** Private keys of the run (its CA directory): deleted with the leftovers of a killed run. */
  secretsDir?: string;
  processes: StateEntry[];
}

export const stateDir = () => process.env.SPILLOVER_STATE_DIR ?? path.join(os.tmpdir(), `spillover-${os.userInfo().uid}`, 'runs');

/** The kernel's start time of a pid (field 22 of /proc/pid/stat): with the pid, a unique identity. */
export function startTicks(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after the last ")" are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Whether the process that had this pid and kernel start time is still the one running. */
export const sameProcessAlive = (pid: number, ticks: string | null) => ticks !== null && alive(pid) && startTicks(pid) === ticks;

const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
};

const live = new Set<Supervisor>();
let hooksInstalled = false;

/** Last resort: on any exit path of the harness, SIGKILL what is still running (synchronously). */
function installExitHook() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const s of live) s.killAllNow();
  });
}

export class Supervisor {
  readonly runId: string;
  private readonly procs: ManagedProcess[] = [];
  private readonly stateFile: string;
  private closed = false;

  private readonly secretsDir?: string;

  constructor(runId: string, opts: { secretsDir?: string } = {}) {
    this.runId = runId;
    this.secretsDir = opts.secretsDir;
    this.stateFile = path.join(stateDir(), `${runId}.json`);
    live.add(this);
    installExitHook();
  }

  /** Processes that exited without being asked to: a crash during the run. */
  casualties(): string[] {
    return this.procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null).filter((p) => !p.stopping).map((p) => p.name);
  }

  find(name: string): ManagedProcess | undefined {
    return this.procs.find((p) => p.name === name);
  }

  list(): ManagedProcess[] {
    return [...this.procs];
  }

  start(name: string, command: string, args: string[], opts: { logFile?: string; env?: NodeJS.ProcessEnv; cwd?: string; /** pipe stdout to the caller (who must read it) instead of the log */ captureStdout?: boolean } = {}): ManagedProcess {
    if (this.closed) throw new Error(`supervisor for run ${this.runId} is closed; not starting ${name}`);
    let out: number | 'ignore' = 'ignore';
    if (opts.logFile) {
      fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
      out = fs.openSync(opts.logFile, 'a');
    }
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', opts.captureStdout ? 'pipe' : out, out],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    if (typeof out === 'number') fs.closeSync(out);
    if (child.pid === undefined) {
      // spawn reports ENOENT asynchronously; surface it as a thrown error here.
      throw new Error(`could not start ${name}: ${command} (is it installed and executable?)`);
    }
    const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    child.on('error', () => {
      /* reflected in `exited` / casualties */
    });
    const mp: ManagedProcess = { name, pid: child.pid, child, exited, stopping: false };
    this.procs.push(mp);
    this.writeState();
    return mp;
  }

  /** SIGTERM, then SIGKILL after graceMs. Stops in reverse start order (load side first, apps last). */
  async stopAll(graceMs = 3000): Promise<void> {
    this.closed = true;
    for (const p of [...this.procs].reverse()) await this.stop(p, graceMs);
    this.removeState();
    live.delete(this);
  }

  async stop(p: ManagedProcess, graceMs = 3000): Promise<void> {
    p.stopping = true;
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    killGroup(p.pid, 'SIGTERM');
    // A process frozen by a stall fault (SIGSTOP) acts on SIGTERM only once it runs again.
    killGroup(p.pid, 'SIGCONT');
    const timer = new Promise<'timeout'>((r) => setTimeout(r, graceMs, 'timeout').unref());
    if ((await Promise.race([p.exited, timer])) === 'timeout') {
      killGroup(p.pid, 'SIGKILL');
      await p.exited;
    }
    // The group may hold grandchildren that outlive the leader; make sure nothing is left.
    killGroup(p.pid, 'SIGKILL');
  }

  /** Synchronous SIGKILL of everything; for exit paths where awaiting is impossible. */
  killAllNow(): void {
    for (const p of this.procs) {
      p.stopping = true;
      killGroup(p.pid, 'SIGKILL');
    }
    // The orderly teardown that would delete the keys is skipped on this path.
    if (this.secretsDir) removeKeyFiles(this.secretsDir);
    this.removeState();
  }

  /** Forget the run's state file but leave processes running (--keep). */
  detach(): void {
    this.closed = true;
    this.writeState(true);
    for (const p of this.procs) p.child.unref();
    live.delete(this);
  }

  private writeState(kept = false) {
    const state: StateFile = {
      kept,
      ownerPid: process.pid,
      ownerStartTicks: startTicks(process.pid),
      runId: this.runId,
      secretsDir: this.secretsDir,
      processes: this.procs.map((p) => ({ name: p.name, pid: p.pid, startTicks: startTicks(p.pid) })),
    };
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    fs.writeFileSync(this.stateFile, JSON.stringify(state));
  }

  private removeState() {
    fs.rmSync(this.stateFile, { force: true });
  }
}

/**
 * Remove what runs killed with SIGKILL left behind: their state files name processes that are still
 * alive while the run that started them is gone. Returns a line per process killed.
 */
export function cleanupStaleProcesses(opts: { includeKept?: boolean; runId?: string } = {}): string[] {
  const removed: string[] = [];
  let files: string[] = [];
  try {
    files = fs.readdirSync(stateDir()).filter((f) => f.endsWith('.json'));
  } catch {
    return removed;
  }
  for (const f of files) {
    const file = path.join(stateDir(), f);
    let state: StateFile;
    try {
      state = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
    } catch {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (opts.runId && state.runId !== opts.runId) continue;
    if (state.kept && !opts.includeKept) continue;
    const ownerAlive = sameProcessAlive(state.ownerPid, state.ownerStartTicks);
    if (ownerAlive && !state.kept) continue;
    for (const p of state.processes) {
      if (sameProcessAlive(p.pid, p.startTicks)) {
        killGroup(p.pid, 'SIGKILL');
        removed.push(`${state.runId}/${p.name} (pid ${p.pid})`);
      }
    }
    if (state.secretsDir) removed.push(...removeKeyFiles(state.secretsDir).map((k) => `${state.runId}/${k}`));
    fs.rmSync(file, { force: true });
  }
  return removed;
}

/**
 * Delete the private keys (key.pem, root-key.pem: the names src/runner/ca.ts writes) under a run's CA
 * directory. Synchronous because cleanup runs on exit paths; certificates stay for the record.
 */
function removeKeyFiles(dir: string): string[] {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  const keys = entries.filter((f) => path.basename(f) === 'key.pem' || path.basename(f) === 'root-key.pem');
  for (const k of keys) fs.rmSync(path.join(dir, k), { force: true });
  return keys.map((k) => `certs/${k}`);
}

/** SIGKILL every process of every live run of this harness process, synchronously. */
export function killEverythingNow(): void {
  for (const s of live) s.killAllNow();
}
