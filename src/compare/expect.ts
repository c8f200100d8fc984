/**
 * Checking the experiment's `expect:` conditions against a summary: by the run command after every run
 * and by `spillover compare` on the candidate side. The grammar is the experiment's
 * (src/experiment/expect.ts), parsed when the experiment loads. Ordering comparisons against null fail,
 * the way a missed event fails a deadline: "< 60" on an ejection that never happened is not met.
 */
import { parseExpect, type Condition, type ParsedExpect } from '../experiment/expect.ts';

export interface ExpectationResult {
  field: string;
  condition: string;
  /** The summary value found: a number, null (event did not happen) or undefined (no such field). */
  actual: unknown;
  ok: boolean;
}

/** The value at a dotted path (`events.firstEjectionS`, `latencyMs.p99`), or undefined. */
export function fieldValue(summary: unknown, field: string): unknown {
  let v: unknown = summary;
  for (const seg of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

export function holds(c: Condition, actual: unknown): boolean {
  if (c.value === null) return c.op === '==' ? actual === null : actual !== null && actual !== undefined;
  if (typeof actual !== 'number' || Number.isNaN(actual)) return c.op === '!=';
  switch (c.op) {
    case '<':
      return actual < c.value;
    case '<=':
      return actual <= c.value;
    case '>':
      return actual > c.value;
    case '>=':
      return actual >= c.value;
    case '==':
      return actual === c.value;
    case '!=':
      return actual !== c.value;
  }
}

/** Check every condition of `expect` against one summary. Throws SpilloverError on a malformed condition. */
export function checkExpectations(expect: Record<string, readonly string[]>, summary: unknown, file?: string): ExpectationResult[] {
  return checkParsedExpectations(parseExpect(expect, file), summary);
}

/** Check conditions parsed when the experiment loaded against one summary. */
export function checkParsedExpectations(parsed: ParsedExpect, summary: unknown): ExpectationResult[] {
  return parsed.flatMap(({ field, conditions }) => {
    const actual = fieldValue(summary, field);
    return conditions.map((c) => ({ field, condition: c.text, actual, ok: actual !== undefined && holds(c, actual) }));
  });
}

/**
 * An expectation's actual value in words: an event that did not happen is "never" (summary.json has
 * null there), never "null" or "NaN"; a field the summary lacks is "no such field".
 */
export function formatActual(field: string, actual: unknown): string {
  if (actual === undefined) return 'no such field';
  if (actual === null) return /^events\.|AtFirstEjection|^firstEjection/.test(field) ? 'never' : 'none';
  if (typeof actual === 'number' && !Number.isFinite(actual)) return Number.isNaN(actual) ? 'none' : 'never';
  return JSON.stringify(actual);
}

/** One line per result, for the run command's output. */
export function formatExpectations(results: readonly ExpectationResult[]): string {
  return results.map((r) => `${r.ok ? '✓' : '✗'} ${r.field} ${r.condition}  (actual: ${formatActual(r.field, r.actual)})`).join('\n');
}
