/**
 * Reads a k6 script the way the embedded driver honours it: the exported `options` (validated with
 * k6's rules) and the exported `requests` (plain data) that the default function loops over.
 *
 * The script runs in an isolated `node:vm` context: k6 modules are stubs, there is no `require`, no
 * `fetch`, no `process`, code generation from strings is off, and evaluation has a time limit. esbuild
 * turns the ES module into CommonJS first, so no experimental VM-module flag is needed.
 *
 * The driver cannot see inside the default function, so it checks it instead: each scenario's exec
 * function is called a few times with stubbed k6 APIs that only record what it does. It must make
 * exactly the requests listed in `requests`, in order, and nothing else (no sleep, check, group,
 * custom metrics, ...). Anything else is an error that says to use the k6 engine; nothing is ignored
 * silently. This catches logic that varies with __VU/__ITER; logic driven by randomness or time may
 * still slip through and remains the script author's responsibility.
 *
 * `__ENV` holds only the env given (the experiment's load.env / --env), not the process environment
 * that `k6 run` would add by default: a run must not depend on the shell it was started from.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { transformSync } from 'esbuild';
import { isSpilloverError, SpilloverError, type ProblemDetail } from '../errors.ts';
import { similarFile } from '../experiment/did-you-mean.ts';
import { parseK6DurationSeconds } from '../util/duration.ts';
import { readTextInput } from '../util/read-text-input.ts';
import { SUPPORTED_EXECUTORS, type RequestSpec, type Scenario, type ScenarioSpec, type Stage } from './types.ts';
import { scale } from './scale-scenario.ts';

export interface ReadScenarioOptions {
  env?: Record<string, string>;
  /**
   * 0 < F ≤ 1. Multiplies every duration (stage durations, duration, startTime, gracefulStop,
   * gracefulRampDown) but NOT timeUnit: rates stay the same, so a time-scaled run still pushes the
   * service to the same load levels (the point where breakers overflow is a rate), just for a
   * shorter time. Validation (e.g. k6's duration ≥ 1s) applies to the script as written.
   */
  timeScale?: number;
  /** Wall-clock limit for evaluating the script and each dry-run call (default 2000 ms). */
  evalTimeoutMs?: number;
  /** k6 CLI overrides (--vus, --duration, --iterations, --tag). */
  cli?: import('./vu/options.ts').CliOverrides;
  /** `--out json=FILE` / `--summary-export FILE` (k6's outputs; written by the VU runtime). */
  outJson?: string;
  summaryExport?: string;
  /** Always use the VU runtime, even for a plain-data script. */
  forceVu?: boolean;
}

/**
 * Evaluate a k6 script: first as k6 does (vu/program.ts: bundle, init context, options, every k6
 * rule), then, when the script is plain data (exported `requests`, a default function that only loops
 * over them, no thresholds, setup, teardown or handleSummary, no k6 outputs asked for, one of the four
 * executors the fast path implements), the fast path's own reading, which checks that equivalence by
 * dry-running the function. Anything else runs in the VU runtime.
 */
/**
 * The script's text. Refuses a FIFO, device, directory, UTF-16 or binary file without blocking
 * (read-text-input.ts); a missing one gets a guess: a close name, or the file under scenarios/.
 */
function readScenarioText(file: string, rel = path.relative(process.cwd(), file) || file): string {
  try {
    return readTextInput(file, 'scenario script');
  } catch (e) {
    if (!isSpilloverError(e) || fs.existsSync(file)) throw e;
    const inScenarios = path.join('scenarios', `${path.basename(rel, '.js')}.js`);
    const guess = similarFile(rel) ?? (fs.existsSync(inScenarios) && inScenarios !== rel ? inScenarios : similarFile(inScenarios));
    throw new SpilloverError(
      e.problems.map((p) => ({ ...p, fix: guess ? `did you mean ${guess}?` : 'check the path (scenarios live in scenarios/*.js)' })),
    );
  }
}

export async function readScenario(file: string, opts: ReadScenarioOptions = {}): Promise<Scenario> {
  // A missing file gets its did-you-mean here, before the VU runtime reads it; a present one is read once, below.
  if (!fs.existsSync(file)) readScenarioText(file);
  const { loadVuProgram } = await import('./vu/program.ts');
  const vu = await loadVuProgram(file, opts);
  const p = vu.vu!;
  const plain =
    !opts.forceVu &&
    !opts.outJson &&
    !opts.summaryExport &&
    opts.cli === undefined &&
    p.options.thresholds === undefined &&
    !['setup', 'teardown', 'handleSummary'].some((f) => p.exportedFunctions.includes(f)) &&
    vu.scenarios.every((s) => (SUPPORTED_EXECUTORS as readonly string[]).includes(s.executor)) &&
    p.customMetrics.length === 0;
  if (plain) {
    try {
      return await readPlainScenario(file, opts);
    } catch (e) {
      if (!(e instanceof SpilloverError)) throw e;
    }
  }
  return vu;
}

const USE_K6 = 'run it with --engine k6 (a real k6 binary), which honours every k6 feature';

/** Top-level options that shape load and that the driver implements. */
const HONOURED_TOP = new Set(['scenarios', 'vus', 'duration', 'stages', 'discardResponseBodies']);
/** Top-level options that do not change what is sent or when; accepted with a warning since nothing acts on them. */
const WARNED_TOP = new Set([
  'thresholds',
  'tags',
  'summaryTrendStats',
  'summaryTimeUnit',
  'noColor',
  'systemTags',
  'cloud',
  'ext',
  'setupTimeout',
  'teardownTimeout',
  'summaryMode',
]);
const COMMON_KEYS = ['executor', 'startTime', 'gracefulStop', 'env', 'exec', 'tags'];
const EXECUTOR_KEYS: Record<string, string[]> = {
  'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs'],
  'ramping-arrival-rate': ['startRate', 'timeUnit', 'stages', 'preAllocatedVUs', 'maxVUs'],
  'constant-vus': ['vus', 'duration'],
  'ramping-vus': ['startVUs', 'stages', 'gracefulRampDown'],
};
const SCENARIO_NAME = /^[0-9a-zA-Z_-]+$/;
const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);

const show = (v: unknown): string => {
  if (typeof v === 'function') return 'a function';
  if (v === undefined) return 'nothing (undefined)';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(v);
  }
};

class Problems {
  readonly list: ProblemDetail[] = [];
  constructor(readonly file: string) {}
  add(p: Omit<ProblemDetail, 'file'>): void {
    this.list.push({ file: this.file, ...p });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new SpilloverError(this.list);
  }
}

interface Recorded {
  calls: RequestSpec[];
  unsupported: string[];
}

/** Stub k6 modules. Each API call records into `rec` (or flags itself as something the driver cannot do). */
function k6Stubs(rec: { current: Recorded | null }) {
  const flag =
    (name: string) =>
    (..._args: unknown[]) => {
      (rec.current ?? initCalls).unsupported.push(name);
      return undefined;
    };
  const initCalls: Recorded = { calls: [], unsupported: [] };
  const request = (method: unknown, url: unknown, body?: unknown, params?: unknown) => {
    const target = rec.current ?? initCalls;
    if (rec.current === null) {
      target.unsupported.push('http requests in the init context');
      return fakeResponse;
    }
    const p = (params ?? {}) as Record<string, unknown>;
    const extra = typeof p === 'object' ? Object.keys(p).filter((k) => k !== 'headers' && p[k] !== undefined) : ['params'];
    if (extra.length > 0) target.unsupported.push(`request params ${extra.join(', ')}`);
    const headers = p.headers as Record<string, string> | undefined;
    target.calls.push({
      method: String(method).toUpperCase(),
      url: String(url),
      body: body == null ? null : typeof body === 'string' ? body : show(body),
      ...(headers && Object.keys(headers).length > 0 ? { headers: { ...headers } } : {}),
    });
    return fakeResponse;
  };
  const fakeResponse = { status: 200, body: '', headers: {}, timings: {}, json: () => ({}), html: () => ({}) };
  const http = {
    request,
    get: (url: unknown, params?: unknown) => request('GET', url, null, params),
    head: (url: unknown, params?: unknown) => request('HEAD', url, null, params),
    post: (url: unknown, body?: unknown, params?: unknown) => request('POST', url, body, params),
    put: (url: unknown, body?: unknown, params?: unknown) => request('PUT', url, body, params),
    patch: (url: unknown, body?: unknown, params?: unknown) => request('PATCH', url, body, params),
    del: (url: unknown, body?: unknown, params?: unknown) => request('DELETE', url, body, params),
    options: (url: unknown, body?: unknown, params?: unknown) => request('OPTIONS', url, body, params),
    batch: flag('http.batch'),
    asyncRequest: flag('http.asyncRequest'),
    setResponseCallback: flag('http.setResponseCallback'),
    expectedStatuses: () => ({}),
    file: flag('http.file'),
    cookieJar: flag('http.cookieJar'),
  };
  const k6 = { sleep: flag('sleep'), check: flag('check'), group: flag('group'), fail: flag('fail'), randomSeed: flag('randomSeed') };
  const metric = (kind: string) =>
    class {
      constructor(readonly name: string) {}
      add() {
        (rec.current ?? initCalls).unsupported.push(`custom ${kind} metric`);
      }
    };
  const metrics = { Counter: metric('Counter'), Gauge: metric('Gauge'), Rate: metric('Rate'), Trend: metric('Trend') };
  const esm = (o: Record<string, unknown>) => ({ __esModule: true, default: o, ...o });
  return {
    initCalls,
    modules: { 'k6/http': esm(http), k6: esm(k6), 'k6/metrics': esm(metrics) } as Record<string, unknown>,
  };
}

/** Evaluate, validate and type a plain-data k6 script for the fast path. Throws one SpilloverError listing every problem. */
export async function readPlainScenario(file: string, opts: ReadScenarioOptions = {}): Promise<Scenario> {
  const rel = path.relative(process.cwd(), file) || file;
  const problems = new Problems(rel);
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0 && timeScale <= 1)) {
    throw new SpilloverError({
      file: rel,
      path: 'timeScale',
      message: 'time scale out of range',
      expected: 'a number with 0 < F <= 1',
      found: show(timeScale),
    });
  }
  const source = readScenarioText(file, rel);
  let code: string;
  try {
    code = transformSync(source, { format: 'cjs', loader: 'js', target: 'es2022', sourcefile: rel }).code;
  } catch (e) {
    const err = e as { errors?: Array<{ text: string; location?: { line: number } }> };
    const first = err.errors?.[0];
    throw new SpilloverError({
      file: rel,
      line: first?.location?.line,
      message: 'the script is not valid JavaScript',
      found: first?.text ?? String(e),
      fix: `correct the syntax at that line (\`node --check ${rel}\` shows it too); k6 scripts are ES modules`,
    });
  }

  const env = { ...(opts.env ?? {}) };
  const rec: { current: Recorded | null } = { current: null };
  const stubs = k6Stubs(rec);
  const badImports: string[] = [];
  const module = { exports: {} as Record<string, unknown> };
  const sandbox: Record<string, unknown> = {
    module,
    exports: module.exports,
    __ENV: env,
    __VU: 0,
    __ITER: 0,
    console: { log() {}, info() {}, warn() {}, error() {}, debug() {} },
    require: (name: string) => {
      if (Object.hasOwn(stubs.modules, name)) return stubs.modules[name];
      badImports.push(name);
      return { __esModule: true, default: {} };
    },
  };
  const context = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false }, name: rel });
  const timeout = opts.evalTimeoutMs ?? 2000;
  try {
    vm.runInContext(code, context, { filename: rel, timeout });
  } catch (e) {
    throw new SpilloverError({
      file: rel,
      message: 'evaluating the script failed',
      found: (e as Error)?.message ?? String(e),
      fix: 'the embedded driver evaluates scripts without network or Node APIs; keep the init context to options and plain data',
    });
  }
  for (const name of badImports) {
    problems.add({
      path: `import '${name}'`,
      message: 'module not available to the embedded driver',
      expected: "only 'k6', 'k6/http' and 'k6/metrics'",
      found: name,
      fix: USE_K6,
    });
  }
  for (const u of stubs.initCalls.unsupported)
    problems.add({ path: 'init context', message: `${u} cannot be honoured by the embedded driver`, fix: USE_K6 });
  const exported = module.exports;
  for (const fn of ['setup', 'teardown']) {
    if (typeof exported[fn] === 'function')
      problems.add({ path: fn, message: `the script exports ${fn}(), which the embedded driver does not run`, fix: USE_K6 });
  }
  const warnings: string[] = [];
  if (typeof exported.handleSummary === 'function')
    warnings.push('handleSummary() is not run by the embedded driver; the report replaces it');

  const requests = validateRequests(exported.requests, problems);
  const specs = validateOptions(exported.options, problems, warnings, exported);
  problems.throwIfAny();

  for (const spec of specs) {
    const calls = dryRun(context, sandbox, rec, exported, spec, env, timeout, problems);
    if (calls) compareRequests(calls, requests!, spec, problems);
    spec.requests = requests!;
  }
  problems.throwIfAny();

  const scaled = specs.map((s) => scale(s, timeScale));
  scaled.sort((a, b) => a.startTime - b.startTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { file, timeScale, scenarios: scaled, warnings };
}

function validateRequests(value: unknown, problems: Problems): RequestSpec[] | undefined {
  const fix =
    'export const requests = [{ method: "GET", url: "http://..." }] and loop over it in the default function (see scenarios/peak-load.js)';
  if (!Array.isArray(value) || value.length === 0) {
    problems.add({
      path: 'requests',
      message: 'the embedded driver needs the requests each iteration makes as plain data',
      expected: 'a non-empty exported array of {method, url, body?, headers?}',
      found: show(value),
      fix: `${fix}; or ${USE_K6}`,
    });
    return undefined;
  }
  const out: RequestSpec[] = [];
  value.forEach((r: unknown, i: number) => {
    const at = `requests[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      problems.add({ path: at, message: 'not a request object', expected: '{method, url, body?, headers?}', found: show(r), fix });
      return;
    }
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['method', 'url', 'body', 'headers'].includes(k))
        problems.add({
          path: `${at}.${k}`,
          message: 'unknown request field',
          expected: 'method, url, body or headers',
          found: k,
          fix: `remove it, or ${USE_K6}`,
        });
    }
    const method = typeof o.method === 'string' ? o.method.toUpperCase() : undefined;
    if (!method || !HTTP_METHODS.has(method))
      problems.add({ path: `${at}.method`, message: 'not an HTTP method', expected: [...HTTP_METHODS].join(', '), found: show(o.method) });
    let url: URL | undefined;
    try {
      url = typeof o.url === 'string' ? new URL(o.url) : undefined;
    } catch {
      /* reported below */
    }
    if (!url || !['http:', 'https:'].includes(url.protocol))
      problems.add({
        path: `${at}.url`,
        message: 'not an absolute http(s) URL',
        expected: 'e.g. http://a.istio.svc.cluster.local/work',
        found: show(o.url),
      });
    if (o.body != null && typeof o.body !== 'string')
      problems.add({
        path: `${at}.body`,
        message: 'body must be a string',
        expected: 'a string (JSON.stringify objects yourself)',
        found: show(o.body),
      });
    const headers: Record<string, string> = {};
    if (o.headers !== undefined) {
      if (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers)) {
        problems.add({ path: `${at}.headers`, message: 'headers must be an object of strings', found: show(o.headers) });
      } else {
        for (const [k, v] of Object.entries(o.headers as Record<string, unknown>)) {
          if (typeof v !== 'string') problems.add({ path: `${at}.headers.${k}`, message: 'header value must be a string', found: show(v) });
          else headers[k] = v;
        }
      }
    }
    out.push({
      method: method ?? 'GET',
      url: String(o.url),
      body: (o.body as string | null | undefined) ?? null,
      ...(Object.keys(headers).length ? { headers } : {}),
    });
  });
  return out;
}

function validateOptions(value: unknown, problems: Problems, warnings: string[], exported: Record<string, unknown>): ScenarioSpec[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.add({
      path: 'options',
      message: 'no load shape: without options k6 runs a single iteration (shared-iterations)',
      expected: 'export const options = { scenarios: {...} }',
      found: show(value),
      fix: `define scenarios with a supported executor (${SUPPORTED_EXECUTORS.join(', ')}), or ${USE_K6}`,
    });
    return [];
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (o[k] === undefined || HONOURED_TOP.has(k)) continue;
    if (WARNED_TOP.has(k)) warnings.push(`options.${k} is not evaluated by the embedded driver (it does not change the load)`);
    else
      problems.add({
        path: `options.${k}`,
        message: 'option not honoured by the embedded driver',
        found: show(o[k]),
        fix: `remove it, or ${USE_K6}`,
      });
  }
  const raw: Array<[string, Record<string, unknown>, string]> = [];
  if (o.scenarios !== undefined) {
    for (const k of ['vus', 'duration', 'stages', 'iterations']) {
      if (o[k] !== undefined)
        problems.add({
          path: `options.${k}`,
          message: 'shortcut options cannot be combined with options.scenarios (k6 rejects this too)',
          found: show(o[k]),
          fix: 'move it into a scenario',
        });
    }
    if (typeof o.scenarios !== 'object' || o.scenarios === null || Array.isArray(o.scenarios)) {
      problems.add({ path: 'options.scenarios', message: 'scenarios must be an object keyed by scenario name', found: show(o.scenarios) });
      return [];
    }
    const entries = Object.entries(o.scenarios as Record<string, unknown>);
    if (entries.length === 0)
      problems.add({ path: 'options.scenarios', message: 'no scenarios defined', expected: 'at least one scenario', found: '{}' });
    for (const [name, sc] of entries) {
      const at = `options.scenarios.${name}`;
      if (!SCENARIO_NAME.test(name))
        problems.add({ path: at, message: 'invalid scenario name', expected: 'letters, digits, _ and - only', found: name });
      if (typeof sc !== 'object' || sc === null || Array.isArray(sc))
        problems.add({ path: at, message: 'scenario must be an object', found: show(sc) });
      else raw.push([name, sc as Record<string, unknown>, at]);
    }
  } else if (o.stages !== undefined) {
    raw.push(['default', { executor: 'ramping-vus', startVUs: o.vus ?? 1, stages: o.stages }, 'options']);
  } else if (o.duration !== undefined) {
    raw.push(['default', { executor: 'constant-vus', vus: o.vus ?? 1, duration: o.duration }, 'options']);
  } else {
    problems.add({
      path: 'options',
      message: 'no load shape: k6 would run a single shared iteration',
      expected: 'options.scenarios, or vus + duration, or stages',
      found: show(o),
      fix: `define a scenario, or ${USE_K6}`,
    });
  }
  const specs: ScenarioSpec[] = [];
  for (const [name, sc, at] of raw) {
    const spec = validateScenario(name, sc, at, problems, exported);
    if (spec) specs.push(spec);
  }
  return specs;
}

function validateScenario(
  name: string,
  sc: Record<string, unknown>,
  at: string,
  problems: Problems,
  exported: Record<string, unknown>,
): ScenarioSpec | undefined {
  const executor = sc.executor;
  const p = (k: string) => (at === 'options' && ['vus', 'duration', 'stages'].includes(k) ? `options.${k}` : `${at}.${k}`);
  if (typeof executor !== 'string' || !Object.hasOwn(EXECUTOR_KEYS, executor)) {
    const known = ['shared-iterations', 'per-vu-iterations', 'externally-controlled'].includes(executor as string);
    problems.add({
      path: p('executor'),
      message: known ? `executor "${executor}" is not implemented by the embedded driver` : 'unknown or missing executor',
      expected: SUPPORTED_EXECUTORS.join(', '),
      found: show(executor),
      fix: USE_K6,
    });
    return undefined;
  }
  const allowed = new Set([...COMMON_KEYS, ...EXECUTOR_KEYS[executor]]);
  for (const k of Object.keys(sc)) {
    if (sc[k] === undefined || allowed.has(k)) continue;
    problems.add({
      path: p(k),
      message: `unknown field for executor ${executor} (k6 rejects it too)`,
      expected: [...allowed].join(', '),
      found: k,
      fix: k === 'options' ? USE_K6 : 'remove or rename it',
    });
  }
  const before = problems.list.length;
  const dur = (k: string, opt: { def?: number; min?: number; positive?: boolean } = {}): number => {
    const v = sc[k];
    if (v === undefined) {
      if (opt.def === undefined) {
        problems.add({ path: p(k), message: 'required', expected: 'a k6 duration such as "30s" or "1m30s"', found: 'nothing' });
        return 0;
      }
      return opt.def;
    }
    const s = parseK6DurationSeconds(v);
    if (s === undefined) {
      problems.add({
        path: p(k),
        message: 'not a k6 duration',
        expected: 'e.g. "500ms", "30s", "1m30s" (a number means milliseconds)',
        found: show(v),
      });
      return 0;
    }
    if (s < 0 || (opt.positive && s <= 0) || (opt.min !== undefined && s < opt.min)) {
      problems.add({
        path: p(k),
        message: 'duration out of range',
        expected: opt.min !== undefined ? `at least ${opt.min}s` : opt.positive ? 'greater than 0' : 'at least 0',
        found: show(v),
      });
    }
    return s;
  };
  const int = (k: string, opt: { def?: number; min: number }): number => {
    const v = sc[k];
    if (v === undefined) {
      if (opt.def === undefined) {
        problems.add({ path: p(k), message: 'required', expected: `an integer >= ${opt.min}`, found: 'nothing' });
        return 0;
      }
      return opt.def;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < opt.min) {
      problems.add({ path: p(k), message: 'not a valid count', expected: `an integer >= ${opt.min}`, found: show(v) });
      return 0;
    }
    return v;
  };
  const stages = (): Stage[] => {
    const v = sc.stages;
    if (!Array.isArray(v) || v.length === 0) {
      problems.add({
        path: p('stages'),
        message: 'at least one stage is required',
        expected: '[{ duration: "30s", target: 100 }, ...]',
        found: show(v),
      });
      return [];
    }
    return v.map((st: unknown, i: number) => {
      const sp = `${p('stages')}[${i}]`;
      if (typeof st !== 'object' || st === null) {
        problems.add({ path: sp, message: 'not a stage', expected: '{ duration, target }', found: show(st) });
        return { duration: 0, target: 0 };
      }
      const s = st as Record<string, unknown>;
      for (const k of Object.keys(s))
        if (k !== 'duration' && k !== 'target')
          problems.add({ path: `${sp}.${k}`, message: 'unknown stage field', expected: 'duration, target', found: k });
      const d = parseK6DurationSeconds(s.duration);
      if (d === undefined || d < 0)
        problems.add({ path: `${sp}.duration`, message: 'not a k6 duration >= 0', expected: 'e.g. "30s"', found: show(s.duration) });
      const t = s.target;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
        problems.add({ path: `${sp}.target`, message: 'not a valid target', expected: 'an integer >= 0', found: show(t) });
      return { duration: d ?? 0, target: typeof t === 'number' ? t : 0 };
    });
  };
  const startTime = dur('startTime', { def: 0 });
  const gracefulStop = dur('gracefulStop', { def: 30 });
  const exec = sc.exec === undefined ? 'default' : String(sc.exec);
  if (typeof exported[exec] !== 'function') {
    problems.add({
      path: p('exec'),
      message:
        typeof sc.exec === 'string' || sc.exec === undefined
          ? `the script does not export a function "${exec}"`
          : 'exec must name an exported function',
      expected: 'the name of an exported function, e.g. "default"',
      found: show(sc.exec ?? 'default'),
      fix: 'export default function () { for (const r of requests) http.request(...) }',
    });
  }
  const env: Record<string, string> = {};
  if (sc.env !== undefined) {
    if (typeof sc.env !== 'object' || sc.env === null)
      problems.add({ path: p('env'), message: 'env must be an object of strings', found: show(sc.env) });
    else
      for (const [k, v] of Object.entries(sc.env)) {
        if (typeof v !== 'string') problems.add({ path: `${p('env')}.${k}`, message: 'env values must be strings', found: show(v) });
        else env[k] = v;
      }
  }
  const base = { name, startTime, gracefulStop, exec, env, requests: [] as RequestSpec[] };
  let spec: ScenarioSpec;
  const pool = () => {
    const preAllocatedVUs = int('preAllocatedVUs', { min: 0 });
    const maxVUs = sc.maxVUs === undefined ? preAllocatedVUs : int('maxVUs', { min: 0 });
    if (maxVUs < preAllocatedVUs)
      problems.add({
        path: p('maxVUs'),
        message: 'maxVUs is smaller than preAllocatedVUs',
        expected: `>= ${preAllocatedVUs}`,
        found: show(sc.maxVUs),
      });
    if (maxVUs === 0 && sc.preAllocatedVUs !== undefined)
      problems.add({ path: p('preAllocatedVUs'), message: 'either preAllocatedVUs or maxVUs must be positive', found: '0' });
    return { preAllocatedVUs, maxVUs };
  };
  switch (executor) {
    case 'constant-arrival-rate': {
      const rate = int('rate', { min: 1 });
      const timeUnit = dur('timeUnit', { def: 1, positive: true });
      const duration = dur('duration', { min: 1 });
      spec = { ...base, executor, rate, timeUnit, duration, ...pool() };
      break;
    }
    case 'ramping-arrival-rate': {
      const startRate = int('startRate', { def: 0, min: 0 });
      const timeUnit = dur('timeUnit', { def: 1, positive: true });
      const st = stages();
      spec = { ...base, executor, startRate, timeUnit, stages: st, ...pool() };
      if (st.length > 0 && st.reduce((a, s) => a + s.duration, 0) <= 0)
        problems.add({
          path: p('stages'),
          message: 'total stage duration is 0',
          expected: 'a positive total duration',
          found: show(sc.stages),
        });
      break;
    }
    case 'constant-vus': {
      const vus = int('vus', { def: 1, min: 1 });
      const duration = dur('duration', { min: 1 });
      spec = { ...base, executor, vus, duration };
      break;
    }
    default: {
      const startVUs = int('startVUs', { def: 1, min: 0 });
      const st = stages();
      const gracefulRampDown = dur('gracefulRampDown', { def: 30 });
      if (st.length > 0 && startVUs === 0 && st.every((s) => s.target === 0))
        problems.add({
          path: p('stages'),
          message: 'every stage target and startVUs are 0: no VU would ever run',
          expected: 'at least one positive target',
        });
      spec = { ...base, executor: 'ramping-vus', startVUs, stages: st, gracefulRampDown };
    }
  }
  return problems.list.length === before ? spec : undefined;
}

/** Call the scenario's exec function with recording stubs for a few (__VU, __ITER) pairs. */
function dryRun(
  context: vm.Context,
  sandbox: Record<string, unknown>,
  rec: { current: Recorded | null },
  exported: Record<string, unknown>,
  spec: ScenarioSpec,
  env: Record<string, string>,
  timeout: number,
  problems: Problems,
): RequestSpec[] | undefined {
  const env0 = { ...env };
  Object.assign(env, spec.env);
  let first: RequestSpec[] | undefined;
  try {
    for (const [vu, iter] of [
      [1, 0],
      [1, 1],
      [2, 0],
      [7, 13],
    ]) {
      const recorded: Recorded = { calls: [], unsupported: [] };
      rec.current = recorded;
      sandbox.__VU = vu;
      sandbox.__ITER = iter;
      sandbox.__spilloverTarget = exported[spec.exec];
      let result: unknown;
      try {
        result = vm.runInContext('__spilloverTarget()', context, { timeout });
      } catch (e) {
        problems.add({
          path: `${spec.exec}()`,
          message: `the ${spec.exec === 'default' ? 'default function' : `function ${spec.exec}`} failed when the driver checked it (scenario ${spec.name})`,
          found: (e as Error)?.message ?? String(e),
          fix: USE_K6,
        });
        return undefined;
      }
      if (result && typeof (result as { then?: unknown }).then === 'function') {
        problems.add({ path: `${spec.exec}()`, message: 'async iteration logic cannot be seen by the embedded driver', fix: USE_K6 });
        return undefined;
      }
      if (recorded.unsupported.length > 0) {
        problems.add({
          path: `${spec.exec}()`,
          message: `uses ${[...new Set(recorded.unsupported)].join(', ')}, which the embedded driver cannot honour (scenario ${spec.name})`,
          fix: `keep the function a plain loop over requests, or ${USE_K6}`,
        });
        return undefined;
      }
      if (first === undefined) first = recorded.calls;
      else if (JSON.stringify(first) !== JSON.stringify(recorded.calls)) {
        problems.add({
          path: `${spec.exec}()`,
          message: `makes different requests for different __VU/__ITER (scenario ${spec.name}); the embedded driver sends the same requests every iteration`,
          fix: USE_K6,
        });
        return undefined;
      }
    }
  } finally {
    rec.current = null;
    for (const k of Object.keys(env)) delete env[k];
    Object.assign(env, env0);
  }
  return first;
}

function compareRequests(calls: RequestSpec[], requests: RequestSpec[], spec: ScenarioSpec, problems: Problems): void {
  const norm = (r: RequestSpec) => JSON.stringify([r.method.toUpperCase(), r.url, r.body ?? null, Object.entries(r.headers ?? {}).sort()]);
  const a = calls.map(norm);
  const b = requests.map(norm);
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    problems.add({
      path: `${spec.exec}()`,
      message: `the requests the ${spec.exec === 'default' ? 'default function' : `function ${spec.exec}`} makes differ from the exported requests (scenario ${spec.name})`,
      expected: `exactly requests, in order: ${b.join(' ')}`,
      found: a.length === 0 ? 'no requests' : a.join(' '),
      fix: `make it loop over requests (for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers })), or ${USE_K6}`,
    });
  }
}

/** A scenario from CLI flags (`spillover load <url> --rate R --duration D`): one constant-arrival-rate scenario. */
export function directScenario(o: {
  url: string;
  rate: number;
  duration: number;
  method?: string;
  preAllocatedVUs?: number;
  maxVUs?: number;
  timeUnit?: number;
  gracefulStop?: number;
  headers?: Record<string, string>;
  body?: string;
}): Scenario {
  const problems = new Problems('command line');
  let ok = true;
  try {
    const u = new URL(o.url);
    if (!['http:', 'https:'].includes(u.protocol)) ok = false;
  } catch {
    ok = false;
  }
  if (!ok)
    problems.add({ path: '<url>', message: 'not an absolute http(s) URL', found: o.url, expected: 'e.g. http://127.0.0.1:8080/work' });
  if (!Number.isInteger(o.rate) || o.rate < 1)
    problems.add({ path: '--rate', message: 'rate must be an integer >= 1 (iterations per time unit)', found: String(o.rate) });
  if (!(o.duration > 0))
    problems.add({ path: '--duration', message: 'duration must be a positive k6 duration', found: String(o.duration) });
  const pre = o.preAllocatedVUs ?? Math.max(1, Math.min(o.rate, 100));
  const max = o.maxVUs ?? Math.max(pre, 1000);
  if (max < pre) problems.add({ path: '--max-vus', message: 'smaller than --pre-allocated-vus', found: String(max) });
  problems.throwIfAny();
  return {
    timeScale: 1,
    warnings: [],
    scenarios: [
      {
        name: 'default',
        executor: 'constant-arrival-rate',
        rate: o.rate,
        timeUnit: o.timeUnit ?? 1,
        duration: o.duration,
        preAllocatedVUs: pre,
        maxVUs: max,
        startTime: 0,
        gracefulStop: o.gracefulStop ?? 30,
        exec: 'default',
        env: {},
        requests: [
          { method: (o.method ?? 'GET').toUpperCase(), url: o.url, body: o.body ?? null, ...(o.headers ? { headers: o.headers } : {}) },
        ],
      },
    ],
  };
}
