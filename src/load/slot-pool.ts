/**
 * The arrival-rate executors' VU pool (k6 §1.4), as pure state so the dropping rule can be tested with
 * a fake clock. A due iteration takes an idle slot or is dropped — never queued. A drop asks for one
 * more slot if maxVUs allows; like k6's single background initialiser, only one growth is pending at a
 * time and the new slot only serves later iterations (the driver completes growth on its next turn).
 */
export class SlotPool {
  allocated: number;
  busy = 0;
  dropped = 0;
  growthPending = false;
  /** Set once when a drop finds the pool at maxVUs: k6 logs "Insufficient VUs" exactly once. */
  exhaustedWarning = false;

  constructor(
    readonly preAllocated: number,
    readonly max: number,
  ) {
    this.allocated = preAllocated;
  }

  /** True when the iteration may start (a slot is now busy); false when it was dropped. */
  tryAcquire(): boolean {
    if (this.busy < this.allocated) {
      this.busy++;
      return true;
    }
    this.dropped++;
    if (this.allocated < this.max) this.growthPending = true;
    else this.exhaustedWarning = true;
    return false;
  }

  release(): void {
    this.busy--;
  }

  /** The pending extra slot is ready. Returns whether one was added. */
  completeGrowth(): boolean {
    if (!this.growthPending) return false;
    this.growthPending = false;
    this.allocated++;
    return true;
  }
}
