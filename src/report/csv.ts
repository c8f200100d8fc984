/** The report's CSV files, written with csv-stringify; requests.csv is streamed batch by batch. */
import fs from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { forEachJsonBatch } from '../analysis/read-run.ts';
import type { DetectedEvent } from '../analysis/events.ts';
import { EVENT_COLUMNS } from '../analysis/events.ts';
import { TIMESERIES_COLUMNS, type TimeseriesRow } from '../analysis/timeseries.ts';
import type { RequestRecord } from '../runner/raw.ts';

export const REQUEST_COLUMNS = ['id', 'scenario', 'iter', 'intended', 'sent', 'end', 'latency_ms', 'status', 'error', 'service', 'instance', 'envoy', 'rid', 'method', 'url'] as const;

const cell = (v: unknown) => (v === null || v === undefined ? '' : v);

export function timeseriesCsv(rows: TimeseriesRow[]): string {
  return stringify(rows.map((r) => TIMESERIES_COLUMNS.map((c) => cell(r[c]))), { header: true, columns: TIMESERIES_COLUMNS as unknown as string[] });
}

export function eventsCsv(events: DetectedEvent[]): string {
  return stringify(
    events.map((e) => [e.t, e.kind, e.envoy, e.host, e.service, cell(e.offeredRps), cell(e.achievedRps), e.source, e.cause, e.detail]),
    { header: true, columns: EVENT_COLUMNS as unknown as string[] },
  );
}

export async function writeRequestsCsv(requestsNdjson: string | undefined, out: string): Promise<void> {
  const ws = fs.createWriteStream(out);
  ws.write(REQUEST_COLUMNS.join(',') + '\n');
  if (requestsNdjson && fs.existsSync(requestsNdjson)) {
    await forEachJsonBatch<RequestRecord>(requestsNdjson, async (batch) => {
      const rows = batch.map((r) => [r.id, r.scenario, r.iter, r.intended, r.sent, r.end, Math.round((r.end - r.intended) * 1e6) / 1e3, r.status, cell(r.error), cell(r.service), cell(r.instance), cell(r.envoy), r.rid, cell(r.method), cell(r.url)]);
      if (!ws.write(stringify(rows))) await once(ws, 'drain');
    });
  }
  await new Promise<void>((resolve, reject) => ws.end((e?: Error | null) => (e ? reject(e) : resolve())));
}
