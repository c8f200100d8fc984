/**
 * Backends bring a two-cluster mesh up and down. The run (src/orchestrate/run.ts) knows nothing else about
 * them: whatever a backend is (Envoy processes on loopback, kind clusters, existing clusters), it hands
 * back where the load goes in, what to scrape, and which proxy is which -- and the raw results it leaves
 * are the same format, so analysis and report are one code path.
 */
import type { ResolvedExperiment } from '../experiment/read-experiment.ts';
import type { TimedFault } from '../experiment/normalise.ts';
import type { RunEvent, TopologyManifest } from '../contracts/raw.ts';
import type { MeshPlan } from '../mesh/plan.ts';
import type { LoadEngine } from '../load/engine.ts';

export interface BackendContext {
  experiment: ResolvedExperiment;
  runDir: string;
  runId: string;
  /** Aborted on Ctrl-C / SIGTERM: long steps must stop promptly and leave `down()` able to clean up. */
  signal: AbortSignal;
  log(msg: string): void;
  event(e: Omit<RunEvent, 't'>): void;
}

export interface ScrapeTarget {
  name: string;
  kind: 'envoy' | 'service';
  /** e.g. http://127.0.1.3:15000 (local) or a port-forwarded address (kind). */
  baseUrl: string;
  /** Only while true (a pod a `scale` fault creates or deletes); always when absent. */
  exists?: () => boolean;
}

export interface Deployment {
  /** Where the load enters the mesh: the URL keeps the service host; connectTo is the socket to dial. */
  entry: { url: string; connectTo?: string };
  /** `clients:` form: where each client's load enters the mesh (its own sidecar), by client name; `entry` is the first's. */
  clientEntries?: Record<string, { url: string; connectTo?: string }>;
  scrapeTargets: ScrapeTarget[];
  topology: TopologyManifest;
  /** Translation caveats (fields without effect in the chosen Istio version, dropped endpoints). */
  warnings: string[];
  /** Versions of what runs (Envoy, Istio semantics, Kubernetes...), for the manifest. */
  versions: Record<string, string>;
  /** Inject a fault during the run (experiment `faults:`). */
  fault(f: TimedFault): Promise<void>;
  /** Human instructions to reach the deployment when it is kept up with --keep. */
  describe(): string;
  /** Processes or resources that ended on their own during the run (crash detection). */
  casualties(): string[];
  /**
   * Cluster backends with `load.engine: k6`: the engine of k6 inside cluster-1 (in the mesh, like the
   * study's clients). Absent where the run brings its own engine (the embedded driver, k6 on PATH).
   */
  loadEngine?: LoadEngine;
}

export interface DryRunPlan {
  /** Files written (relative to the run directory). */
  files: string[];
  /** The steps `up` would take, in order, human-readable (commands for kind/kube). */
  steps: string[];
  /** The local backend's mesh plan (addresses, identities, resources), for `spillover mesh diff`. */
  meshPlan?: MeshPlan;
}

export interface Backend {
  readonly name: 'local' | 'kind' | 'kube';
  /** Write everything `up` would create or apply into ctx.runDir without starting anything. */
  plan(ctx: BackendContext): Promise<DryRunPlan>;
  up(ctx: BackendContext): Promise<Deployment>;
  /** Idempotent; safe after a partial `up`. With keep, leave everything running. */
  down(opts: { keep: boolean }): Promise<void>;
  /** Find and remove what killed earlier runs left behind (by run prefix). Returns what was removed. */
  cleanupStale(): Promise<string[]>;
}
