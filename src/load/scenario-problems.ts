/**
 * How reading a plain-data scenario reports what is wrong: every problem of the file is collected and
 * thrown at once as one SpilloverError, each naming the file, the option path, what was expected and
 * what was found.
 */
import { SpilloverError, type ProblemDetail } from '../errors.ts';

export const USE_K6 = 'run it with --engine k6 (a real k6 binary), which honours every k6 feature';

/** A value as the script wrote it, short enough for a message. */
export const show = (v: unknown): string => {
  if (typeof v === 'function') return 'a function';
  if (v === undefined) return 'nothing (undefined)';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(v);
  }
};

export class Problems {
  readonly list: ProblemDetail[] = [];
  constructor(readonly file: string) {}
  add(p: Omit<ProblemDetail, 'file'>): void {
    this.list.push({ file: this.file, ...p });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new SpilloverError(this.list);
  }
}
