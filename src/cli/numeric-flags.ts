/**
 * Strict argument parsers for every numeric flag (commander's argParser hook). parseInt/parseFloat
 * take "0.1abc" as 0.1 and "7e" as 7, Number takes "" as 0 and "0x10" as 16: a typo on the command
 * line must be an error naming the flag, not a different run. Each parser throws a SpilloverError
 * (exit 2, before anything starts) with what was expected, what was found and the fix.
 */
import { SpilloverError } from '../errors.ts';

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

export interface Bounds {
  /** Smallest accepted value; `minExclusive` makes it a strict bound. */
  min?: number;
  minExclusive?: boolean;
  max?: number;
  /** How a good value looks, for the fix line, e.g. "--repeat 5". */
  example: string;
}

function range(b: Bounds): string {
  const lo = b.min === undefined ? '' : `${b.minExclusive ? '>' : '>='} ${b.min}`;
  const hi = b.max === undefined ? '' : `<= ${b.max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}

function check(flag: string, text: string, n: number, kind: string, b: Bounds): number {
  const low = b.min !== undefined && (b.minExclusive ? !(n > b.min) : !(n >= b.min));
  const high = b.max !== undefined && !(n <= b.max);
  if (low || high) {
    throw new SpilloverError({
      file: flag,
      message: 'out of range',
      expected: `${kind} ${range(b)}`,
      found: JSON.stringify(text),
      fix: `use e.g. ${b.example}`,
    });
  }
  return n;
}

function notANumber(flag: string, text: string, kind: string, b: Bounds): never {
  throw new SpilloverError({
    file: flag,
    message: `not ${kind}`,
    expected: `${kind}${range(b) ? ` ${range(b)}` : ''}, digits only (no unit, no trailing characters)`,
    found: JSON.stringify(text),
    fix: `use e.g. ${b.example}`,
  });
}

/** A decimal number such as 0.25 or 1e-2. */
export const decimalFlag =
  (flag: string, b: Bounds) =>
  (v: string): number => {
    const t = v.trim();
    if (!DECIMAL.test(t)) notANumber(flag, v, 'a number', b);
    return check(flag, v, Number(t), 'a number', b);
  };

/** A whole number such as 5. */
export const integerFlag =
  (flag: string, b: Bounds) =>
  (v: string): number => {
    const t = v.trim();
    if (!INTEGER.test(t)) notANumber(flag, v, 'a whole number', b);
    return check(flag, v, Number(t), 'a whole number', b);
  };

/** The same checks, keeping the text (for options whose consumers parse strings themselves). */
export const decimalText =
  (flag: string, b: Bounds) =>
  (v: string): string => (decimalFlag(flag, b)(v), v.trim());
export const integerText =
  (flag: string, b: Bounds) =>
  (v: string): string => (integerFlag(flag, b)(v), v.trim());

export const timeScaleFlag = (flag = '--time-scale') =>
  decimalFlag(flag, { min: 0, minExclusive: true, max: 1, example: `${flag} 0.1 (a run ten times shorter)` });
/** 1000 repeats of even a 20 s run is half a day: more is a typo. */
export const repeatFlag = (flag = '--repeat') => integerFlag(flag, { min: 1, max: 1000, example: `${flag} 5` });
export const portFlag = (flag: string) => integerFlag(flag, { min: 0, max: 65535, example: `${flag} 0 (any free port) or ${flag} 9464` });

/** One of a few words; a typo is named with the flag (not as the experiment field it sets). */
export const choiceFlag =
  (flag: string, choices: readonly string[]) =>
  (v: string): string => {
    if (choices.includes(v)) return v;
    const near = choices.find((c) => c.startsWith(v.slice(0, 2).toLowerCase()));
    throw new SpilloverError({
      file: flag,
      message: 'unknown value',
      expected: `one of ${choices.join(', ')}`,
      found: JSON.stringify(v),
      fix: near ? `did you mean ${flag} ${near}?` : `use ${flag} ${choices[0]}`,
    });
  };
