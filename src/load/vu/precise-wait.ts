/**
 * Waiting for a due time with sub-millisecond precision, for the VU executors. A plain setTimeout
 * fires at the next whole millisecond or later (measured: the VU path's start lag p99 was 2-9 ms at
 * 2000/s where the iterations themselves took 0.5 ms), so the timer is set ~1.5 ms early and the rest
 * is waited with setImmediate turns, which let I/O callbacks run in between, each after a nap of at
 * most 0.2 ms (Atomics.wait: a futex wait with sub-ms precision) — the fast path's scheduler does the
 * same (driver.ts scheduleNext/nap, measured there: a pure setImmediate spin cost ~750 µs CPU per
 * request at 1000/s, napping ~270 µs). A wait ends early when the run stops (`sleepers`).
 */
import { preciseNowMs } from './vu-state.ts';

/** Below this the rest of a wait is done with setImmediate turns instead of a timer. */
const SPIN_MS = 1.5;
const NAP_MS = 0.2;
const napCell = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number) => {
  if (ms > 0.02) Atomics.wait(napCell, 0, 0, Math.min(ms, NAP_MS));
};

export function preciseWait(ms: number, sleepers: Set<() => void>, stopped: () => boolean): Promise<void> {
  if (ms <= 0 || stopped()) return Promise.resolve();
  const due = preciseNowMs() + ms;
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let imm: NodeJS.Immediate | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      if (imm) clearImmediate(imm);
      sleepers.delete(done);
      resolve();
    };
    const turn = () => {
      timer = undefined;
      const left = due - preciseNowMs();
      if (left <= 0) return done();
      if (left > SPIN_MS) timer = setTimeout(turn, Math.max(1, Math.floor(left - SPIN_MS)));
      else {
        nap(left);
        imm = setImmediate(turn);
      }
    };
    sleepers.add(done);
    turn();
  });
}
