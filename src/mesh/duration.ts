/**
 * Istio durations. Istio decodes resources with golang/protobuf's jsonpb, which parses
 * google.protobuf.Duration with Go's time.ParseDuration, and the CRDs check them with CEL duration():
 * both accept Go syntax ("1s", "1m", "500ms", "1h30m", "1.5s"; units ns us µs ms s m h), not days and
 * not bare numbers. Envoy's YAML wants protobuf JSON: decimal seconds with an "s" suffix.
 */
import { parseGoDuration } from '../experiment/duration.ts';

// The same grammar as parseGoDuration without days, as a pattern: zod reports a mismatch as a format
// problem, which validate.ts words as "not an Istio duration".
export const ISTIO_DURATION_RE = /^(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/** Nanoseconds of an Istio duration string, or undefined when it is not one (no days, unlike k6). */
export function parseIstioDuration(text: string): number | undefined {
  const ns = parseGoDuration(text);
  return ns === undefined ? undefined : Math.round(ns);
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
