/**
 * Reads the fields of one k6 scenario object with k6's rules (durations, counts, stages, the slot
 * pool), recording a problem for each bad one and returning a harmless value so that reading goes on
 * and every problem of the file is reported at once. Each executor file uses it for its own fields.
 */
import { parseK6DurationSeconds } from '../../util/duration.ts';
import { show, type Problems } from '../scenario-problems.ts';
import type { Stage } from '../types.ts';

export class ScenarioFields {
  constructor(
    /** The scenario object as the script exported it. */
    readonly raw: Record<string, unknown>,
    /** The option path of a field, for messages (e.g. options.scenarios.main.rate). */
    readonly path: (key: string) => string,
    readonly problems: Problems,
  ) {}

  /** A k6 duration in seconds; `def` when absent (required when there is no default). */
  dur(k: string, opt: { def?: number; min?: number; positive?: boolean } = {}): number {
    const v = this.raw[k];
    if (v === undefined) {
      if (opt.def === undefined) {
        this.problems.add({
          path: this.path(k),
          message: 'required',
          expected: 'a k6 duration such as "30s" or "1m30s"',
          found: 'nothing',
        });
        return 0;
      }
      return opt.def;
    }
    const s = parseK6DurationSeconds(v);
    if (s === undefined) {
      this.problems.add({
        path: this.path(k),
        message: 'not a k6 duration',
        expected: 'e.g. "500ms", "30s", "1m30s" (a number means milliseconds)',
        found: show(v),
      });
      return 0;
    }
    if (s < 0 || (opt.positive && s <= 0) || (opt.min !== undefined && s < opt.min)) {
      this.problems.add({
        path: this.path(k),
        message: 'duration out of range',
        expected: opt.min !== undefined ? `at least ${opt.min}s` : opt.positive ? 'greater than 0' : 'at least 0',
        found: show(v),
      });
    }
    return s;
  }

  /** An integer count >= `min`; `def` when absent (required when there is no default). */
  int(k: string, opt: { def?: number; min: number }): number {
    const v = this.raw[k];
    if (v === undefined) {
      if (opt.def === undefined) {
        this.problems.add({ path: this.path(k), message: 'required', expected: `an integer >= ${opt.min}`, found: 'nothing' });
        return 0;
      }
      return opt.def;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < opt.min) {
      this.problems.add({ path: this.path(k), message: 'not a valid count', expected: `an integer >= ${opt.min}`, found: show(v) });
      return 0;
    }
    return v;
  }

  /** `stages`: at least one { duration, target }. */
  stages(): Stage[] {
    const v = this.raw.stages;
    if (!Array.isArray(v) || v.length === 0) {
      this.problems.add({
        path: this.path('stages'),
        message: 'at least one stage is required',
        expected: '[{ duration: "30s", target: 100 }, ...]',
        found: show(v),
      });
      return [];
    }
    return v.map((st: unknown, i: number) => this.stage(st, `${this.path('stages')}[${i}]`));
  }

  private stage(st: unknown, sp: string): Stage {
    if (typeof st !== 'object' || st === null) {
      this.problems.add({ path: sp, message: 'not a stage', expected: '{ duration, target }', found: show(st) });
      return { duration: 0, target: 0 };
    }
    const s = st as Record<string, unknown>;
    for (const k of Object.keys(s))
      if (k !== 'duration' && k !== 'target')
        this.problems.add({ path: `${sp}.${k}`, message: 'unknown stage field', expected: 'duration, target', found: k });
    const d = parseK6DurationSeconds(s.duration);
    if (d === undefined || d < 0)
      this.problems.add({ path: `${sp}.duration`, message: 'not a k6 duration >= 0', expected: 'e.g. "30s"', found: show(s.duration) });
    const t = s.target;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
      this.problems.add({ path: `${sp}.target`, message: 'not a valid target', expected: 'an integer >= 0', found: show(t) });
    return { duration: d ?? 0, target: typeof t === 'number' ? t : 0 };
  }

  /** An arrival-rate executor's VU pool: preAllocatedVUs and maxVUs (default: preAllocatedVUs). */
  pool(): { preAllocatedVUs: number; maxVUs: number } {
    const sc = this.raw;
    const preAllocatedVUs = this.int('preAllocatedVUs', { min: 0 });
    const maxVUs = sc.maxVUs === undefined ? preAllocatedVUs : this.int('maxVUs', { min: 0 });
    if (maxVUs < preAllocatedVUs)
      this.problems.add({
        path: this.path('maxVUs'),
        message: 'maxVUs is smaller than preAllocatedVUs',
        expected: `>= ${preAllocatedVUs}`,
        found: show(sc.maxVUs),
      });
    if (maxVUs === 0 && sc.preAllocatedVUs !== undefined)
      this.problems.add({ path: this.path('preAllocatedVUs'), message: 'either preAllocatedVUs or maxVUs must be positive', found: '0' });
    return { preAllocatedVUs, maxVUs };
  }
}
