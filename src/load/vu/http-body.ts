/**
 * Request bodies and params as k6 encodes them: object bodies as Go's url.Values.Encode (form), objects
 * with http.file() values as multipart, ArrayBuffers as bytes; durations of params.timeout.
 */
import { parseK6DurationSeconds } from '../../util/duration.ts';

/** params.timeout in ms: a number is ms, a string a k6 duration (one parser: util/duration.ts). */
export function timeoutMs(v: unknown, def: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v === 'number') return v;
  const seconds = parseK6DurationSeconds(String(v));
  if (seconds === undefined) throw new Error(`params.timeout ${JSON.stringify(v)} is not a duration such as "10s"`);
  return seconds * 1000;
}

export function encodeBody(body: unknown, headers: Record<string, string>): string | Buffer | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body) || Object.prototype.toString.call(body) === '[object ArrayBuffer]') {
    return Buffer.from(
      ArrayBuffer.isView(body) ? body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) : (body as ArrayBuffer),
    );
  }
  if (typeof body === 'object') {
    const entries = Object.entries(body as Record<string, unknown>);
    if (
      entries.some(([, v]) => v && typeof v === 'object' && (v as { filename?: unknown }).filename !== undefined && 'data' in (v as object))
    ) {
      const boundary = `----k6boundary${Math.random().toString(16).slice(2)}`;
      const parts: Buffer[] = [];
      for (const [k, v] of entries) {
        const f = v as { data?: unknown; filename?: string; content_type?: string };
        if (v && typeof v === 'object' && 'data' in f) {
          parts.push(
            Buffer.from(
              `--${boundary}\r\nContent-Disposition: form-data; name="${k}"; filename="${f.filename ?? k}"\r\nContent-Type: ${f.content_type ?? 'application/octet-stream'}\r\n\r\n`,
            ),
          );
          parts.push(typeof f.data === 'string' ? Buffer.from(f.data, 'latin1') : Buffer.from(f.data as ArrayBuffer));
          parts.push(Buffer.from('\r\n'));
        } else parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`));
      }
      parts.push(Buffer.from(`--${boundary}--\r\n`));
      if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
      return Buffer.concat(parts);
    }
    if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    // Go's url.Values.Encode, which k6 uses: keys sorted, QueryEscape (space as +).
    // Arrays become repeated keys, as in k6.
    return entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${queryEscape(k)}=${queryEscape(String(x))}`))
      .join('&');
  }
  return String(body);
}

const queryEscape = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');

export const hasHeader = (h: Record<string, string>, name: string) => Object.keys(h).some((k) => k.toLowerCase() === name);
