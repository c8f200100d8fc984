/**
 * k6 duration values: a JSON number means milliseconds, a string is a Go duration (`time.ParseDuration`)
 * extended with `d` for days (k6 `types.ParseExtendedDuration`). Parsed strictly so a typo in a
 * scenario is an error instead of a silently different schedule.
 */
import { parseGoDuration } from '../experiment/duration.ts';

/** Seconds, or undefined when `value` is not a valid k6 duration. */
export function parseK6Duration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value / 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  let s = value.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  // k6 accepts a bare number string as milliseconds too (types.Duration.UnmarshalText).
  if (/^\d+(\.\d+)?$/.test(s)) return (sign * Number(s)) / 1000;
  const ns = parseGoDuration(s, { days: true });
  return ns === undefined ? undefined : (sign * ns) / 1e9;
}

/** Seconds to a compact k6 duration string, for messages and --plan output. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${+(seconds * 1000).toFixed(3)}ms`;
}
