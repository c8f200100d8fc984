/**
 * The raw-results contract: what a run leaves in its directory before any analysis.
 *
 * Every backend (local, kind, kube) and every load engine (embedded driver, k6) writes this same
 * layout, so analysis and report are one code path. Files are append-only NDJSON streamed while the
 * run goes on: an interrupted run keeps everything written so far.
 *
 * One clock: every `t` below is seconds since `manifest.t0Epoch` (Unix ms, the instant scenario time
 * zero began). Sources that stamp wall-clock time (Envoy's outlier log, access logs) are converted
 * with `toRunSeconds`. Events before the load starts have negative t.
 */
import path from 'node:path';

/** File names inside a run directory, in one place so writers and readers cannot drift apart. */
export const RAW = {
  manifest: 'manifest.json',
  resolvedExperiment: 'experiment.resolved.yaml',
  configDir: 'config',
  rawDir: 'raw',
  /** One {@link RequestRecord} per line, written by the load driver (or imported from k6). */
  requests: 'raw/requests.ndjson',
  /** One {@link LoadTick} per line: the driver's own per-second counters (target rate, dropped...). */
  loadTicks: 'raw/load.ndjson',
  /** Per-second, per-scenario HDR latency histograms from the driver (µs, compressed base64; from intended or sent). */
  latencyHdr: 'raw/latency-hdr.ndjson',
  /** One {@link ScrapeRecord} per line per target: `raw/scrapes/<target>.ndjson`. */
  scrapesDir: 'raw/scrapes',
  /** One {@link ClustersRecord} per line per Envoy: `raw/clusters/<envoy>.ndjson`. */
  clustersDir: 'raw/clusters',
  /** Envoy's own files, one folder per Envoy: outlier.ndjson, access.ndjson, envoy.log. */
  envoyDir: 'raw/envoy',
  /** Service processes' stdout/stderr: `raw/services/<name>.log`. */
  servicesDir: 'raw/services',
  /** Harness-side happenings worth keeping (phase changes, faults injected, gaps): {@link RunEvent}. */
  runEvents: 'raw/run-events.ndjson',
  /**
   * `clients:` form (several callers): the first client writes requests, load ticks and latency
   * histograms to raw/ as a one-client run does; every further client writes the same three files
   * under `clients/<name>/raw/`. `manifest.topology.clients` lists them all; readers tag each record
   * with its client (RequestRecord.client) from the file it came from.
   */
  clientsDir: 'clients',
} as const;

/** The directory whose raw/ holds client `name`'s load files: the run directory for the first client. */
export const clientLoadDir = (runDir: string, name: string, first: boolean) => (first ? runDir : path.join(runDir, RAW.clientsDir, name));

export const envoyFile = (runDir: string, envoy: string, file: 'outlier.ndjson' | 'access.ndjson' | 'envoy.log') =>
  path.join(runDir, RAW.envoyDir, envoy, file);
export const scrapeFile = (runDir: string, target: string) => path.join(runDir, RAW.scrapesDir, `${target}.ndjson`);
export const clustersFile = (runDir: string, envoy: string) => path.join(runDir, RAW.clustersDir, `${envoy}.ndjson`);

/** One request as the load driver saw it. Times are run seconds (see module comment). */
export interface RequestRecord {
  /** Sequence number within the run, unique. */
  id: number;
  scenario: string;
  /** Iteration number within the scenario (0-based). */
  iter: number;
  /** When the schedule wanted it sent: latency from here is free of coordinated omission. */
  intended: number;
  /** When it was actually sent. */
  sent: number;
  /** When the response ended or the error happened. */
  end: number;
  /** HTTP status; 0 when there was no HTTP response (see `error`). */
  status: number;
  /** Transport-level error kind when status is 0: timeout, reset, refused, tls, aborted, other. */
  error?: string;
  /**
   * Set when the driver itself cut the request, and why: `timeout` (the request timeout), `gracefulStop`
   * (the scenario's hard end), `gracefulRampDown` (a ramping-vus VU removed), `abort` (the run was
   * interrupted), `exit` (the process was made to exit at once, a second Ctrl-C). Absent for errors
   * the target or the network caused.
   */
  cut?: 'timeout' | 'gracefulStop' | 'gracefulRampDown' | 'abort' | 'exit';
  /** Service identity that served it, from the `x-spillover-service` response header (e.g. "A", "B"). */
  service?: string;
  /** Instance that served it, from `x-spillover-instance` (e.g. "a-0"). */
  instance?: string;
  /** Envoy signals visible to the client: "overloaded" when `x-envoy-overloaded` was set. */
  envoy?: string;
  /** The request id sent as `x-request-id`; joins with Envoy access logs. */
  rid: string;
  method?: string;
  url?: string;
  /** `clients:` form: the client that sent it. Never written by a driver; readers set it from the file's client. */
  client?: string;
}

/** The driver's per-second view of its own schedule. */
export interface LoadTick {
  t: number;
  scenario: string;
  /** Iterations the schedule called for in (t-1, t]. */
  target: number;
  started: number;
  dropped: number;
  /** Slots (VUs) busy at the tick, and allocated so far. */
  active: number;
  allocated: number;
}

/** One scrape of one endpoint. Failed scrapes are recorded too: a gap is data. */
export interface ScrapeRecord {
  t: number;
  target: string;
  ok: boolean;
  /** How long the scrape took. */
  ms: number;
  error?: string;
  /** Parsed Prometheus samples: [metric name, labels, value]. */
  samples?: Array<[string, Record<string, string>, number]>;
}

/** Per-host state of one Envoy cluster from `/clusters?format=json`, flattened. */
export interface ClustersRecord {
  t: number;
  envoy: string;
  ok: boolean;
  error?: string;
  hosts?: Array<{
    cluster: string;
    address: string;
    priority: number;
    locality?: string;
    healthy: boolean;
    /** Health flags as Envoy names them, e.g. ["failed_outlier_check"]. */
    flags: string[];
    rqTotal: number;
    rqError: number;
    rqActive: number;
    cxActive: number;
  }>;
}

export interface RunEvent {
  t: number;
  /** push: the harness's control plane wrote new xDS for an Envoy and saw Envoy apply it (detail: envoy, reason, resources, writtenS, latencyMs). */
  /** pod: a pod's step in a `scale` fault (detail.step: created, running, ready, terminating, sigterm, terminated). */
  kind: 'phase' | 'fault' | 'gap' | 'warning' | 'error' | 'process-exit' | 'push' | 'pod';
  what: string;
  detail?: Record<string, unknown>;
}

/** Which Envoy plays which part, so analysis can find the client's view without guessing names. */
export interface TopologyManifest {
  /** Envoy name → role: client (cluster-1 sidecar of the load), a-sidecar, gateway, b-sidecar. */
  envoys: Record<string, { role: 'client' | 'a-sidecar' | 'gateway' | 'b-sidecar' | 'ingress-gateway'; cluster: string; admin?: string }>;
  /** The client's outbound cluster for the federated service, e.g. `outbound|80||a.istio.svc.cluster.local`. */
  clientCluster: string;
  /** Upstream addresses in the client's cluster → which service they lead to ("A" local, "B" via gateway). */
  endpoints: Record<string, { service: string; locality: string; priority: number }>;
  /** General topology: every pod by instance name (x-spillover-instance) with its service, cluster, locality, version. */
  instances?: Record<string, { service: string; cluster: string; locality: string; version?: string; proc: string }>;
  /** General topology: every outbound cluster of the client and its endpoints (`ip:port|locality`). */
  clientClusters?: Record<string, Record<string, { service: string; locality: string; priority: number; weight?: number }>>;
  /**
   * `clients:` form only: every client by name, the first first, with its sidecar Envoy, placement and
   * the directory (relative to the run directory) whose raw/ holds its load files ("." for the first).
   */
  clients?: Record<string, { envoy: string; cluster: string; locality: string; dir: string }>;
}

export interface RunManifest {
  experiment: string;
  runId: string;
  backend: string;
  engine: string;
  /** Unix ms of scenario time zero. */
  t0Epoch: number;
  startedAt: string;
  endedAt?: string;
  timeScale: number;
  overrides: string[];
  seeds: Record<string, number>;
  versions: Record<string, string>;
  gitSha?: string;
  scenarioSha256?: string;
  machine?: Record<string, unknown>;
  topology?: TopologyManifest;
  /** Settings that have no effect in the chosen Istio version, and other translation caveats. */
  warnings: string[];
  /** How the run ended: ok, interrupted (signal), failed (error). */
  outcome?: 'ok' | 'interrupted' | 'failed';
  exitReason?: string;
  /** The resolved experiment (defaults applied, overrides applied). */
  resolved: unknown;
  /** Executor of each k6 scenario by name (arrival-rate = open loop, *-vus = closed loop). */
  executors?: Record<string, string>;
  /** Load average and CPU steal when the load started and ended (src/runner/machine-load.ts). */
  cpu?: { start?: CpuSample; end?: CpuSample };
  /** The durations the run used, in ms, after the time scale and the floors (absent in older runs). */
  effective?: EffectiveTiming;
}

/** manifest.json's `effective`: what src/experiment/normalise.ts resolved the experiment's durations to. */
export interface EffectiveTiming {
  scrape: {
    /** `scrape.interval` as the experiment gives it. */
    requestedIntervalMs: number;
    /** What the stats scraper ran at: the requested interval raised to the floor. */
    intervalMs: number;
    floorMs: number;
    timeoutMs: number;
    clustersIntervalMs?: number;
    clustersTimeoutMs?: number;
  };
  fileFlushIntervalMs: number;
  requestTimeoutMs: number;
  wanDelayMs: number;
  /** Readiness probe and istiod debounce of the harness's pushes (defaults scaled with the time scale). */
  push: { readinessPeriodMs: number; failureThreshold: number; successThreshold: number; debounceMs: number };
  faults: Array<{ action: string; target: string; atMs: number; durationMs?: number; delayMs?: number }>;
}

/** Convert an epoch-ms wall-clock stamp to run seconds. */
export const toRunSeconds = (epochMs: number, t0Epoch: number) => (epochMs - t0Epoch) / 1000;

/** Load average and CPU steal at one moment (src/runner/machine-load.ts samples it). */
export interface CpuSample {
  /** Epoch ms of the sample. */
  at: number;
  loadavg1: number;
  cpus: number;
  /** Cumulative jiffies from /proc/stat's "cpu" line (total and steal); undefined off Linux. */
  totalJiffies?: number;
  stealJiffies?: number;
}
