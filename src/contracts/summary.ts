/**
 * summary.json, the report's record of one run, as a contract: analysis writes it, compare and sweep
 * read it back (through `readSummary`, never by hand). Keys are only ever added, never renamed, so a
 * summary on disk may lack keys newer than the harness that wrote it: `StoredSummary` says so, and the
 * reader checks the type of every key that is there against the one table below, which the compiler
 * holds to the `Summary` type.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';

export const SUMMARY_FILE = 'summary.json';

export type RunEnding = 'completed' | 'interrupted' | 'killed' | 'failed';

export interface RunEndingInfo {
  ending: RunEnding;
  /** The manifest's exitReason, or what the raw files say for a killed run. */
  reason: string | null;
  /** Run time of the last request sent (how far the load got). */
  lastRequestS: number | null;
  loadDone: boolean;
  /** The manifest's endedAt, or for a killed run the time of the last data it wrote (ISO, UTC). */
  endedAt: string | null;
  /** Run seconds of the last thing written (request sent, run event, load tick). */
  lastDataS: number | null;
  /** What the data lack because of how the run ended, in plain words (empty for a completed run). */
  missing: string[];
}

export interface Contention {
  contended: boolean;
  startLagP99Ms: number | null;
  /** Where the lag comes from: the driver's HDR histogram (load-done event) or requests' sent − intended. */
  startLagSource: 'driver' | 'requests' | null;
  loadavgPerCpu: number | null;
  stealPercent: number | null;
  /** One phrase per signal over its threshold. */
  reasons: string[];
}

/** General topology only: who served, by instance, version and locality, and the failovers (analysis/mesh-summary.ts). */
export interface LocalityRun {
  locality: string;
  startS: number;
  endS: number;
  responses: number;
}

export interface MeshSummary {
  byInstance: Record<string, number>;
  byService: Record<string, number>;
  byVersion: Record<string, number>;
  /** Each version's share of the served (2xx/3xx) requests. */
  versionShare: Record<string, number>;
  byLocality: Record<string, number>;
  /** Responses by HTTP status ("0": no HTTP response). */
  status: Record<string, number>;
  /** Runs of at least 10 (analysis/mesh-summary.ts LOCALITY_RUN) consecutive successful responses from one locality, in order. */
  localityRuns: LocalityRun[];
  /** 1 for the first locality to serve such a run, 2 for the next one...; a locality that never did is absent. */
  localityRank: Record<string, number>;
  failovers: Array<{ t: number; from: string; to: string }>;
  /** The client Envoy's upstream_rq_pending_overflow over all its outbound clusters at the last scrape. */
  clientPendingOverflow: number | null;
  /** clientPendingOverflow minus the 503s the load saw marked x-envoy-overloaded: 0 when every overflow reached the client as one. */
  overflowMismatch: number | null;
  /**
   * Shadow copies of a VirtualService mirror that each instance received (its spillover_service_shadow_requests_total
   * at its last scrape), apart from byInstance, which counts only answers the client got. Absent when nothing was mirrored.
   */
  mirrored?: { total: number; byInstance: Record<string, number> };
}

/** `clients:` form: what one client saw, from its own requests (analysis/client-outcomes.ts). */
export interface ClientOutcome {
  /** Its sidecar Envoy, cluster and locality. */
  envoy: string;
  cluster: string;
  locality: string;
  requests: { total: number; ok: number; failed: number };
  successRatio: number | null;
  outcomes: { ok: number; overflow503: number; upstream5xx: number; client4xx: number; transport: number };
  /** Responses by HTTP status ("0": no HTTP response). */
  status: Record<string, number>;
  /** From intended send time, as the aggregate latencyMs. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  /** Requests by the service that served them (A, B, other), as the aggregate servedBy. */
  servedBy: { A: number; B: number; other: number };
  /** Successful responses by instance (x-spillover-instance) and by that instance's locality (general topology). */
  byInstance: Record<string, number>;
  byLocality: Record<string, number>;
}

/** open = arrival-rate executors (offered load is a schedule); closed = VU executors (no offered rate). */
export type LoadModel = 'open' | 'closed' | 'mixed' | 'unknown';

export interface Summary {
  experiment: string;
  runId: string;
  backend: string;
  engine: string;
  outcome: string | null;
  requests: { total: number; ok: number; failed: number; dropped: number };
  successRatio: number | null;
  servedBy: { A: number; B: number; other: number };
  /** B's share of the requests served by A or B. */
  redirectedFraction: number | null;
  events: {
    firstOverflowS: number | null;
    firstEjectionS: number | null;
    redirectOnsetS: number | null;
    redirectEndS: number | null;
    noHealthyUpstreamS: number | null;
    recoveryS: number | null;
  };
  /** Offered (scheduled) load at the first ejection. */
  loadAtFirstEjectionRps: number | null;
  achievedAtFirstEjectionRps: number | null;
  firstEjection: { envoy: string; host: string; service: string; cause: string } | null;
  ejections: number;
  outcomes: { ok: number; overflow503: number; upstream5xx: number; client4xx: number; transport: number };
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  /** False for runs without Envoy telemetry (e.g. imported k6 runs): the Envoy-side panels are empty. */
  envoyTelemetry: boolean;
  warnings: string[];
  /** How the run ended and whether the machine was crowded: both lead the report (run-ending.ts). */
  ending: RunEndingInfo;
  contention: Contention;
  loadModel: LoadModel;
  /** B's share of the A/B-served requests sent inside redirect episodes (caused shifts only). */
  redirectedShare: number | null;
  /** Ejections refused by maxEjectionPercent (outlier_detection.ejections_overflow), client side first. */
  blockedEjections: { firstS: number; count: number; envoy: string; cause: string } | null;
  /** Every overflow counter that rose, named by the limit it belongs to. */
  breakers: Array<{ envoy: string; side: string; counter: string; limit: string; firstS: number; count: number }>;
  /** General topology only: per instance, version and locality, failovers, overflow check (mesh-summary.ts). */
  mesh?: MeshSummary;
  /** `clients:` form only: each client's own figures by client name (`expect:` as clients.<name>.successRatio). */
  clients?: Record<string, ClientOutcome>;
}

/** The two nested groups a summary's key figures sit in may be partial too (older runs lack newer keys). */
type PartialGroups<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends readonly unknown[] ? T[K] : T[K] extends object ? Partial<T[K]> : T[K];
};

/** A summary as read from disk: every key it has is of the type `Summary` gives it; any may be missing. */
export type StoredSummary = PartialGroups<Summary>;

/** How the reader checks one value; the mapped type below ties each key's check to its type in `Summary`. */
type Check = 'string' | 'string|null' | 'number' | 'number|null' | 'boolean' | 'string[]' | 'array' | 'object' | 'object|null' | 'object?';
type CheckFor<V> = [V] extends [string]
  ? 'string'
  : [V] extends [string | null]
    ? 'string|null'
    : [V] extends [number]
      ? 'number'
      : [V] extends [number | null]
        ? 'number|null'
        : [V] extends [boolean]
          ? 'boolean'
          : [V] extends [string[]]
            ? 'string[]'
            : [V] extends [readonly unknown[]]
              ? 'array'
              : [V] extends [object]
                ? ChecksOf<V> | 'object'
                : [V] extends [object | null]
                  ? 'object|null'
                  : [V] extends [object | undefined]
                    ? 'object?'
                    : never;
type ChecksOf<T> = { readonly [K in keyof T]-?: CheckFor<T[K]> };

/** Every key of `Summary` and how to check it: the data the reader validates against. */
const SUMMARY_CHECKS: ChecksOf<Summary> = {
  experiment: 'string',
  runId: 'string',
  backend: 'string',
  engine: 'string',
  outcome: 'string|null',
  requests: { total: 'number', ok: 'number', failed: 'number', dropped: 'number' },
  successRatio: 'number|null',
  servedBy: { A: 'number', B: 'number', other: 'number' },
  redirectedFraction: 'number|null',
  events: {
    firstOverflowS: 'number|null',
    firstEjectionS: 'number|null',
    redirectOnsetS: 'number|null',
    redirectEndS: 'number|null',
    noHealthyUpstreamS: 'number|null',
    recoveryS: 'number|null',
  },
  loadAtFirstEjectionRps: 'number|null',
  achievedAtFirstEjectionRps: 'number|null',
  firstEjection: 'object|null',
  ejections: 'number',
  outcomes: { ok: 'number', overflow503: 'number', upstream5xx: 'number', client4xx: 'number', transport: 'number' },
  latencyMs: { p50: 'number|null', p95: 'number|null', p99: 'number|null', max: 'number|null' },
  envoyTelemetry: 'boolean',
  warnings: 'string[]',
  ending: 'object',
  contention: 'object',
  loadModel: 'string',
  redirectedShare: 'number|null',
  blockedEjections: 'object|null',
  breakers: 'array',
  mesh: 'object?',
  clients: 'object?',
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function holds(check: Check, v: unknown): boolean {
  switch (check) {
    case 'string':
      return typeof v === 'string';
    case 'string|null':
      return v === null || typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'number|null':
      return v === null || typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isObject(v);
    case 'object|null':
      return v === null || isObject(v);
    case 'object?':
      return v === undefined || isObject(v);
  }
}

interface Problem {
  path: string;
  expected: string;
  found: unknown;
}

/** Dotted paths of the keys that are there but of the wrong type (or, when `complete`, missing), with what was expected. */
function mistyped(value: Record<string, unknown>, checks: object, complete: boolean, prefix = ''): Problem[] {
  const out: Problem[] = [];
  for (const [key, check] of Object.entries(checks) as Array<[string, Check | object]>) {
    if (!(key in value)) {
      if (complete && check !== 'object?')
        out.push({ path: prefix + key, expected: typeof check === 'string' ? check : 'an object', found: undefined });
      continue;
    }
    const v = value[key];
    if (typeof check === 'string') {
      if (!holds(check, v)) out.push({ path: prefix + key, expected: check, found: v });
    } else if (!isObject(v)) out.push({ path: prefix + key, expected: 'an object', found: v });
    else out.push(...mistyped(v, check, complete, `${prefix}${key}.`));
  }
  return out;
}

/** `complete`: every key of `Summary` must be there (a summary this harness has just written). */
export interface SummaryCheckOptions {
  complete?: boolean;
}

/**
 * Check a parsed summary (from summary.json, or one embedded in a baseline). `where` names the file
 * and `at` the path of the summary inside it, for the error.
 */
export function checkSummary(value: unknown, where: { file: string; at?: string }, opts?: { complete?: false }): StoredSummary;
export function checkSummary(value: unknown, where: { file: string; at?: string }, opts: { complete: true }): Summary;
export function checkSummary(value: unknown, where: { file: string; at?: string }, opts: SummaryCheckOptions = {}): StoredSummary {
  const fix = where.at
    ? 'restore the file from git, or write it again with `spillover compare ... --update-baseline`'
    : `run \`spillover report <run-dir>\` to write it again from the run's raw data`;
  if (!isObject(value)) {
    throw new SpilloverError({
      file: where.file,
      path: where.at,
      message: 'the run summary is not a JSON object',
      expected: '{ experiment, runId, requests, events, ... }',
      found: JSON.stringify(value)?.slice(0, 60),
      fix,
    });
  }
  const bad = mistyped(value, SUMMARY_CHECKS, opts.complete === true);
  if (bad.length) {
    throw new SpilloverError(
      bad.map((b) => ({
        file: where.file,
        path: where.at ? `${where.at}.${b.path}` : b.path,
        message: b.found === undefined ? 'a run summary field is missing' : 'a run summary field has the wrong type',
        expected: b.expected,
        found: b.found === undefined ? 'nothing' : JSON.stringify(b.found).slice(0, 60),
        fix,
      })),
    );
  }
  return value as StoredSummary;
}

const display = (p: string) => path.relative(process.cwd(), p) || p;

/** Read and check `<dir>/summary.json`; a missing, unreadable or malformed file is a SpilloverError naming it. */
export function readSummary(dir: string, opts?: { complete?: false }): StoredSummary;
export function readSummary(dir: string, opts: { complete: true }): Summary;
export function readSummary(dir: string, opts: SummaryCheckOptions = {}): StoredSummary {
  const file = path.join(dir, SUMMARY_FILE);
  const fix = `run \`spillover report ${display(dir)}\` to (re)write it`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpilloverError({
      file: display(file),
      message: `cannot read the run summary (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      fix,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SpilloverError({ file: display(file), message: `the run summary is not valid JSON: ${(e as Error).message}`, fix });
  }
  return opts.complete ? checkSummary(value, { file: display(file) }, { complete: true }) : checkSummary(value, { file: display(file) });
}
