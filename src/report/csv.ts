/** The report's CSV files, written with csv-stringify; requests.csv is streamed batch by batch. */
import fs from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import type { DetectedEvent } from '../analysis/events.ts';
import { EVENT_COLUMNS } from '../analysis/events.ts';
import { TIMESERIES_COLUMNS, type TimeseriesRow } from '../contracts/timeseries.ts';
import type { RequestRecord } from '../contracts/raw.ts';

export const REQUEST_COLUMNS = [
  'id',
  'scenario',
  'iter',
  'intended',
  'sent',
  'end',
  'latency_ms',
  'status',
  'error',
  'service',
  'instance',
  'envoy',
  'rid',
  'method',
  'url',
] as const;

const cell = (v: unknown) => (v === null || v === undefined ? '' : v);

export function timeseriesCsv(rows: TimeseriesRow[]): string {
  return stringify(
    rows.map((r) => TIMESERIES_COLUMNS.map((c) => cell(r[c]))),
    { header: true, columns: TIMESERIES_COLUMNS as unknown as string[] },
  );
}

export function eventsCsv(events: DetectedEvent[]): string {
  return stringify(
    events.map((e) => [e.t, e.kind, e.envoy, e.host, e.service, cell(e.offeredRps), cell(e.achievedRps), e.source, e.cause, e.detail]),
    { header: true, columns: EVENT_COLUMNS as unknown as string[] },
  );
}

/** csv-stringify's default quoting applies only to strings holding a delimiter, quote or line break. */
const NEEDS_QUOTING = /[",\r\n]/;

/**
 * requests.csv rows, for runs of a million requests. csv-stringify costs ~6 µs a row here, most of
 * the 10 s budget, and leaves all but exotic rows untouched: rows whose cells are numbers, empty or
 * plain strings are joined directly (byte-for-byte what csv-stringify writes; a property test checks
 * it), anything else goes through csv-stringify.
 */
export function requestRowsCsv(batch: RequestRecord[]): string {
  let out = '';
  for (const r of batch) {
    const lat = Math.round((r.end - r.intended) * 1e6) / 1e3;
    // Concatenated without separators: one regex test covers every string cell of the row.
    const text = `${r.scenario}${r.error ?? ''}${r.service ?? ''}${r.instance ?? ''}${r.envoy ?? ''}${r.rid}${r.method ?? ''}${r.url ?? ''}`;
    const plain =
      typeof r.scenario === 'string' &&
      typeof r.rid === 'string' &&
      !NEEDS_QUOTING.test(text) &&
      Number.isFinite(r.id) &&
      Number.isFinite(r.iter) &&
      Number.isFinite(r.intended) &&
      Number.isFinite(r.sent) &&
      Number.isFinite(r.end) &&
      Number.isFinite(r.status) &&
      [r.error, r.service, r.instance, r.envoy, r.method, r.url].every((v) => v === undefined || v === null || typeof v === 'string');
    out += plain
      ? `${r.id},${r.scenario},${r.iter},${r.intended},${r.sent},${r.end},${lat},${r.status},${r.error ?? ''},${r.service ?? ''},${r.instance ?? ''},${r.envoy ?? ''},${r.rid},${r.method ?? ''},${r.url ?? ''}\n`
      : stringify([
          [
            r.id,
            r.scenario,
            r.iter,
            r.intended,
            r.sent,
            r.end,
            lat,
            r.status,
            cell(r.error),
            cell(r.service),
            cell(r.instance),
            cell(r.envoy),
            r.rid,
            cell(r.method),
            cell(r.url),
          ],
        ]);
  }
  return out;
}

/** Streams requests.csv: call `write` per batch (backpressure-aware), then `end`. */
export function requestsCsvWriter(out: string, o: { clientColumn?: boolean } = {}) {
  const ws = fs.createWriteStream(out);
  // `clients:` form: one more column, last, naming the client (a DNS label: never quoted).
  const columns = o.clientColumn ? [...REQUEST_COLUMNS, 'client'] : [...REQUEST_COLUMNS];
  ws.write(stringify([], { header: true, columns }));
  const rows = o.clientColumn
    ? (batch: RequestRecord[]) => batch.map((r) => requestRowsCsv([r]).replace(/\n$/, `,${r.client ?? ''}\n`)).join('')
    : requestRowsCsv;
  return {
    async write(batch: RequestRecord[]): Promise<void> {
      if (!ws.write(rows(batch))) await once(ws, 'drain');
    },
    end: () => new Promise<void>((resolve, reject) => ws.end((e?: Error | null) => (e ? reject(e) : resolve()))),
  };
}
