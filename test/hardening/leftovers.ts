/**
 * What a run can leave behind, seen from outside the harness: processes named in its state file
 * (checked with their kernel start time, so a reused pid is not blamed), listeners on its loopback
 * addresses, and a run started as a child process whose phases can be awaited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './harness.ts';

export interface StateProcess {
  name: string;
  pid: number;
  startTicks: string | null;
}

/** Processes listed in the state files of a state directory, by run id. */
export function stateProcesses(stateDir: string): Map<string, StateProcess[]> {
  const out = new Map<string, StateProcess[]>();
  let files: string[] = [];
  try {
    files = fs.readdirSync(stateDir).filter((f) => f.endsWith('.json'));
  } catch {
    return out;
  }
  for (const f of files) {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(stateDir, f), 'utf8')) as { runId: string; processes: StateProcess[] };
      out.set(s.runId, s.processes);
    } catch {
      /* being rewritten */
    }
  }
  return out;
}

/** Alive, not a zombie, and the same process (start time) as recorded. */
export function aliveAs(pid: number, ticks: string | null): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[0] !== 'Z' && (ticks === null || rest[19] === ticks);
  } catch {
    return false;
  }
}

/**
 * Live processes whose environment carries SPILLOVER_STATE_DIR=<stateDir>: everything a run started
 * inherits it (Envoys, services and anything they spawn), and a test's state directory is unique, so
 * this finds leftovers even when a pid never made it into a state file -- and never blames the runs
 * of other people sharing the machine and its loopback addresses.
 */
export function markedProcesses(stateDir: string): Array<{ pid: number; ppid: number; cmd: string }> {
  const marker = `SPILLOVER_STATE_DIR=${stateDir}\0`;
  const out: Array<{ pid: number; ppid: number; cmd: string }> = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (!`${fs.readFileSync(`/proc/${d}/environ`, 'utf8')}\0`.includes(marker)) continue;
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue;
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120);
      // The test process's own tsx compiler service (started after a test set the variable) is not the run's.
      if (Number(rest[1]) === process.pid && /esbuild --service/.test(cmd)) continue;
      out.push({ pid: Number(d), ppid: Number(rest[1]), cmd });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

/** True when pid is ancestor or a descendant of it (walking parent links in /proc). */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid, i = 0; p > 1 && i < 64; i++) {
    if (p === ancestor) return true;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** Every loopback address written into the run's generated configs. */
export function runIps(runDir: string): string[] {
  const dir = path.join(runDir, 'config');
  const ips = new Set<string>();
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\b127\.0\.\d{1,3}\.\d{1,3}\b/g)) ips.add(m[0]);
  }
  return [...ips];
}

/** Listening TCP sockets from /proc/net/tcp as `ip:port`, optionally only on some addresses. */
export function listeners(ips?: string[]): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] !== '0A') continue; // 0A = LISTEN
    const [hex, port] = cols[1].split(':');
    const ip = (hex.match(/../g) ?? [])
      .reverse()
      .map((h) => parseInt(h, 16))
      .join('.');
    if (!ips || ips.includes(ip)) out.push(`${ip}:${parseInt(port, 16)}`);
  }
  return out;
}

/** Listening sockets with the pid holding each (from /proc/<pid>/fd -> socket inode). */
export function listenersOfPids(pids: number[]): Array<{ pid: number; address: string }> {
  const inodeToPid = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodeToPid.set(m[1], pid);
      } catch {
        /* closed meanwhile */
      }
    }
  }
  const out: Array<{ pid: number; address: string }> = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const pid = inodeToPid.get(cols[9]);
      if (pid === undefined) continue;
      const [hex, port] = cols[1].split(':');
      const ip = v6
        ? v6Address(hex)
        : (hex.match(/../g) ?? [])
            .reverse()
            .map((h) => parseInt(h, 16))
            .join('.');
      out.push({ pid, address: `${ip}:${parseInt(port, 16)}` });
    }
  }
  return out;
}

/** /proc/net/tcp6 prints the address as four little-endian 32-bit words. */
function v6Address(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse());
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(`${bytes[i]}${bytes[i + 1]}`.replace(/^0+(?=.)/, '').toLowerCase());
  const s = groups.join(':');
  if (s === '0:0:0:0:0:0:0:0') return '::';
  if (s === '0:0:0:0:0:0:0:1') return '::1';
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(s);
  if (mapped) {
    const n = (parseInt(mapped[1], 16) << 16) | parseInt(mapped[2], 16);
    return `::ffff:${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}`;
  }
  return s;
}

export interface CliRun {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** The run directory, once it exists. */
  runDir(): string | undefined;
  /** Resolves when raw/run-events.ndjson records this phase (or rejects when the run ended first). */
  phase(what: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the run's state file lists at least n processes. */
  processes(n: number, timeoutMs?: number): Promise<StateProcess[]>;
}

/** `spillover run <file>` as a child process with its own state and results directories. */
export function spawnRun(file: string, opts: { stateDir: string; out: string; args?: string[] }): CliRun {
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/spillover.js'), 'run', file, '--out', opts.out, '--quiet', ...(opts.args ?? [])],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, SPILLOVER_STATE_DIR: opts.stateDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      ended = true;
      resolve({ code, signal });
    }),
  );
  const runDir = () => {
    const ids = fs.existsSync(opts.out) ? fs.readdirSync(opts.out) : [];
    return ids.length ? path.join(opts.out, ids[0]) : undefined;
  };
  const waitFor = async <T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (ended) throw new Error(`the run ended before ${what}; stderr:\n${err}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; stderr:\n${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    child,
    exited,
    stderr: () => err,
    runDir,
    phase: (what, timeoutMs = 45_000) =>
      waitFor(
        `phase ${what}`,
        () => {
          const dir = runDir();
          const f = dir && path.join(dir, 'raw/run-events.ndjson');
          return f && fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes(`"kind":"phase","what":"${what}"`) ? true : undefined;
        },
        timeoutMs,
      ).then(() => undefined),
    processes: (n, timeoutMs = 45_000) =>
      waitFor(
        `${n} processes`,
        () => {
          const all = [...stateProcesses(opts.stateDir).values()].flat();
          return all.length >= n ? all : undefined;
        },
        timeoutMs,
      ),
  };
}

/** Requests the driver counted as started (load-done) and the distinct ids raw/requests.ndjson holds. */
export function requestCounts(runDir: string): { started?: number; recorded: number; torn: number } {
  let started: number | undefined;
  const events = path.join(runDir, 'raw/run-events.ndjson');
  for (const line of (fs.existsSync(events) ? fs.readFileSync(events, 'utf8') : '').split('\n')) {
    if (line.includes('"what":"load-done"')) started = (JSON.parse(line) as { detail: { started: number } }).detail.started;
  }
  const ids = new Set<number>();
  let torn = 0;
  const reqs = path.join(runDir, 'raw/requests.ndjson');
  for (const line of (fs.existsSync(reqs) ? fs.readFileSync(reqs, 'utf8') : '').split('\n')) {
    if (!line.trim()) continue;
    try {
      ids.add((JSON.parse(line) as { id: number }).id);
    } catch {
      torn++;
    }
  }
  return { started, recorded: ids.size, torn };
}

/**
 * The client Envoy's own request count (downstream_rq_total of its traffic listeners, last good
 * scrape) next to the driver's records: every request with an HTTP status went through that Envoy,
 * and it saw none the driver did not record. Meaningful for complete runs, whose last scrape follows
 * the last response.
 */
export function envoyRequestCount(runDir: string): { envoy?: number; recorded: number; withStatus: number } {
  const file = path.join(runDir, 'raw/scrapes/client.ndjson');
  const lines = fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
    : [];
  const last = lines
    .map((l) => JSON.parse(l) as { ok: boolean; samples?: Array<[string, Record<string, string>, number]> })
    .filter((r) => r.ok && r.samples)
    .pop();
  const envoy = last
    ?.samples!.filter(
      ([n, l]) => n.endsWith('downstream_rq_total') && !n.startsWith('envoy_listener') && l.envoy_http_conn_manager_prefix !== 'admin',
    )
    .reduce((sum, [, , v]) => sum + v, 0);
  let recorded = 0;
  let withStatus = 0;
  const reqs = path.join(runDir, 'raw/requests.ndjson');
  for (const line of (fs.existsSync(reqs) ? fs.readFileSync(reqs, 'utf8') : '').split('\n')) {
    if (!line.trim()) continue;
    recorded++;
    if ((JSON.parse(line) as { status: number }).status > 0) withStatus++;
  }
  return { envoy, recorded, withStatus };
}
