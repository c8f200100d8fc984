/**
 * The grammar of the experiment's `expect:` block: k6-threshold-like conditions on summary fields, e.g.
 *
 *   expect:
 *     events.firstEjectionS: ["!= null", "< 60"]
 *     redirectedFraction: [">= 0.1"]
 *
 * A condition is an operator and a number or `null`. Parsed once, when the experiment loads, so a bad
 * condition is refused before anything starts; the run's judge and `spillover compare` check the parsed
 * form (src/compare/expect.ts holds the checking).
 */
import { SpilloverError, type ProblemDetail } from '../errors.ts';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** One field's conditions, in the file's order. */
export type ParsedExpect = Array<{ field: string; conditions: Condition[] }>;

export interface Condition {
  text: string;
  op: Operator;
  value: number | null;
}

const CONDITION = /^\s*(<=|>=|==|!=|<|>|===|!==)\s*(null|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** Parse one condition; `where` names its place for the error (file and `expect.<field>[i]`). */
export function parseCondition(text: string, where: { file?: string; line?: number; path?: string } = {}): Condition {
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
export function parseExpect(
  expect: Record<string, readonly string[]>,
  file?: string,
  lineAt?: (field: string, i: number) => number | undefined,
): ParsedExpect {
  const problems: ProblemDetail[] = [];
  const out: ParsedExpect = [];
  for (const [field, list] of Object.entries(expect ?? {})) {
    const conditions: Condition[] = [];
    (Array.isArray(list) ? list : [list]).forEach((text, i) => {
      try {
        conditions.push(parseCondition(text, { file, line: lineAt?.(field, i), path: `expect.${field}[${i}]` }));
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
