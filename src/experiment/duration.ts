/**
 * Durations as users write them in experiments and k6 scripts: "250ms", "10s", "1m30s", "1h".
 * Kept as strings in the resolved experiment (so it reads like the input) and parsed where used.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

export const isDuration = (s: string) => DURATION_RE.test(s);

/** Milliseconds in a duration string; throws on a malformed one (validate with isDuration first). */
export function parseDuration(s: string): number {
  if (!isDuration(s)) throw new Error(`not a duration: ${JSON.stringify(s)} (expected e.g. "250ms", "10s", "1m30s")`);
  let ms = 0;
  for (const m of s.matchAll(PART_RE)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}

/** The shortest exact spelling of a millisecond count, for writing scaled durations back. */
export function formatDuration(ms: number): string {
  const rounded = Math.round(ms * 1000) / 1000;
  if (rounded % 60_000 === 0 && rounded >= 60_000) return `${rounded / 60_000}m`;
  if (rounded % 1000 === 0 && rounded >= 1000) return `${rounded / 1000}s`;
  return `${rounded}ms`;
}
