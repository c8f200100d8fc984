/**
 * Telemetry capture: every Envoy's `/stats/prometheus` and `/clusters`, every service's `/metrics`,
 * scraped on one fixed-rate timer and appended as raw.ts NDJSON while the run goes on.
 *
 * Each target has its own in-flight slot and a per-request timeout shorter than the interval, so a
 * stalled endpoint costs only its own samples: the tick records a gap (`ok:false`) for it and the
 * other targets and the timer carry on. Times are stamped at request start on the run clock
 * (seconds since t0Epoch), the clock every other raw file uses.
 */
import { scrapeTimeoutMs } from '../experiment/normalise.ts';
import fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { RAW, clustersFile, scrapeFile, type ClustersRecord, type ScrapeRecord } from '../contracts/raw.ts';
import { parsePromText } from './capture/prom-text.ts';
import { flattenClusters } from './capture/clusters-json.ts';
import { SpilloverError } from '../errors.ts';

export interface CaptureTarget {
  name: string;
  kind: 'envoy' | 'service';
  /** Admin (Envoy) or service base URL, loopback only, e.g. http://127.0.1.3:15000. */
  baseUrl: string;
  /** A target that does not always exist (a pod a `scale` fault creates or deletes): no scrape, and no gap, while false. */
  exists?: () => boolean;
}

export interface CaptureOptions {
  runDir: string;
  t0Epoch: number;
  targets: CaptureTarget[];
  statsIntervalMs: number;
  clustersIntervalMs?: number;
  /**
   * Envoy stat-name regex for `/stats/prometheus?filter=`. The default keeps the cluster, listener and
   * connection-manager families (circuit breakers, outlier detection, per-endpoint stats live under
   * `cluster.`) and leaves out server internals that would only bloat the raw files.
   */
  envoyStatsFilter?: string;
  /** Sees every record as it is written (the live event feed and live metrics read the run from here). */
  onRecord?: (rec: ScrapeRecord | ClustersRecord, shape: 'scrape' | 'clusters') => void;
}

export interface CaptureStats {
  /** Per file written (`scrapes/<name>` or `clusters/<name>`): attempts and failures. */
  perStream: Record<string, { attempts: number; failures: number; skippedBusy: number; maxMs: number }>;
  attempts: number;
  failures: number;
}

export const DEFAULT_ENVOY_STATS_FILTER = '^(cluster|listener|http|tcp)\\.';

export function startCapture(opts: CaptureOptions): { stop(): Promise<CaptureStats> } {
  for (const t of opts.targets) assertLoopback(t);
  if (!(opts.statsIntervalMs > 0)) {
    throw new SpilloverError({
      path: 'statsIntervalMs',
      message: 'capture interval must be positive',
      expected: 'milliseconds > 0',
      found: String(opts.statsIntervalMs),
      fix: 'use the default 250',
    });
  }
  const streams = opts.targets.flatMap((t) => streamsOf(t, opts));
  const ready = Promise.all([
    mkdir(path.join(opts.runDir, RAW.scrapesDir), { recursive: true }),
    mkdir(path.join(opts.runDir, RAW.clustersDir), { recursive: true }),
  ]);
  const started = ready.then(() => {
    for (const s of streams) s.start(opts.t0Epoch);
  });
  return {
    async stop() {
      await started;
      await Promise.all(streams.map((s) => s.stop()));
      const perStream: CaptureStats['perStream'] = {};
      let attempts = 0;
      let failures = 0;
      for (const s of streams) {
        perStream[s.key] = { attempts: s.attempts, failures: s.failures, skippedBusy: s.skippedBusy, maxMs: s.maxMs };
        attempts += s.attempts;
        failures += s.failures;
      }
      return { perStream, attempts, failures };
    },
  };
}

/** An Envoy has a stats stream and a /clusters stream; a service has its /metrics. */
function streamsOf(t: CaptureTarget, opts: CaptureOptions): Stream[] {
  const filter = opts.envoyStatsFilter ?? DEFAULT_ENVOY_STATS_FILTER;
  const streams: Stream[] = [];
  const base = t.baseUrl.replace(/\/+$/, '');
  if (t.kind === 'envoy') {
    streams.push(
      new Stream(
        `scrapes/${t.name}`,
        scrapeFile(opts.runDir, t.name),
        opts.statsIntervalMs,
        `${base}/stats/prometheus?usedonly&filter=${encodeURIComponent(filter)}`,
        (body, rec) => {
          rec.samples = parsePromText(body);
        },
        t.name,
        'scrape',
        opts.onRecord,
        t.exists,
      ),
    );
    streams.push(
      new Stream(
        `clusters/${t.name}`,
        clustersFile(opts.runDir, t.name),
        opts.clustersIntervalMs ?? opts.statsIntervalMs,
        `${base}/clusters?format=json`,
        (body, rec) => {
          rec.hosts = flattenClusters(JSON.parse(body));
        },
        t.name,
        'clusters',
        opts.onRecord,
        t.exists,
      ),
    );
  } else {
    streams.push(
      new Stream(
        `scrapes/${t.name}`,
        scrapeFile(opts.runDir, t.name),
        opts.statsIntervalMs,
        `${base}/metrics`,
        (body, rec) => {
          rec.samples = parsePromText(body);
        },
        t.name,
        'scrape',
        opts.onRecord,
        t.exists,
      ),
    );
  }
  return streams;
}

type Rec = Record<string, unknown> & { t: number; ok: boolean };

class Stream {
  attempts = 0;
  failures = 0;
  skippedBusy = 0;
  maxMs = 0;
  private out?: fs.WriteStream;
  private timer?: NodeJS.Timeout;
  private inflight?: Promise<void>;
  private t0 = 0;
  private tick = 0;
  private stopped = false;

  constructor(
    readonly key: string,
    private readonly file: string,
    private readonly intervalMs: number,
    private readonly url: string,
    private readonly parse: (body: string, rec: Rec) => void,
    private readonly targetName: string,
    private readonly shape: 'scrape' | 'clusters',
    private readonly onRecord?: CaptureOptions['onRecord'],
    private readonly exists?: () => boolean,
  ) {}

  start(t0Epoch: number): void {
    this.t0 = t0Epoch;
    this.out = fs.createWriteStream(this.file, { flags: 'a' });
    this.startedAt = Date.now();
    this.fire();
  }

  private startedAt = 0;

  /** Self-rescheduling against the start instant, so a slow tick does not push every later one. */
  private schedule(): void {
    if (this.stopped) return;
    this.tick++;
    const due = this.startedAt + this.tick * this.intervalMs;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - Date.now()));
  }

  private fire(): void {
    if (this.stopped) return;
    const t = (Date.now() - this.t0) / 1000;
    if (this.exists && !this.exists()) {
      // Not there now (not yet created, or terminated): nothing to scrape, so nothing is missing.
    } else if (this.inflight) {
      this.skippedBusy++;
      this.record({ t, ok: false, ms: 0, error: 'busy: previous request to this endpoint still running' });
    } else {
      this.inflight = this.scrape(t).finally(() => {
        this.inflight = undefined;
      });
    }
    this.schedule();
  }

  private async scrape(t: number): Promise<void> {
    const began = performance.now();
    const rec: Rec = { t, ok: true };
    // Timeout below the interval so a hung endpoint is abandoned before its next slot comes round.
    const timeoutMs = scrapeTimeoutMs(this.intervalMs);
    try {
      const res = await request(this.url, { signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      const body = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
      this.parse(body, rec);
    } catch (e) {
      rec.ok = false;
      rec.error = (e as Error)?.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : String((e as Error)?.message ?? e);
      delete rec.samples;
      delete rec.hosts;
    }
    const ms = Math.round((performance.now() - began) * 10) / 10;
    this.maxMs = Math.max(this.maxMs, ms);
    this.record(rec, ms);
  }

  private record(rec: Rec, ms?: number): void {
    this.attempts++;
    if (!rec.ok) this.failures++;
    // Key order follows raw.ts so the files read the same whatever path wrote the line.
    const line =
      this.shape === 'scrape'
        ? ({
            t: rec.t,
            target: this.targetName,
            ok: rec.ok,
            ms: ms ?? (rec.ms as number) ?? 0,
            ...(rec.error ? { error: rec.error as string } : {}),
            ...(rec.samples ? { samples: rec.samples as ScrapeRecord['samples'] } : {}),
          } satisfies ScrapeRecord)
        : ({
            t: rec.t,
            envoy: this.targetName,
            ok: rec.ok,
            ...(rec.error ? { error: rec.error } : {}),
            ...(rec.hosts ? { hosts: rec.hosts } : {}),
          } as ClustersRecord);
    this.out?.write(JSON.stringify(line) + '\n');
    try {
      this.onRecord?.(line, this.shape);
    } catch {
      // A live view that fails must not cost the raw data.
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inflight;
    const out = this.out;
    if (out) await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}

function assertLoopback(t: CaptureTarget): void {
  let host = '';
  try {
    host = new URL(t.baseUrl).hostname;
  } catch {
    /* reported below */
  }
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== 'localhost' && host !== '[::1]') {
    throw new SpilloverError({
      path: `capture.targets[${t.name}].baseUrl`,
      message: 'capture only scrapes loopback endpoints',
      expected: 'http://127.x.y.z:port',
      found: t.baseUrl,
      fix: 'give the target its loopback admin or metrics address',
    });
  }
}
