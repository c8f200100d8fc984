/**
 * `npm run stress`: kill the harness at random moments, many times, and count what it left behind.
 *
 * Each round runs a time-scaled peak-load experiment through the real CLI as a child process and, at a
 * random moment of its life (start-up, backend coming up, load, teardown, report), sends it SIGINT,
 * SIGTERM, two SIGINTs, or SIGKILL. Then:
 *
 *   orphans   processes of the run still alive -- pids from the run's state file (with their kernel
 *             start time, so a reused pid is not blamed), any process carrying this session's
 *             SPILLOVER_STATE_DIR in its environment that is not part of the harness running now, and
 *             the listeners such processes hold. After SIGINT /
 *             SIGTERM this is checked as soon as the harness has exited; after SIGKILL (which nobody
 *             can handle) it is checked once the NEXT run has done its start-up cleanup, because that
 *             is the promise: leftovers of a killed run are found by run id and removed by the next.
 *   lost      requests the driver counted as started (its `load-done` counters in raw/run-events.ndjson)
 *             but that are missing from raw/requests.ndjson, plus torn (half-written) lines. Complete
 *             runs are also cross-checked with the client Envoy's own request counter.
 *
 * Targets: >= 50 kills, 0 orphans, 0 lost. Exit code 1 when a target is missed.
 *
 *   npm run stress                       # 50 kills, time scale 0.03
 *   npm run stress -- --kills 80 --seed 7
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { mersenne } from 'pure-rand/generator/mersenne';
import { aliveAs, descendsFrom, envoyRequestCount, listenersOfPids, markedProcesses } from '../test/hardening/leftovers.ts';

import { REPO_ROOT } from '../src/util/repo-root.ts';
const CLI = path.join(REPO_ROOT, 'bin/spillover.js');

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '50' },
    'time-scale': { type: 'string', default: '0.03' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    experiment: { type: 'string', default: 'experiments/peak-load.yaml' },
    'budget-min': { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
  },
});
const KILLS = Number(args.kills);
const SEED = Number(args.seed);
const BUDGET_MS = Number(args['budget-min']) * 60_000;

type Kill = 'SIGINT' | 'SIGTERM' | 'SIGINTx2' | 'SIGKILL';
const KILL_KINDS: Kill[] = ['SIGINT', 'SIGTERM', 'SIGINTx2', 'SIGKILL'];
const EXPECTED_CODE: Record<Exclude<Kill, 'SIGKILL'>, number> = { SIGINT: 130, SIGTERM: 143, SIGINTx2: 130 };

// Deterministic choices from --seed, so a failing round can be replayed.
const rng = mersenne(SEED);
const uniform = (lo: number, hi: number) => lo + (hi - lo) * uniformFloat64(rng);
const pick = <T>(xs: T[]) => xs[Math.min(xs.length - 1, Math.floor(uniform(0, xs.length)))];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-stress-'));
const stateDir = path.join(work, 'state');
const outDir = path.join(work, 'out');
const env = { ...process.env, SPILLOVER_STATE_DIR: stateDir, NO_COLOR: '1' };
// Address ranges of its own: runs of other people on this machine claim slots in another state
// directory, so sharing their ranges would make rounds fail for reasons that are not the harness's.
const ADDRESSES = [
  '--set',
  'topology.clusters.cluster-1.addresses=127.0.231.0/24',
  '--set',
  'topology.clusters.cluster-2.addresses=127.0.232.0/24',
];

interface Seen {
  pid: number;
  ticks: string | null;
  name: string;
}

interface Round {
  n: number;
  harnessPid?: number;
  kill?: Kill;
  /** ms after spawn the signal was sent (undefined: the run ended first). */
  atMs?: number;
  phase?: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  runDir?: string;
  runId?: string;
  procs: Seen[];
  orphans: string[];
  lost: number;
  torn: number;
  started?: number;
  recorded: number;
  problems: string[];
  ms: number;
  envoyChecked?: boolean;
}

// ---- what a run is, seen from outside ------------------------------------------------------------

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Record every process named in the run's state files while it is alive to be seen. */
function pollState(round: Round) {
  let files: string[] = [];
  try {
    files = fs.readdirSync(stateDir).filter((f) => f.endsWith('.json'));
  } catch {
    return;
  }
  for (const f of files) {
    const s = readJson<{ runId: string; ownerPid: number; processes: Array<{ name: string; pid: number; startTicks: string | null }> }>(
      path.join(stateDir, f),
    );
    if (!s || s.ownerPid !== round.harnessPid) continue;
    round.runId ??= s.runId;
    for (const p of s.processes)
      if (!round.procs.some((q) => q.pid === p.pid)) round.procs.push({ pid: p.pid, ticks: p.startTicks, name: p.name });
  }
}

function findRunDir(round: Round) {
  // The state file names the run id, which is the run directory's name: no guessing when it exists.
  if (round.runId && fs.existsSync(path.join(outDir, round.runId))) {
    round.runDir = path.join(outDir, round.runId);
    seenRunDirs.add(round.runDir);
    return;
  }
  if (round.runDir) return;
  // --out is the parent of the run directories; at most one new one appears per round.
  for (const id of fs.existsSync(outDir) ? fs.readdirSync(outDir) : []) {
    const dir = path.join(outDir, id);
    if (!seenRunDirs.has(dir)) {
      seenRunDirs.add(dir);
      round.runDir = dir;
      round.runId ??= id;
    }
  }
}
const seenRunDirs = new Set<string>();

/**
 * Processes of a round still alive: pids from its state file (same start time), and any process of
 * this stress session (SPILLOVER_STATE_DIR in its environment, inherited by everything a run starts)
 * that does not belong to the harness running now. After a clean stop there is no harness running,
 * so every such process is an orphan; listeners they hold are the ports not freed.
 */
function orphansOf(round: Round, liveHarness?: number): string[] {
  const out = round.procs.filter((p) => aliveAs(p.pid, p.ticks)).map((p) => `${p.name} (pid ${p.pid})`);
  const strays = markedProcesses(stateDir).filter((p) => !(liveHarness && descendsFrom(p.pid, liveHarness)));
  for (const p of strays) if (!round.procs.some((q) => q.pid === p.pid)) out.push(`pid ${p.pid}: ${p.cmd}`);
  if (!liveHarness) out.push(...listenersOfPids(strays.map((p) => p.pid)).map((l) => `listener ${l.address} (pid ${l.pid})`));
  return out;
}

/** Requests the driver started that raw/requests.ndjson does not hold, and half-written lines. */
function requestAccounting(round: Round) {
  if (!round.runDir) return;
  const events = fs.existsSync(path.join(round.runDir, 'raw/run-events.ndjson'))
    ? fs.readFileSync(path.join(round.runDir, 'raw/run-events.ndjson'), 'utf8')
    : '';
  let started: number | undefined;
  for (const line of events.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as { kind: string; what: string; detail?: { started?: number } };
      if (e.what === 'load-done') started = e.detail?.started;
    } catch {
      round.torn++;
    }
  }
  const ids = new Set<number>();
  const reqFile = path.join(round.runDir, 'raw/requests.ndjson');
  const text = fs.existsSync(reqFile) ? fs.readFileSync(reqFile, 'utf8') : '';
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      ids.add((JSON.parse(line) as { id: number }).id);
    } catch {
      // Only the very last line of a SIGKILLed writer may be cut short; anywhere else it is corruption.
      round.torn++;
      if (i < lines.length - 1 || round.kill !== 'SIGKILL') round.problems.push(`torn line ${i + 1} in raw/requests.ndjson`);
    }
  });
  round.recorded = ids.size;
  round.started = started;
  if (started !== undefined) round.lost = Math.max(0, started - ids.size);
  else if (round.kill !== 'SIGKILL' && ids.size > 0)
    round.problems.push("requests were recorded but the driver's counters (load-done) are missing");
  if (round.lost) round.problems.push(`${round.lost} of ${started} started requests missing from raw/requests.ndjson`);
}

/**
 * The client Envoy's own count of requests (downstream_rq_total of its outbound listener, last scrape)
 * against the driver's records: every request that got an HTTP status went through that Envoy, and
 * Envoy saw no request the driver did not record. Only for complete runs, whose last scrape follows
 * the last response.
 */
function envoyCrossCheck(round: Round) {
  if (!round.runDir || readJson<{ outcome?: string }>(path.join(round.runDir, 'manifest.json'))?.outcome !== 'ok') return;
  const c = envoyRequestCount(round.runDir);
  if (c.envoy === undefined) return;
  round.envoyChecked = true;
  if (c.envoy < c.withStatus || c.envoy > c.recorded) {
    round.problems.push(
      `client Envoy counted ${c.envoy} requests; the driver recorded ${c.recorded}, ${c.withStatus} of them with an HTTP status`,
    );
  }
}

// ---- one round -------------------------------------------------------------------------------------

type RoundState = Round;

async function runRound(n: number, kill: Kill | undefined, atMs: number, waitForPhase?: string, anchor?: string): Promise<RoundState> {
  const t0 = Date.now();
  const round: RoundState = {
    n,
    kill,
    code: null,
    signal: null,
    procs: [],
    orphans: [],
    lost: 0,
    torn: 0,
    recorded: 0,
    problems: [],
    ms: 0,
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'run', args.experiment!, '--time-scale', args['time-scale']!, '--out', outDir, '--quiet', ...ADDRESSES],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  round.harnessPid = child.pid;
  currentHarness = child.pid;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => ((round.code = code), (round.signal = signal), resolve())),
  );
  let done = false;
  void exited.then(() => (done = true));

  // Watch the run from outside while it lives.
  const poll = setInterval(() => {
    pollState(round);
    findRunDir(round);
  }, 20);

  if (waitForPhase) {
    // The start-up cleanup precedes this phase: the round after a SIGKILL checks the recovery here.
    while (!done && Date.now() - t0 < 60_000) {
      findRunDir(round);
      const ev =
        round.runDir && fs.existsSync(path.join(round.runDir, 'raw/run-events.ndjson'))
          ? fs.readFileSync(path.join(round.runDir, 'raw/run-events.ndjson'), 'utf8')
          : '';
      if (ev.includes(`"what":"${waitForPhase}"`)) break;
      await sleep(20);
    }
    await onRecoveryPoint?.();
  }
  // Kill times count from the start, or from a phase so that short phases (load, teardown) get
  // their share of kills too.
  let from = t0;
  if (anchor) {
    while (!done && !readPhases(round).includes(anchor)) {
      findRunDir(round);
      await sleep(10);
    }
    from = Date.now();
  }
  const killAt = from + atMs;
  while (!done && Date.now() < killAt) await sleep(10);
  if (!done && kill) {
    pollState(round);
    findRunDir(round);
    round.atMs = Date.now() - t0;
    round.phase = readPhases(round).pop() ?? 'before-backend';
    if (kill === 'SIGINTx2') {
      child.kill('SIGINT');
      await Promise.race([exited, sleep(uniform(50, 400))]);
      if (!done) child.kill('SIGINT');
    } else child.kill(kill);
  } else round.kill = undefined;

  const hang = await Promise.race([exited.then(() => false), sleep(60_000).then(() => true)]);
  if (hang) {
    round.problems.push('harness did not exit within 60 s of the signal; SIGKILLed it');
    child.kill('SIGKILL');
    await exited;
  }
  clearInterval(poll);
  pollState(round);
  findRunDir(round);
  round.ms = Date.now() - t0;

  if (round.kill && round.kill !== 'SIGKILL') {
    // A signal that lands before the CLI has installed its handlers (while Node and tsx load) ends the
    // process the default way; nothing has been started then, so that is a clean end too.
    const early = round.signal === (round.kill === 'SIGINTx2' ? 'SIGINT' : round.kill) && round.procs.length === 0 && !round.runDir;
    // A signal during teardown, after the measurement ended and the outcome was written, only hurries
    // the teardown: the run is complete and says so.
    const m0 = round.runDir ? readJson<{ outcome?: string }>(path.join(round.runDir, 'manifest.json')) : undefined;
    const late = round.phase === 'backend-down' && round.code === 0 && m0?.outcome === 'ok';
    if (late) {
      /* complete run */
    } else if (round.code !== EXPECTED_CODE[round.kill] && !early)
      round.problems.push(`exit code ${round.code ?? round.signal}, expected ${EXPECTED_CODE[round.kill]} for ${round.kill}`);
    const m = round.runDir ? readJson<{ outcome?: string }>(path.join(round.runDir, 'manifest.json')) : undefined;
    if (m && !late && m.outcome !== 'interrupted' && round.kill !== 'SIGINTx2')
      round.problems.push(`manifest outcome ${m.outcome}, expected interrupted`);
  } else if (!round.kill && round.code !== 0 && round.code !== 99) {
    round.problems.push(`uninterrupted run exited ${round.code ?? round.signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  requestAccounting(round);
  envoyCrossCheck(round);
  // Orphans of a cleanly stopped run are checked now; a SIGKILLed one is the next round's to recover.
  if (round.kill !== 'SIGKILL') {
    await sleep(300); // a process that got SIGKILL a moment ago still needs the kernel to reap it
    round.orphans = orphansOf(round);
  }
  return round;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let onRecoveryPoint: (() => Promise<void>) | undefined;
let currentHarness: number | undefined;
const nextHarness = () => currentHarness;

// ---- main --------------------------------------------------------------------------------------------

async function main() {
  const began = Date.now();
  process.stderr.write(`stress: seed ${SEED}, ${KILLS} kills, time scale ${args['time-scale']}, work dir ${work}\n`);

  // Calibration: one uninterrupted run gives the lifetime to spread kills over, and checks that a
  // complete run loses nothing either.
  const rounds: RoundState[] = [];
  const first = await runRound(0, undefined, Infinity);
  rounds.push(first);
  report(first);
  const lifeMs = first.ms;
  // The load phase's length, from the calibration run's own events.
  const ev = first.runDir ? fs.readFileSync(path.join(first.runDir, 'raw/run-events.ndjson'), 'utf8') : '';
  const tOf = (what: string) => Number(new RegExp(`"t":(-?[\\d.]+),"kind":"phase","what":"${what}"`).exec(ev)?.[1] ?? NaN);
  const loadMs = Number.isFinite(tOf('load-done') - tOf('load')) ? (tOf('load-done') - tOf('load')) * 1000 : lifeMs / 3;

  let kills = 0;
  let pendingSigkill: RoundState[] = [];
  while (kills < KILLS && Date.now() - began < BUDGET_MS) {
    const kill = pick(KILL_KINDS);
    // Mostly inside the run's life; a few right at start-up, where the fewest things exist to clean up.
    const where = uniform(0, 1);
    // 10 % right at start-up, 40 % anywhere, 30 % in the load, 20 % in teardown and report.
    const [anchor, atMs] =
      where < 0.1
        ? [undefined, uniform(0, 400)]
        : where < 0.5
          ? [undefined, uniform(0, lifeMs * 0.95)]
          : where < 0.8
            ? ['load', uniform(0, loadMs)]
            : ['load-done', uniform(0, 1500)];
    const toRecover = pendingSigkill;
    onRecoveryPoint = toRecover.length
      ? async () => {
          await sleep(300);
          for (const r of toRecover) {
            r.orphans = orphansOf(r, nextHarness());
            report(r, 'recovered by the next run');
          }
        }
      : undefined;
    const r = await runRound(rounds.length, kill, atMs, toRecover.length ? 'backend-up' : undefined, anchor);
    rounds.push(r);
    if (r.kill) kills++;
    pendingSigkill = r.kill === 'SIGKILL' ? [r] : [];
    // A round that ended before reaching backend-up did not get to clean up: carry the debt forward.
    if (toRecover.length && !readPhases(r).includes('backend-up')) pendingSigkill = [...toRecover, ...pendingSigkill];
    if (r.kill !== 'SIGKILL') report(r);
  }
  // The last SIGKILLed runs are recovered by one more, uninterrupted run.
  if (pendingSigkill.length) {
    const toRecover = pendingSigkill;
    onRecoveryPoint = async () => {
      await sleep(300);
      for (const r of toRecover) {
        r.orphans = orphansOf(r, nextHarness());
        report(r, 'recovered by the final run');
      }
    };
    const last = await runRound(rounds.length, undefined, Infinity, 'backend-up');
    rounds.push(last);
    report(last);
  }

  const killed = rounds.filter((r) => r.kill);
  const orphans = rounds.reduce((s, r) => s + r.orphans.length, 0);
  const lost = rounds.reduce((s, r) => s + r.lost, 0);
  const problems = rounds.flatMap((r) => r.problems.map((p) => `round ${r.n}: ${p}`));
  const byKind = Object.fromEntries(KILL_KINDS.map((k) => [k, killed.filter((r) => r.kill === k).length]));
  const byPhase: Record<string, number> = {};
  for (const r of killed) byPhase[r.phase ?? 'before-run-dir'] = (byPhase[r.phase ?? 'before-run-dir'] ?? 0) + 1;
  const verified = rounds.filter((r) => r.started !== undefined).length;
  const summary = {
    seed: SEED,
    runs: rounds.length,
    kills: killed.length,
    killsBySignal: byKind,
    killsByLastPhase: byPhase,
    orphans,
    lost,
    requestsStarted: rounds.reduce((s, r) => s + (r.started ?? 0), 0),
    requestsRecorded: rounds.reduce((s, r) => s + r.recorded, 0),
    runsWithDriverCounters: verified,
    runsCrossCheckedWithEnvoy: rounds.filter((r) => r.envoyChecked).length,
    tornLinesAtSigkill: rounds.filter((r) => r.kill === 'SIGKILL').reduce((s, r) => s + r.torn, 0),
    problems: problems.length,
    minutes: Number(((Date.now() - began) / 60_000).toFixed(1)),
  };
  process.stdout.write(
    `\nruns ${summary.runs}  kills ${summary.kills} ${JSON.stringify(byKind)}  orphans ${orphans}  lost ${lost}  problems ${problems.length}  (${summary.minutes} min)\n`,
  );
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  for (const p of problems) process.stdout.write(`  ${p}\n`);
  const ok = killed.length >= 50 || KILLS < 50 ? orphans === 0 && lost === 0 && problems.length === 0 && killed.length >= KILLS : false;
  if (!ok) process.stdout.write(`FAILED: target is >= ${KILLS} kills, 0 orphans, 0 lost, no problems\n`);
  if (!args.keep) fs.rmSync(work, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}

function readPhases(r: Round): string[] {
  if (!r.runDir) return [];
  try {
    return [...fs.readFileSync(path.join(r.runDir, 'raw/run-events.ndjson'), 'utf8').matchAll(/"kind":"phase","what":"([^"]+)"/g)].map(
      (m) => m[1],
    );
  } catch {
    return [];
  }
}

function report(r: Round, note = '') {
  const what = r.kill
    ? `${r.kill.padEnd(8)} at ${((r.atMs ?? 0) / 1000).toFixed(2)}s (in ${r.phase ?? 'start-up'})`
    : 'ran to the end'.padEnd(30);
  const exit = r.signal ?? r.code;
  process.stderr.write(
    `  #${String(r.n).padStart(3)} ${what.padEnd(40)} exit ${String(exit).padEnd(7)} procs ${String(r.procs.length).padEnd(2)} requests ${r.recorded}/${r.started ?? '-'}  orphans ${r.orphans.length}${note ? ` (${note})` : ''}${r.orphans.length ? `: ${r.orphans.join(', ')}` : ''}${r.problems.length ? `  !! ${r.problems.join('; ')}` : ''}\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`stress: ${(e as Error).stack}\n`);
  process.exit(2);
});
