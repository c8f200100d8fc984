/**
 * The part of a run recorded so far, held in the structures the analysis reads (analyze.ts RawRun),
 * built up record by record while the run goes on. The same parsers and filters as read-run.ts, so
 * that detection on it sees what the report will see for the same stretch of time.
 */
import type { RawRun } from '../analysis/analyze.ts';
import { AccessColumnsBuilder } from '../analysis/access-log.ts';
import { USED_METRICS } from '../analysis/events.ts';
import { parseOutlierLine, type OutlierEvent } from '../analysis/outlier-log.ts';
import { RequestColumnsBuilder, destOfService } from '../analysis/request-columns.ts';
import type { ClustersRecord, LoadTick, RequestRecord, RunEvent, RunManifest, ScrapeRecord } from '../contracts/raw.ts';

export class LiveRawRun {
  private readonly requests = new RequestColumnsBuilder(1 << 12);
  private readonly access = new Map<string, AccessColumnsBuilder>();
  private readonly outlier = new Map<string, OutlierEvent[]>();
  private readonly scrapes = new Map<string, ScrapeRecord[]>();
  private readonly clusters = new Map<string, ClustersRecord[]>();
  private readonly ticks: LoadTick[] = [];
  private readonly runEvents: RunEvent[] = [];
  /** Latest load tick time seen: events after it do not yet have their offered load. */
  lastTickT = -Infinity;

  constructor(readonly manifest: RunManifest) {}

  addRequest(r: RequestRecord): void {
    this.requests.add(r);
  }

  addTick(k: LoadTick): void {
    this.ticks.push(k);
    if (k.t > this.lastTickT) this.lastTickT = k.t;
  }

  addRunEvent(e: RunEvent): void {
    this.runEvents.push(e);
  }

  /** One parsed line of raw/envoy/<envoy>/access.ndjson. */
  addAccess(envoy: string, o: Record<string, unknown>): void {
    let b = this.access.get(envoy);
    if (!b) {
      const endpoints = this.manifest.topology?.endpoints ?? {};
      b = new AccessColumnsBuilder(this.manifest.t0Epoch, (up) => destOfService(endpoints[up]?.service));
      this.access.set(envoy, b);
    }
    b.add(o);
  }

  /** One line of raw/envoy/<envoy>/outlier.ndjson; an existing (even empty) log is known, as in read-run. */
  addOutlierLine(envoy: string, line: string | undefined): void {
    const list = this.outlier.get(envoy) ?? [];
    this.outlier.set(envoy, list);
    if (line === undefined || line.trim() === '') return;
    const e = parseOutlierLine(line, this.manifest.t0Epoch);
    if (e) list.push(e);
  }

  /** A scrape as capture recorded it; only the series detection reads are kept (read-run.ts does the same). */
  addScrape(r: ScrapeRecord): void {
    const kept = r.samples ? { ...r, samples: r.samples.filter(([name]) => USED_METRICS.test(name)) } : r;
    push(this.scrapes, r.target, kept);
  }

  addClusters(r: ClustersRecord): void {
    push(this.clusters, r.envoy, r);
  }

  /** The schedule's rate in the last second the driver reported, summed over scenarios. */
  lastOffered(): number | null {
    if (!Number.isFinite(this.lastTickT)) return null;
    let r = 0;
    for (const k of this.ticks) if (k.t === this.lastTickT) r += k.target;
    return r;
  }

  snapshot(): RawRun {
    const byT = <T extends { t: number }>(a: T[]) => [...a].sort((x, y) => x.t - y.t);
    const rec = <T extends { t: number }>(m: Map<string, T[]>) => Object.fromEntries([...m.keys()].sort().map((k) => [k, byT(m.get(k)!)]));
    return {
      manifest: this.manifest,
      requests: this.requests.build(),
      loadTicks: byT(this.ticks),
      access: Object.fromEntries([...this.access.keys()].sort().map((k) => [k, this.access.get(k)!.build()])),
      outlier: Object.fromEntries(
        [...this.outlier.keys()]
          .sort()
          .map((k) => [k, [...this.outlier.get(k)!].sort((a, b) => a.t - b.t || a.host.localeCompare(b.host))]),
      ),
      scrapes: rec(this.scrapes),
      clusters: rec(this.clusters),
      runEvents: byT(this.runEvents),
    };
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}
