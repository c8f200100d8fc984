/**
 * Durations, in the one syntax every layer shares: Go's time.ParseDuration ("250ms", "10s", "1m30s",
 * "1.5s"; units ns us µs ms s m h). Istio decodes its durations with it, k6 too (plus "d" for days),
 * so an experiment, its Istio resources and its k6 scenario read alike and are checked by one parser.
 */
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;

/** Nanoseconds of a Go duration, or undefined when it is not one. `days` admits k6's "d" unit. */
export function parseGoDuration(text: string, opts: { days?: boolean } = {}): number | undefined {
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

export const isDuration = (s: string) => parseGoDuration(s) !== undefined;

/** Milliseconds in a duration string; throws on a malformed one (validate with isDuration first). */
export function parseDuration(s: string): number {
  const ns = parseGoDuration(s);
  if (ns === undefined) throw new Error(`not a duration: ${JSON.stringify(s)} (expected e.g. "250ms", "10s", "1m30s")`);
  return ns / 1e6;
}

/** The shortest exact spelling of a millisecond count, for writing scaled durations back. */
export function formatDuration(ms: number): string {
  const rounded = Math.round(ms * 1000) / 1000;
  if (rounded % 60_000 === 0 && rounded >= 60_000) return `${rounded / 60_000}m`;
  if (rounded % 1000 === 0 && rounded >= 1000) return `${rounded / 1000}s`;
  return `${rounded}ms`;
}
