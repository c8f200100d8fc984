/**
 * Istio durations. Istio decodes resources with golang/protobuf's jsonpb, which parses
 * google.protobuf.Duration with Go's time.ParseDuration, and the CRDs check them with CEL duration():
 * both accept Go syntax ("1s", "1m", "500ms", "1h30m", "1.5s"; units ns us µs ms s m h), not days and
 * not bare numbers. Envoy's YAML wants protobuf JSON: decimal seconds with an "s" suffix.
 */
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export const ISTIO_DURATION_RE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*$/;

/** Nanoseconds of an Istio duration string, or undefined when it is not one. */
export function parseIstioDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!ISTIO_DURATION_RE.test(text)) return undefined;
  let ns = 0;
  for (const m of text.matchAll(/((?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|μs|ms|s|m|h)/g)) ns += Number(m[1]) * UNIT_NS[m[2]];
  return Math.round(ns);
}

/** protobuf JSON form Envoy expects, e.g. "60s", "0.5s". */
export function envoyDuration(ns: number): string {
  const s = ns / 1e9;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(9))}s`;
}

/** Istio duration string -> Envoy duration; callers validated the input (see validate.ts). */
export function toEnvoyDuration(text: string): string {
  const ns = parseIstioDuration(text);
  if (ns === undefined) throw new Error(`not an Istio duration: ${text}`);
  return envoyDuration(ns);
}

/** Whole seconds, as Istio writes TCP keepalive times (it truncates). */
export const wholeSeconds = (text: string) => Math.floor((parseIstioDuration(text) ?? 0) / 1e9);
