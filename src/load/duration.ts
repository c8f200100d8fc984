/**
 * k6 duration values: a JSON number means milliseconds, a string is a Go duration (`time.ParseDuration`)
 * extended with `d` for days (k6 `types.ParseExtendedDuration`). Parsed strictly so a typo in a
 * scenario is an error instead of a silently different schedule.
 */
const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;

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
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
  }
  return sign * total;
}

/** Seconds to a compact k6 duration string, for messages and --plan output. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (Number.isInteger(seconds)) return `${seconds}s`;
  return `${+(seconds * 1000).toFixed(3)}ms`;
}
