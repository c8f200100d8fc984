/**
 * A run watched as it goes: on every scrape tick, the raw files appended since the last tick (the
 * driver's requests and per-second ticks, Envoy's access and outlier logs, the harness's events) and
 * the records capture handed over in memory are added to the run so far; the report's event detection
 * runs on it (event-feed.ts) and each new event is printed once: a line above the progress line on a
 * terminal, a JSON line on stdout with --events. The same events and the raw series feed the mesh
 * metrics (mesh-metrics.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import {
  RAW,
  envoyFile,
  type ClustersRecord,
  type LoadTick,
  type RequestRecord,
  type RunEvent,
  type ScrapeRecord,
} from '../contracts/raw.ts';
import type { RunObserver } from '../contracts/run-observer.ts';
import { LiveEventFeed, type LiveEvent } from './event-feed.ts';
import { eventJson, eventLine } from './event-line.ts';
import { LiveRawRun } from './live-raw.ts';
import { MeshMetrics, overflowCounters } from './mesh-metrics.ts';
import { Tail } from './tail.ts';

export interface LiveSessionOptions {
  /** Human lines on this stream (a terminal); undefined = none. */
  terminal?: NodeJS.WriteStream;
  /** JSON lines (one per event) on this stream; undefined = none. */
  json?: NodeJS.WritableStream;
  /** Serve mesh + driver metrics on 127.0.0.1:<port> (0 = any free port). */
  metricsPort?: number;
  /** Told the chosen metrics port. */
  onMetricsPort?: (port: number) => void;
  /** Every event released (tests, the delay measurement). */
  onEvent?: (e: LiveEvent, wallMs: number) => void;
}

interface Current {
  raw: LiveRawRun;
  feed: LiveEventFeed;
  t0Epoch: number;
  timer: NodeJS.Timeout;
  tails: Map<string, Tail>;
  runDir: string;
  /** Per Envoy, the circuit-breaker limits whose overflow counter has risen so far. */
  limits: Map<string, Set<string>>;
}

export class LiveSession implements RunObserver {
  private readonly metrics?: MeshMetrics;
  private cur?: Current;

  constructor(private readonly o: LiveSessionOptions) {
    if (o.metricsPort !== undefined) this.metrics = new MeshMetrics();
  }

  /** Binds the metrics port before anything starts: a taken port is bad input (exit 2, nothing left behind). */
  async open(): Promise<void> {
    if (!this.metrics || this.o.metricsPort === undefined) return;
    try {
      const port = await this.metrics.listen(this.o.metricsPort);
      this.o.onMetricsPort?.(port);
    } catch (e) {
      const port = this.o.metricsPort;
      throw new SpilloverError({
        file: '--metrics-port',
        message:
          (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is already in use`
            : `port ${port} on 127.0.0.1 cannot be used (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        expected: 'a free port, or 0 for any free port',
        found: String(port),
        fix: `use --metrics-port 0, or find the holder with: ss -ltnp 'sport = :${port}'`,
      });
    }
  }

  loadStarting(info: Parameters<NonNullable<RunObserver['loadStarting']>>[0]): void {
    this.stopTimer();
    const raw = new LiveRawRun(info.manifest);
    // The slowest file source: Envoy flushes its logs every fileFlushMs, the driver every ~50 ms,
    // and a scrape can lag one interval; the margin covers one tick of this loop.
    const lagS = (info.fileFlushMs + info.statsIntervalMs + 250) / 1000;
    const feed = new LiveEventFeed(raw, { lagS });
    this.metrics?.reset(info.manifest.topology);
    const timer = setInterval(() => this.tick(false), info.statsIntervalMs);
    timer.unref();
    this.cur = { raw, feed, t0Epoch: info.t0Epoch, timer, tails: new Map(), runDir: info.runDir, limits: new Map() };
  }

  capture(rec: ScrapeRecord | ClustersRecord, shape: 'scrape' | 'clusters'): void {
    if (!this.cur) return;
    if (shape === 'scrape') {
      const r = rec as ScrapeRecord;
      if (r.ok && r.samples && this.cur.raw.manifest.topology?.envoys[r.target]) {
        const now = overflowCounters(r.samples);
        const seen = this.cur.limits.get(r.target) ?? new Set<string>();
        for (const [limit, v] of Object.entries(now)) if (v > 0) seen.add(limit);
        this.cur.limits.set(r.target, seen);
      }
      this.cur.raw.addScrape(rec as ScrapeRecord);
      this.metrics?.onScrape(rec as ScrapeRecord);
    } else this.cur.raw.addClusters(rec as ClustersRecord);
  }

  driverMetrics(port: number): void {
    this.metrics?.driverMetricsAt(port);
  }

  async ended(): Promise<void> {
    if (!this.cur) return;
    this.stopTimer();
    this.tick(true);
    for (const t of this.cur.tails.values()) t.close();
    this.cur = undefined;
  }

  /** Ends the metrics server (after the last run). */
  async close(): Promise<void> {
    await this.ended();
    await this.metrics?.close();
  }

  private stopTimer(): void {
    if (this.cur) clearInterval(this.cur.timer);
  }

  private tail(rel: string): Tail {
    const c = this.cur!;
    let t = c.tails.get(rel);
    if (!t) c.tails.set(rel, (t = new Tail(path.join(c.runDir, rel))));
    return t;
  }

  private readFiles(): void {
    const c = this.cur!;
    for (const l of this.tail(RAW.requests).lines()) {
      const r = parse<RequestRecord>(l);
      if (!r) continue;
      c.raw.addRequest(r);
      this.metrics?.onRequest(r);
    }
    for (const l of this.tail(RAW.loadTicks).lines()) {
      const k = parse<LoadTick>(l);
      if (k) c.raw.addTick(k);
    }
    for (const l of this.tail(RAW.runEvents).lines()) {
      const e = parse<RunEvent>(l);
      if (!e) continue;
      c.raw.addRunEvent(e);
      this.metrics?.onRunEvent(e);
    }
    const root = path.join(c.runDir, RAW.envoyDir);
    const envoys = fs.existsSync(root)
      ? fs
          .readdirSync(root, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
      : [];
    for (const envoy of envoys) {
      for (const l of this.tail(path.relative(c.runDir, envoyFile(c.runDir, envoy, 'access.ndjson'))).lines()) {
        const o = parse<Record<string, unknown>>(l);
        if (o) c.raw.addAccess(envoy, o);
      }
      const ot = this.tail(path.relative(c.runDir, envoyFile(c.runDir, envoy, 'outlier.ndjson')));
      const lines = ot.lines();
      if (ot.open) c.raw.addOutlierLine(envoy, undefined);
      for (const l of lines) c.raw.addOutlierLine(envoy, l);
    }
  }

  private tick(final: boolean): void {
    const c = this.cur;
    if (!c) return;
    try {
      this.readFiles();
      const now = (Date.now() - c.t0Epoch) / 1000;
      for (const e of c.feed.poll(now, final)) this.emit(e);
    } catch (e) {
      // The live view must never stop the run; the report reads the same files afterwards.
      this.o.terminal?.write(`\r\x1b[2Klive events: ${(e as Error).message}\n`);
    }
  }

  private emit(e: LiveEvent): void {
    if (e.kind === 'overflow') e.limits = [...(this.cur?.limits.get(e.envoy) ?? [])].sort();
    this.metrics?.onEvent(e);
    this.o.onEvent?.(e, Date.now());
    if (this.o.terminal) this.o.terminal.write(`\r\x1b[2K${eventLine(e)}\n`);
    if (this.o.json) this.o.json.write(`${eventJson(e)}\n`);
  }
}

function parse<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
