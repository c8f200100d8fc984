/**
 * A service instance's fault switch: what the harness (or a test) set, for how long, and what it
 * means for the next request. Rates are applied evenly, not randomly, so runs stay comparable.
 */
import { z } from 'zod';

export const ServiceFaultSpec = z.strictObject({
  /**
   * ok: normal; error503: every request gets 503; error: a share (`rate`) gets `code`; reset: (a share
   * of) connections are cut; delay: every request waits `delayMs` first; stall: requests hang.
   */
  mode: z.enum(['ok', 'error503', 'error', 'reset', 'delay', 'stall']),
  /** After this long the service returns to ok (stalled requests then proceed); absent = until changed. */
  durationMs: z.number().nonnegative().optional(),
  code: z.number().int().min(500).max(599).optional(),
  /** Share of requests affected (error, reset); default 1. */
  rate: z.number().min(0).max(1).optional(),
  delayMs: z.number().nonnegative().optional(),
});
export type ServiceFault = z.infer<typeof ServiceFaultSpec>;

/** What to do with one request under the current fault. */
export type FaultVerdict =
  { kind: 'pass' } | { kind: 'status'; status: number } | { kind: 'reset' } | { kind: 'delay'; ms: number } | { kind: 'stall' };

export class FaultSwitch {
  private spec: ServiceFault = { mode: 'ok' };
  private timer: NodeJS.Timeout | undefined;
  // Every request adds `rate`; each whole unit is one fault: 0.25 faults exactly every fourth request.
  private credit = 0;

  /** `onChange` runs after every change (also the timed return to ok), e.g. to release stalled requests. */
  constructor(private readonly onChange: (f: ServiceFault) => void) {}

  get mode(): ServiceFault['mode'] {
    return this.spec.mode;
  }

  set(f: ServiceFault): void {
    clearTimeout(this.timer);
    this.spec = f;
    this.credit = 0;
    if (f.mode !== 'ok' && f.durationMs !== undefined) this.timer = setTimeout(() => this.set({ mode: 'ok' }), f.durationMs);
    this.onChange(f);
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  verdict(): FaultVerdict {
    const f = this.spec;
    switch (f.mode) {
      case 'error503':
        return { kind: 'status', status: 503 };
      case 'error':
        return this.due() ? { kind: 'status', status: f.code ?? 503 } : { kind: 'pass' };
      case 'reset':
        return this.due() ? { kind: 'reset' } : { kind: 'pass' };
      case 'delay':
        return (f.delayMs ?? 0) > 0 ? { kind: 'delay', ms: f.delayMs! } : { kind: 'pass' };
      case 'stall':
        return { kind: 'stall' };
      default:
        return { kind: 'pass' };
    }
  }

  private due(): boolean {
    this.credit += this.spec.rate ?? 1;
    if (this.credit < 1 - 1e-9) return false;
    this.credit -= 1;
    return true;
  }
}
