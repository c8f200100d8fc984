/**
 * Every request in flight, in one FIFO ordered by send time. It implements the request timeout,
 * gracefulStop hard cuts and the abort without a timer per request: the oldest entry is the next to
 * expire, so a sweep looks at O(expired) entries.
 */
import type { RequestHandler } from './request-handler.ts';
import type { ScenarioRun } from './scenario-run.ts';

export class InflightQueue {
  private q: RequestHandler[] = [];
  private head = 0;
  /**
   * True while a sweep walks the FIFO. A cut completes its request synchronously (undici calls onError
   * from abort), and the driver's requestDone must then not release the head: that would clear entries
   * the sweep is about to read (the TypeError of issue 11, when the oldest request was cut while newer
   * ones had already finished). endSweep() releases the head itself.
   */
  private sweeping = false;

  push(h: RequestHandler): void {
    this.q.push(h);
  }

  /** `h` has just ended: drop the finished front of the queue, unless a sweep is walking it. */
  ended(h: RequestHandler): void {
    if (!this.sweeping && this.q[this.head] === h) this.releaseHead();
  }

  /** Send time of the oldest request in flight, or undefined. */
  oldestSentMs(): number | undefined {
    return this.q.length > this.head ? this.q[this.head].sentMs : undefined;
  }

  /**
   * Drop finished handlers from the front. Left referenced, thousands of dead handlers survive every
   * scavenge and the GC cost per request doubles.
   */
  private releaseHead(): void {
    const q = this.q;
    while (this.head < q.length && q[this.head].done) q[this.head++] = undefined as never;
  }

  /**
   * Starts a sweep: entries are never cleared until endSweep(), and the array is not replaced, so every
   * index between the head and the end stays a handler; a cut may append (the catch-up it triggers).
   */
  beginSweep(): void {
    this.releaseHead();
    if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    this.sweeping = true;
  }

  endSweep(): void {
    this.sweeping = false;
    this.releaseHead();
  }

  /** Marks the queue as being walked without compacting it (a forced exit cuts from inside a turn, too). */
  holdForExit(): void {
    this.sweeping = true;
  }

  /** Cuts every request sent at or before `expiry`. */
  cutSentBefore(expiry: number, reason: () => Error): void {
    const live = this.q;
    // A cut request can release the head (releaseHead), which blanks the done entries after it: skip blanks.
    for (let i = this.head; i < live.length && (!live[i] || live[i].sentMs <= expiry); i++)
      if (live[i] && !live[i].done) live[i].cut(reason());
  }

  /** Cuts every request of `run` (all runs when undefined). */
  cutRun(run: ScenarioRun | undefined, reason: () => Error): void {
    const live = this.q;
    for (let i = this.head; i < live.length; i++)
      if (live[i] && !live[i].done && (run === undefined || live[i].it.run === run)) live[i].cut(reason());
  }

  /** Ends every request still in flight by calling `end` on it, for a forced exit (see Driver.cutAllNow). */
  endAll(end: (h: RequestHandler) => void): void {
    const q = this.q;
    for (let i = this.head; i < q.length; i++) {
      const h = q[i];
      if (!h || h.done) continue;
      end(h);
    }
  }
}
