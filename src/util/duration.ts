/**
 * Durations, in the one syntax every layer shares: Go's time.ParseDuration ("250ms", "10s", "1m30s",
 * "1.5s"; units ns us µs ms s m h). Istio decodes its durations with it, k6 too (plus "d" for days),
 * so an experiment, its Istio resources and its k6 scenario read alike and are checked by one parser.
 * One module for the three dialects (experiment, Istio/Envoy, k6); each function names its unit.
 */
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;

/** Nanoseconds of a Go duration, or undefined when it is not one. `days` admits k6's "d" unit. */
export function parseDurationNs(text: string, opts: { days?: boolean } = {}): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  let ns = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (!m || (m[2] === 'd' && !opts.days)) return undefined;
    ns += Number(m[1]) * UNIT_NS[m[2]];
  }
  return ns;
}

export const isDuration = (s: string) => parseDurationNs(s) !== undefined;

/** Milliseconds in a duration string; throws on a malformed one (validate with isDuration first). */
export function parseDurationMs(s: string): number {
  const ns = parseDurationNs(s);
  if (ns === undefined) throw new Error(`not a duration: ${JSON.stringify(s)} (expected e.g. "250ms", "10s", "1m30s")`);
  return ns / 1e6;
}

/** The shortest exact spelling of a millisecond count, for writing scaled durations back. */
export function formatDurationMs(ms: number): string {
  const rounded = Math.round(ms * 1000) / 1000;
  if (rounded % 60_000 === 0 && rounded >= 60_000) return `${rounded / 60_000}m`;
  if (rounded % 1000 === 0 && rounded >= 1000) return `${rounded / 1000}s`;
  return `${rounded}ms`;
}

// --- Istio. Istio decodes resources with golang/protobuf's jsonpb, which parses google.protobuf.Duration
// with Go's time.ParseDuration, and the CRDs check them with CEL duration(): both accept Go syntax, not
// days and not bare numbers. Envoy's YAML wants protobuf JSON: decimal seconds with an "s" suffix.

// The same grammar as parseDurationNs without days, as a pattern: zod reports a mismatch as a format
// problem, which validate.ts words as "not an Istio duration".
export const ISTIO_DURATION_RE = /^(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/** Nanoseconds of an Istio duration string, or undefined when it is not one (no days, unlike k6). */
export function parseIstioDurationNs(text: string): number | undefined {
  const ns = parseDurationNs(text);
  return ns === undefined ? undefined : Math.round(ns);
}

/** protobuf JSON form Envoy expects, e.g. "60s", "0.5s". */
export function envoyDurationFromNs(ns: number): string {
  const s = ns / 1e9;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(9))}s`;
}

/** Istio duration string -> Envoy duration; callers validated the input (see validate.ts). */
export function toEnvoyDuration(text: string): string {
  const ns = parseIstioDurationNs(text);
  if (ns === undefined) throw new Error(`not an Istio duration: ${text}`);
  return envoyDurationFromNs(ns);
}

/** Whole seconds, as Istio writes TCP keepalive times (it truncates). */
export const wholeSeconds = (text: string) => Math.floor((parseIstioDurationNs(text) ?? 0) / 1e9);

// --- k6. A JSON number means milliseconds, a string is a Go duration extended with `d` for days
// (k6 `types.ParseExtendedDuration`). Parsed strictly so a typo in a scenario is an error instead of a
// silently different schedule.

/** Go-style durations as k6 prints them: 1.23ms, 456µs, 1.5s, 1m2s. */
export function formatK6DurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0.001) return `${Math.round(ms * 1e6)}ns`;
  if (ms < 1) return `${+(ms * 1000).toFixed(2)}µs`;
  if (ms < 1000) return `${+ms.toFixed(2)}ms`;
  if (ms < 60000) return `${+(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60000);
  return `${m}m${+((ms - m * 60000) / 1000).toFixed(1)}s`;
}

/** Seconds, or undefined when `value` is not a valid k6 duration. */
export function parseK6DurationSeconds(value: unknown): number | undefined {
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
  const ns = parseDurationNs(s, { days: true });
  return ns === undefined ? undefined : (sign * ns) / 1e9;
}
