/**
 * The capacity model: `concurrency` slots and a bounded FIFO queue. A request that finds every slot
 * busy and the queue full is refused at once, which is how an overloaded pod's 503s look to Envoy.
 */
export type Admission = 'run' | 'queued' | 'rejected';

export class CapacityModel<T> {
  private running = 0;
  private readonly waiting: T[] = [];

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  offer(job: T): Admission {
    if (this.running < this.concurrency) {
      this.running++;
      return 'run';
    }
    if (this.waiting.length < this.queueLimit) {
      this.waiting.push(job);
      return 'queued';
    }
    return 'rejected';
  }

  /** A running job finished: returns the next queued job, which now holds the freed slot. */
  done(): T | undefined {
    const next = this.waiting.shift();
    if (next === undefined) this.running--;
    return next;
  }

  /** Drop a queued job whose client went away; false if it was not waiting. */
  cancel(job: T): boolean {
    const i = this.waiting.indexOf(job);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }
}
