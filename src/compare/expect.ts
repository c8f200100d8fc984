/**
 * The experiment's `expect:` block: k6-threshold-like conditions on summary fields, e.g.
 *
 *   expect:
 *     events.firstEjectionS: ["!= null", "< 60"]
 *     redirectedFraction: [">= 0.1"]
 *
 * A condition is an operator and a number or `null`. Checked by the run command after every run and
 * by `spillover compare` on the candidate side. Ordering comparisons against null fail, the way a
 * missed event fails a deadline: "< 60" on an ejection that never happened is not met.
 */
import { SpilloverError, type ProblemDetail } from '../errors.ts';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Condition {
  text: string;
  op: Operator;
  value: number | null;
}

export interface ExpectationResult {
  field: string;
  condition: string;
  /** The summary value found: a number, null (event did not happen) or undefined (no such field). */
  actual: unknown;
  ok: boolean;
}

const CONDITION = /^\s*(<=|>=|==|!=|<|>|===|!==)\s*(null|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** Parse one condition; `where` names its place for the error (file and `expect.<field>[i]`). */
export function parseCondition(text: string, where: { file?: string; path?: string } = {}): Condition {
  const m = typeof text === 'string' ? CONDITION.exec(text) : null;
  if (!m) {
    throw new SpilloverError({
      ...where,
      message: 'not a condition',
      expected: 'an operator (<, <=, >, >=, ==, !=) and a number or null, e.g. "< 60", ">= 0.1", "!= null"',
      found: JSON.stringify(text),
      fix: 'write the condition as in k6 thresholds; times are seconds, fractions are 0..1',
    });
  }
  const op = (m[1] === '===' ? '==' : m[1] === '!==' ? '!=' : m[1]) as Operator;
  const value = m[2] === 'null' ? null : Number(m[2]);
  if (value === null && op !== '==' && op !== '!=') {
    throw new SpilloverError({
      ...where,
      message: `"${op}" cannot compare with null`,
      expected: '"== null" or "!= null"',
      found: JSON.stringify(text),
      fix: 'use "!= null" to require that the event happened, "== null" that it did not',
    });
  }
  return { text: text.trim(), op, value };
}

/** Parse a whole `expect:` block up front, reporting every bad condition at once. */
export function parseExpect(expect: Record<string, readonly string[]>, file?: string): Array<{ field: string; conditions: Condition[] }> {
  const problems: ProblemDetail[] = [];
  const out: Array<{ field: string; conditions: Condition[] }> = [];
  for (const [field, list] of Object.entries(expect ?? {})) {
    const conditions: Condition[] = [];
    (Array.isArray(list) ? list : [list]).forEach((text, i) => {
      try {
        conditions.push(parseCondition(text, { file, path: `expect.${field}[${i}]` }));
      } catch (e) {
        if (e instanceof SpilloverError) problems.push(...e.problems);
        else throw e;
      }
    });
    out.push({ field, conditions });
  }
  if (problems.length) throw new SpilloverError(problems);
  return out;
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
  return parseExpect(expect, file).flatMap(({ field, conditions }) => {
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
