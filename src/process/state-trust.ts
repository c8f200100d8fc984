/**
 * Trust nothing on disk the harness did not make (issue 11). The state directory sits by default under
 * the world-writable /tmp at a predictable path, and its files tell the stale-run sweep which processes
 * to SIGKILL and which key files to delete. So:
 *
 * - the state directory is created 0700, and one that is foreign-owned or group/world-writable (or has
 *   such a parent that is not sticky like /tmp) is refused with a SpilloverError before anything starts;
 * - a process named in a state file is signalled only when its pid and kernel start time are those
 *   recorded when the harness started it, it runs the command line the harness spawned (directly or
 *   through a script's `#!` interpreter), and its environment carries the
 *   supervisor's per-run token (which the harness put there and a forger cannot put into a process it
 *   did not start) -- a forged file naming someone else's process kills nothing;
 * - key files are deleted only inside the run's own directory (the one whose manifest names that run)
 *   or the state directory, after resolving symlinks, and only regular files owned by this user.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';

const uid = () => process.getuid?.() ?? -1;
const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/** Refuses `dir` unless this user owns it and nobody else can write to it or to a non-sticky parent. */
export function checkTrustedDir(dir: string, what: string, envVar?: string): void {
  const fix = (f: string) => `${f}${envVar ? `, or point ${envVar} at a directory of your own` : ''}`;
  const refuse = (p: string, found: string, f: string) => {
    throw new SpilloverError({
      file: p,
      message: `the ${what} ${p === dir ? '' : `(${dir}) lies in a directory that `}is not safe: another user could plant files there that make Spillover kill processes or delete files`,
      expected:
        p === dir
          ? 'a directory owned by you, not writable by group or others (created 0700)'
          : 'parents owned by you or root, not writable by others unless sticky (like /tmp)',
      found,
      fix: fix(f),
    });
  };
  let p = path.resolve(dir);
  for (let first = true; ; first = false) {
    const link = fs.lstatSync(p);
    if (link.isSymbolicLink() && link.uid !== uid() && link.uid !== 0)
      refuse(p, `a symbolic link owned by uid ${link.uid}`, `remove it: rm ${p}`);
    const st = fs.statSync(p);
    if (!st.isDirectory()) refuse(p, 'not a directory', `remove it: rm ${p}`);
    if (first) {
      if (st.uid !== uid())
        refuse(
          p,
          `owned by uid ${st.uid} (you are uid ${uid()})`,
          `remove it (rm -r ${p}; as its owner or root) so Spillover creates its own`,
        );
      if (st.mode & 0o022)
        refuse(
          p,
          `mode ${octal(st.mode)} (writable by ${st.mode & 0o020 ? 'group' : ''}${(st.mode & 0o022) === 0o022 ? ' and ' : ''}${st.mode & 0o002 ? 'others' : ''})`,
          `chmod 700 ${p}`,
        );
    } else {
      if (st.uid !== uid() && st.uid !== 0) refuse(p, `owned by uid ${st.uid}`, `use a directory under one you own`);
      if (st.mode & 0o022 && !(st.mode & 0o1000)) refuse(p, `mode ${octal(st.mode)}, writable by others and not sticky`, `chmod go-w ${p}`);
    }
    const up = path.dirname(p);
    if (up === p) return;
    p = up;
  }
}

/**
 * Creates `dir` (and missing parents) 0700 if needed and checks it. An existing directory of this user
 * that others may only read is tightened to 0700 (earlier versions created it 0755).
 */
export function ensureTrustedDir(dir: string, what: string, envVar?: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkTrustedDir(dir, what, envVar);
  const st = fs.statSync(dir);
  if (st.mode & 0o077) fs.chmodSync(dir, 0o700);
}

/** What identifies a process the harness started, beyond pid and start time. */
export interface ProcessIdentity {
  /** The command and arguments the harness spawned. */
  argv: string[];
  /** /proc/pid/exe right after the spawn (for the record: a script's interpreter may exec again). */
  exe: string | null;
}

export function processIdentity(pid: number, argv: string[]): ProcessIdentity {
  let exe: string | null = null;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    /* gone or not ours */
  }
  return { argv, exe };
}

const liveArgv = (pid: number): string[] | null => {
  try {
    const parts = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (parts.at(-1) === '') parts.pop();
    return parts;
  } catch {
    return null;
  }
};

/**
 * Whether a live command line is the one spawned: equal, or -- for a script whose `#!` line (e.g.
 * `/usr/bin/env node`) runs an interpreter -- the spawned command line after the interpreter's own
 * words, the script path as PATH resolved it.
 */
function sameCommand(live: string[], argv: string[]): boolean {
  if (live.length < argv.length) return false;
  const off = live.length - argv.length;
  for (let i = 1; i < argv.length; i++) if (live[off + i] !== argv[i]) return false;
  const cmd = argv[0];
  return (
    live[off] === cmd ||
    (!cmd.includes('/') && live[off].endsWith(`/${cmd}`)) ||
    (off === 0 && path.basename(live[0]) === path.basename(cmd))
  );
}

/** The environment variable through which every supervised process carries its supervisor's token. */
export const TOKEN_ENV = 'SPILLOVER_SUPERVISOR_TOKEN';
export const newToken = () => crypto.randomBytes(16).toString('hex');

/**
 * Why the process `pid` is not the one a state file says the harness started, or undefined when it is:
 * the command line spawned, and the supervisor's token in its environment.
 */
export function identityMismatch(pid: number, recorded: Partial<ProcessIdentity>, token: unknown): string | undefined {
  if (typeof token !== 'string' || !/^[0-9a-f]{32}$/.test(token)) return 'the state file has no valid supervisor token';
  const argv = recorded.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
    return 'the state file records no command line';
  const live = liveArgv(pid);
  if (!live) return 'its command line cannot be read';
  if (!sameCommand(live, argv))
    return `its command line (${live.join(' ').slice(0, 80)}) is not the one the harness started (${argv.join(' ').slice(0, 80)})`;
  let env = '';
  try {
    env = `\0${fs.readFileSync(`/proc/${pid}/environ`, 'latin1')}`;
  } catch {
    return 'its environment cannot be read';
  }
  if (!env.includes(`\0${TOKEN_ENV}=${token}\0`)) return 'it does not carry the token of the run that state file belongs to';
  return undefined;
}

/** Whether `child` is `root` or lies below it (both already resolved). */
const within = (child: string, root: string) => {
  const rel = path.relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

const realOrNull = (p: string) => {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
};

/**
 * The directories a run's key directory may lie in: the state directory and the run's own directory --
 * a directory of this user whose manifest.json names this run id (so a state file cannot pass off `/`
 * or a home directory as its run directory).
 */
export function allowedKeyRoots(stateDirectory: string, runDir: unknown, runId: unknown): string[] {
  const roots: string[] = [];
  const s = realOrNull(stateDirectory);
  if (s) roots.push(s);
  if (typeof runDir === 'string' && path.isAbsolute(runDir)) {
    const r = realOrNull(runDir);
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(r ?? '', 'manifest.json'), 'utf8')) as { runId?: unknown };
      if (r && fs.statSync(r).uid === uid() && manifest.runId === runId) roots.push(r);
    } catch {
      /* no manifest: not a run directory */
    }
  }
  return roots;
}

/**
 * Deletes the private keys (key.pem, root-key.pem: the names src/runner/ca.ts writes) under `dir`, if
 * `dir` resolves to a directory strictly inside one of `roots`. Never follows a symbolic link, and
 * deletes only regular files owned by this user. Returns what was deleted (relative, as `certs/...`) and
 * why anything was refused.
 */
export function removeKeyFilesWithin(dir: string, roots: string[] | 'any'): { removed: string[]; refused?: string } {
  const real = realOrNull(dir);
  if (!real) return { removed: [] };
  if (roots !== 'any' && !roots.some((r) => within(real, r) && real !== r)) {
    return {
      removed: [],
      refused: `key directory ${dir}${real !== dir ? ` (${real})` : ''} lies outside the run's own directory and the state directory`,
    };
  }
  const removed: string[] = [];
  const walk = (abs: string, rel: string, depth: number) => {
    if (depth > 8) return;
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const a = path.join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(a, r, depth + 1);
      else if (e.isFile() && (e.name === 'key.pem' || e.name === 'root-key.pem')) {
        try {
          const st = fs.lstatSync(a);
          if (!st.isFile() || st.uid !== uid()) continue;
          fs.rmSync(a, { force: true });
          removed.push(`certs/${r}`);
        } catch {
          /* gone meanwhile */
        }
      }
    }
  };
  walk(real, '', 0);
  return { removed };
}
