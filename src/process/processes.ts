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
import {
  allowedKeyRoots,
  ensureTrustedDir,
  identityMismatch,
  newToken,
  processIdentity,
  removeKeyFilesWithin,
  TOKEN_ENV,
  type ProcessIdentity,
} from './state-trust.ts';

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
  /** The spawned command line and /proc/pid/exe right after the spawn (see state-trust.ts). */
  argv?: string[];
  exe?: string | null;
}
interface StateFile {
  ownerPid: number;
  ownerStartTicks: string | null;
  runId: string;
  /** Left running on purpose (--keep): only an explicit `spillover cleanup` ends it. */
  kept?: boolean;
  /** Private keys of the run (its CA directory): deleted with the leftovers of a killed run. */
  secretsDir?: string;
  /** The run's own directory: secretsDir must lie in it (or in the state directory) to be touched. */
  runDir?: string;
  /** Put into every child's environment as SPILLOVER_SUPERVISOR_TOKEN: proves a pid is one we started. */
  token?: string;
  processes: StateEntry[];
}

export const stateDir = () => process.env.SPILLOVER_STATE_DIR ?? path.join(os.tmpdir(), `spillover-${os.userInfo().uid}`, 'runs');

/**
 * The state directory, created 0700 when missing; a SpilloverError when it is not this user's alone
 * (state-trust.ts). `create: false` returns undefined when it does not exist (nothing to clean up).
 */
export function trustedStateDir(opts: { create: boolean } = { create: true }): string | undefined {
  const dir = stateDir();
  if (!opts.create && !fs.existsSync(dir)) return undefined;
  ensureTrustedDir(dir, 'state directory', 'SPILLOVER_STATE_DIR');
  return dir;
}

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

/** Field 5 of /proc/pid/stat, or undefined when it is gone. */
const pgidOf = (pid: number): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
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
  private readonly runDir?: string;
  private readonly token = newToken();
  private readonly identities = new Map<number, ProcessIdentity>();

  constructor(runId: string, opts: { secretsDir?: string; runDir?: string } = {}) {
    this.runId = runId;
    this.secretsDir = opts.secretsDir;
    this.runDir = opts.runDir && path.resolve(opts.runDir);
    this.stateFile = path.join(stateDir(), `${runId}.json`);
    live.add(this);
    installExitHook();
  }

  /** Processes that exited without being asked to: a crash during the run. */
  casualties(): string[] {
    return this.procs
      .filter((p) => p.child.exitCode !== null || p.child.signalCode !== null)
      .filter((p) => !p.stopping)
      .map((p) => p.name);
  }

  find(name: string): ManagedProcess | undefined {
    return this.procs.find((p) => p.name === name);
  }

  list(): ManagedProcess[] {
    return [...this.procs];
  }

  start(
    name: string,
    command: string,
    args: string[],
    opts: {
      logFile?: string;
      env?: NodeJS.ProcessEnv;
      cwd?: string;
      /** pipe stdout to the caller (who must read it) instead of the log */ captureStdout?: boolean;
    } = {},
  ): ManagedProcess {
    if (this.closed) throw new Error(`supervisor for run ${this.runId} is closed; not starting ${name}`);
    let out: number | 'ignore' = 'ignore';
    if (opts.logFile) {
      fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
      out = fs.openSync(opts.logFile, 'a');
    }
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', opts.captureStdout ? 'pipe' : out, out],
      env: { ...(opts.env ?? process.env), [TOKEN_ENV]: this.token },
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
    this.identities.set(child.pid, processIdentity(child.pid, [command, ...args]));
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
    // Our own key directory, known in memory: no check against a state file needed.
    if (this.secretsDir) removeKeyFilesWithin(this.secretsDir, 'any');
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
      runDir: this.runDir,
      token: this.token,
      processes: this.procs.map((p) => ({ name: p.name, pid: p.pid, startTicks: startTicks(p.pid), ...this.identities.get(p.pid) })),
    };
    ensureTrustedDir(path.dirname(this.stateFile), 'state directory', 'SPILLOVER_STATE_DIR');
    // Written aside and renamed: a reader never sees half a file, and a planted symlink is replaced, not followed.
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(tmp, this.stateFile);
  }

  private removeState() {
    fs.rmSync(this.stateFile, { force: true });
  }
}

/**
 * Remove what runs killed with SIGKILL left behind: their state files name processes that are still
 * alive while the run that started them is gone. Returns a line per process killed and key file
 * deleted. Nothing in a state file is taken on trust (state-trust.ts): the directory must be this
 * user's alone (else a SpilloverError), a process is signalled only if it is provably the one the
 * harness started, and keys are deleted only inside the run's own directory or the state directory.
 * What is refused is reported through `onRefused` (default: a line on stderr).
 */
export function cleanupStaleProcesses(opts: { includeKept?: boolean; runId?: string; onRefused?: (why: string) => void } = {}): string[] {
  const refused = opts.onRefused ?? ((why: string) => process.stderr.write(`spillover: cleanup: ${why}\n`));
  const removed: string[] = [];
  const dir = trustedStateDir({ create: false });
  if (!dir) return removed;
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return removed;
  }
  for (const f of files) {
    const file = path.join(dir, f);
    let state: StateFile;
    try {
      if (!fs.lstatSync(file).isFile()) throw new Error('not a regular file');
      state = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
      if (typeof state !== 'object' || state === null || !Array.isArray(state.processes)) throw new Error('not a state file');
    } catch {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (opts.runId && state.runId !== opts.runId) continue;
    if (state.kept && !opts.includeKept) continue;
    const ownerAlive = sameProcessAlive(state.ownerPid, state.ownerStartTicks);
    if (ownerAlive && !state.kept) continue;
    for (const p of state.processes) {
      const line = `${String(state.runId)}/${String(p?.name)} (pid ${String(p?.pid)})`;
      // pid 0 and 1 would make the group kill below hit our own group or every process we may signal.
      if (!Number.isInteger(p?.pid) || p.pid <= 1 || p.pid === process.pid) {
        refused(`not signalling ${line}: not a valid pid`);
        continue;
      }
      if (!sameProcessAlive(p.pid, p.startTicks)) continue;
      const mismatch = identityMismatch(p.pid, p, state.token);
      if (mismatch) {
        refused(`not signalling ${line} named in ${file}: ${mismatch}`);
        continue;
      }
      // Its group too when it leads one (children start detached, pgid = pid): grandchildren go with it.
      if (pgidOf(p.pid) === p.pid) killGroup(p.pid, 'SIGKILL');
      else {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
      removed.push(line);
    }
    if (typeof state.secretsDir === 'string') {
      const keys = removeKeyFilesWithin(state.secretsDir, allowedKeyRoots(dir, state.runDir, state.runId));
      if (keys.refused) refused(`not deleting keys named in ${file}: ${keys.refused}`);
      removed.push(...keys.removed.map((k) => `${String(state.runId)}/${k}`));
    }
    fs.rmSync(file, { force: true });
  }
  return removed;
}

/** SIGKILL every process of every live run of this harness process, synchronously. */
export function killEverythingNow(): void {
  for (const s of live) s.killAllNow();
}
