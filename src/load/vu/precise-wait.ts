/**
 * Waiting for a due time with sub-millisecond precision, for the VU executors. A plain setTimeout
 * fires at the next whole millisecond or later (measured: the VU path's start lag p99 was 2-9 ms at
 * 2000/s where the iterations themselves took 0.5 ms), so the timer is set ~1.5 ms early and the rest
 * is waited with setImmediate turns, which let I/O callbacks run in between (the fast path's scheduler
 * does the same, driver.ts scheduleNext). A wait ends early when the run stops (`sleepers`).
 */
import { preciseNowMs } from './vu-state.ts';

/** Below this the rest of a wait is done with setImmediate turns instead of a timer. */
const SPIN_MS = 1.5;

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
      else imm = setImmediate(turn);
    };
    sleepers.add(done);
    turn();
  });
}
