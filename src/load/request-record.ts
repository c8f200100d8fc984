/**
 * One request's line in requests.ndjson (contracts/raw.ts RequestRecord), written by hand: at tens of
 * thousands of requests per second an object and JSON.stringify per request cost more than the rest
 * of the record path. Times are seconds from scenario time zero, to the µs.
 */
import { Interrupted, RequestTimeout } from './request-errors.ts';
import type { RequestHandler } from './request-handler.ts';

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** `t0` and the times are performance.now() ms; `kind` is errorKind(err) when the request failed. */
export function recordLine(
  h: RequestHandler,
  t0: number,
  intendedMs: number,
  endMs: number,
  status: number,
  kind: string | undefined,
  err: unknown,
): string {
  const it = h.it;
  const run = it.run;
  let line = `{"id":${h.id},"scenario":${run.nameJson},"iter":${it.iter},"intended":${r6((intendedMs - t0) / 1000)},"sent":${r6((h.sentMs - t0) / 1000)},"end":${r6((endMs - t0) / 1000)},"status":${status}`;
  if (kind) {
    line += `,"error":"${kind}"`;
    if (err instanceof RequestTimeout || err instanceof Interrupted) line += `,"cut":"${err.cut}"`;
  }
  if (h.service !== undefined) line += `,"service":${JSON.stringify(h.service)}`;
  if (h.instance !== undefined) line += `,"instance":${JSON.stringify(h.instance)}`;
  if (h.envoy !== undefined) line += `,"envoy":"${h.envoy}"`;
  line += `,"rid":"${h.rid}"${run.templates[it.reqIdx].tail}}`;
  return line;
}
