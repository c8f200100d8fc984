/**
 * The fast path's one scheduler loop: no timer per request. It sleeps with one setTimeout until just
 * before the next thing is due, then naps and spins on setImmediate (still serving I/O between turns)
 * and calls `turn` when the time has come. The driver (driver-core.ts) decides what is due and when;
 * this file only decides how to wait for it.
 */
import { performance } from 'node:perf_hooks';

/**
 * Within this many ms of the next due time the loop spins on setImmediate instead of sleeping: Node's
 * timers have 1 ms granularity and wake late. Measured on this (shared, oversubscribed) 2-core machine:
 * at 1000/s spinning gave p50 start lag 0.003-0.03 ms against 0.9-1.5 ms sleeping, at 3000/s the
 * spinning process was preempted more and did worse. Precision is the default; DriverOptions.spinMs = 0
 * trades it for less CPU.
 */
export const SPIN_MS = 1.5;

/**
 * The "spin" sleeps in slices of at most NAP_MS (a futex wait with sub-ms precision, unlike timers) and
 * polls I/O between slices. Measured at 1000/s on the shared machine, three runs each: a pure
 * setImmediate spin used ~750 µs CPU per request (p50 lag 0.003 ms), napping ~270 µs (p50 lag
 * 0.08-0.11 ms); at 2000/s on a calmer machine p99 lag was 2.9-24 ms napping against 6.9-21 ms spinning.
 * p99 is dominated by other load on the machine either way. A response arriving during a slice is seen at
 * most NAP_MS late, which bounds the error this adds to recorded end times.
 */
const NAP_MS = 0.2;
const napCell = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number) => {
  if (ms > 0.02) Atomics.wait(napCell, 0, 0, Math.min(ms, NAP_MS));
};

export class Scheduler {
  private timer?: NodeJS.Timeout;
  /** performance.now() of the next thing the driver must do; 0 = now. */
  private nextWake = 0;
  private immediate?: NodeJS.Immediate;

  constructor(
    private readonly turn: () => void,
    private readonly fail: (e: unknown) => void,
    private readonly spinMs = SPIN_MS,
  ) {}

  /** Run a turn as soon as possible (a start, an abort). */
  wakeSoon(): void {
    this.nextWake = 0;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.immediate) this.immediate = setImmediate(this.pump);
  }

  /** After a turn: run the next one at `next` (performance.now() ms). */
  wakeAt(next: number): void {
    this.nextWake = next;
    const delta = next - performance.now();
    if (delta > this.spinMs) this.timer = setTimeout(this.pump, Math.max(1, delta - 1.2));
    else {
      nap(delta);
      this.immediate = setImmediate(this.pump);
    }
  }

  private readonly pump = (): void => {
    this.immediate = undefined;
    this.timer = undefined;
    // Spinning towards the next due time: a clock read per turn, not a full scheduler turn.
    const wait = this.nextWake - performance.now();
    if (wait > 0) {
      nap(wait);
      this.immediate = setImmediate(this.pump);
      return;
    }
    try {
      this.turn();
    } catch (e) {
      this.fail(e);
    }
  };
}
