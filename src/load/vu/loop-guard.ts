/**
 * Interrupting a loop that never yields. k6 can interrupt goja at any instruction; here an iteration is
 * ordinary JavaScript on the event loop, so a `while (true) {}` with no call inside would block every
 * VU and the run's timers for good. The async transform (async-transform.ts) puts a counter at every
 * loop's back edge: `if ((++__k6vu.loops & MASK) === 0) __k6vu.loopCheck("<where>")` — one increment
 * per loop turn, and a clock read every 2^20 turns (~1-5 ms of a tight loop), so the cost for loops that
 * do end is a few nanoseconds per turn.
 *
 * The check ends the iteration (LoopInterrupt, counted as interrupted, and logged with the script, line
 * and loop) when the scenario's hard end (gracefulStop after its end: where k6 interrupts) has passed,
 * or when the loop has held the event loop — every VU, the schedule, the timers — for BLOCKED_MS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Interrupt, preciseNowMs } from './vu-state.ts';

/** Turns between clock reads (a power of two minus one, for the mask). */
export const LOOP_MASK = 0xfffff;
/** An event loop held this long by one loop is a script that cannot go on (it stops every VU). */
export const BLOCKED_MS = 10_000;

export class LoopInterrupt extends Interrupt {}

/** When the event loop last turned (a heartbeat the engine runs while iterations run), or undefined. */
const heartbeat: { at?: number; timer?: NodeJS.Timeout; users: number } = { users: 0 };

/** Starts the heartbeat for a run; returns its stop function. */
export function startHeartbeat(): () => void {
  heartbeat.users++;
  if (!heartbeat.timer) {
    heartbeat.at = preciseNowMs();
    heartbeat.timer = setInterval(() => (heartbeat.at = preciseNowMs()), 100);
    heartbeat.timer.unref();
  }
  return () => {
    if (--heartbeat.users > 0 || !heartbeat.timer) return;
    clearInterval(heartbeat.timer);
    heartbeat.timer = undefined;
    heartbeat.at = undefined;
  };
}

/** `where` is "<file comment>\u0000<bundled line>\u0000<loop head>" (async-transform.ts). */
export function describeLoop(where: string): string {
  const [file, bundledLine, head] = where.split('\u0000');
  const norm = (s: string) => s.replace(/\s+/g, '');
  let line: number | undefined;
  try {
    const lines = fs.readFileSync(path.resolve(file), 'utf8').split('\n');
    const want = norm(head);
    const i = lines.findIndex((l) => want.length > 0 && norm(l).includes(want.slice(0, Math.min(want.length, 40))));
    if (i >= 0) line = i + 1;
  } catch {
    // Not readable from here: the bundled line is still named.
  }
  const at = line === undefined ? `${file} (line ${bundledLine} of the bundled script)` : `${file}:${line}`;
  return `${at}: \`${head.trim()}\``;
}

export function loopCheck(vu: { deadlineMs: number; loops: number }, where: string): void {
  const now = preciseNowMs();
  const blocked = heartbeat.at !== undefined ? now - heartbeat.at : 0;
  if (now <= vu.deadlineMs && blocked <= BLOCKED_MS) return;
  const why =
    now > vu.deadlineMs
      ? 'ran past the scenario hard end (gracefulStop), where k6 interrupts it'
      : `held the event loop for ${(blocked / 1000).toFixed(1)} s, which stops every VU`;
  throw new LoopInterrupt(
    `iteration interrupted: a loop at ${describeLoop(where)} never yields (no call inside) and ${why}; ` +
      'put a bound on the loop, or a call such as sleep() inside it',
  );
}
