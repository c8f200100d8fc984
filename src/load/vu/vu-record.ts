/**
 * Spillover's raw results of a VU run: every request in requests.ndjson (intended vs. sent, who served
 * it), load ticks, and the start-lag histogram of arrival-rate iterations — the same files and fields
 * as the fast path, so analysis and reports read both alike. A record line is built as a string (as
 * driver.ts does): an object per request plus JSON.stringify was a visible share of the per-request cost.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { RAW } from '../../contracts/raw.ts';
import type { LoadResult } from '../driver-options.ts';
import { NdjsonSink } from '../ndjson-sink.ts';
import type { RequestRecordIn } from './vu-state.ts';

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

export class VuRecorder {
  readonly requests: NdjsonSink;
  readonly ticks: NdjsonSink;
  /** Requests recorded so far (the record id). */
  seq = 0;
  /** Scenario time zero, epoch ms (fixed after setup when the caller did not fix it). */
  t0: number;
  private readonly rid = Math.random().toString(16).slice(2, 10);
  private readonly names = new Map<string, string>();
  private readonly urls = new Map<string, string>();
  // Start lag of arrival-rate iterations (first request sent − due time), µs, as the fast path reports it.
  private readonly lag = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

  constructor(runDir: string, t0: number) {
    this.t0 = t0;
    this.requests = new NdjsonSink(path.join(runDir, RAW.requests));
    this.ticks = new NdjsonSink(path.join(runDir, RAW.loadTicks));
    fs.writeFileSync(path.join(runDir, RAW.latencyHdr), '');
  }

  readonly record = (r: RequestRecordIn): void => {
    const id = ++this.seq;
    if (r.arrival) this.lag.recordValue(Math.max(1, Math.round((r.sentMs - r.intendedMs) * 1000)));
    let name = this.names.get(r.scenario);
    if (name === undefined) this.names.set(r.scenario, (name = JSON.stringify(r.scenario)));
    const t0 = this.t0;
    let line = `{"id":${id},"scenario":${name},"iter":${r.iter},"intended":${r6((r.intendedMs - t0) / 1000)},"sent":${r6((r.sentMs - t0) / 1000)},"end":${r6((r.endMs - t0) / 1000)},"status":${r.status}`;
    if (r.error) line += `,"error":${JSON.stringify(r.error)}`;
    if (r.service) line += `,"service":${JSON.stringify(r.service)}`;
    if (r.instance) line += `,"instance":${JSON.stringify(r.instance)}`;
    if (r.envoy) line += `,"envoy":"${r.envoy}"`;
    let url = this.urls.get(r.url);
    if (url === undefined) {
      url = JSON.stringify(r.url);
      if (this.urls.size < 4096) this.urls.set(r.url, url);
    }
    line += `,"rid":"${this.rid}-${id}","method":${JSON.stringify(r.method)},"url":${url}}`;
    this.requests.write(line);
    this.requests.maybeFlush(performance.now());
  };

  startLagMs(): LoadResult['startLagMs'] {
    const lag = this.lag;
    if (lag.totalCount === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
    return {
      count: lag.totalCount,
      p50: lag.getValueAtPercentile(50) / 1000,
      p99: lag.getValueAtPercentile(99) / 1000,
      max: lag.maxValue / 1000,
    };
  }

  close(): void {
    this.requests.close();
    this.ticks.close();
  }
}
