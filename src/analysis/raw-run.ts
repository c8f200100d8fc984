/** A raw run parsed into memory (read-run.ts reads it; analyze.ts and run-ending.ts compute from it). */
import type { ClustersRecord, LoadTick, RunEvent, RunManifest, ScrapeRecord } from '../contracts/raw.ts';
import type { AccessColumns } from './access-log.ts';
import type { OutlierEvent } from './outlier-log.ts';
import type { RequestColumns } from './request-columns.ts';

export interface RawRun {
  manifest: RunManifest;
  /** Every client's requests together (the aggregate figures are over all of them). */
  requests: RequestColumns;
  /** `clients:` form: each client's requests on their own, by client name. */
  clientRequests?: Record<string, RequestColumns>;
  loadTicks: LoadTick[];
  /** Keyed by Envoy name (raw/envoy/<name>/access.ndjson). */
  access: Record<string, AccessColumns>;
  outlier: Record<string, OutlierEvent[]>;
  /** Keyed by target name. */
  scrapes: Record<string, ScrapeRecord[]>;
  clusters: Record<string, ClustersRecord[]>;
  runEvents: RunEvent[];
}
