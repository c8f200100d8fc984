/**
 * A k6 script made ready for the VU runtime: bundled, transformed, and probed once (VU 0, k6's
 * "options" pass) in a context where the whole init code and every read of the exports (getters,
 * Proxies included) runs under the time limit. What comes out is plain data: the options, the names
 * of the exported functions and the custom metrics the init code defines.
 */
import path from 'node:path';
import vm from 'node:vm';
import { SpilloverError, type ProblemDetail } from '../../errors.ts';
import type { Scenario } from '../types.ts';
import { asyncWrap, TransformError } from './async-transform.ts';
import { bundleScript } from './bundle.ts';
import { MetricStore } from './metric-store.ts';
import { normalizeOptions, type CliOverrides } from './options.ts';
import { parseThresholds } from './thresholds.ts';
import { VuRuntime } from './runtime.ts';
import { resetShared } from './k6-modules.ts';
import { checkTimeScale, scaleScenarioDurations } from '../../experiment/time-scale.ts';

export interface VuProgramOptions {
  env?: Record<string, string>;
  timeScale?: number;
  evalTimeoutMs?: number;
  cli?: CliOverrides;
  outJson?: string;
  summaryExport?: string;
}

const SNAPSHOT = `(function (m) {
  const clone = (v, depth) => {
    if (depth > 20) throw new Error('options nest deeper than 20 levels');
    if (v === null || typeof v !== 'object') return typeof v === 'function' ? undefined : v;
    if (Array.isArray(v)) return v.map((x) => clone(x, depth + 1));
    const o = {};
    for (const k of Object.keys(v)) o[k] = clone(v[k], depth + 1);
    return o;
  };
  const names = Object.keys(m);
  const fns = names.filter((k) => typeof m[k] === 'function');
  return JSON.stringify({ options: clone(m.options, 0), fns });
})`;

export async function readVuProgram(file: string, o: VuProgramOptions = {}): Promise<Scenario> {
  const rel = path.relative(process.cwd(), file) || file;
  const timeout = o.evalTimeoutMs ?? 2000;
  checkTimeScale(o.timeScale ?? 1, { file: rel, path: 'timeScale' });
  const code = await prepareCode(file, rel);
  const store = new MetricStore();
  const env = { ...(o.env ?? {}) };
  const logs: string[] = [];
  const host = probeHost(store, file, logs);
  const snapshot = probe(code, host, env, timeout, rel);
  const n = normalizeOptions(snapshot.options, o.cli ?? {}, new Set(snapshot.fns));
  const defaultFix = (m: string) =>
    /unknown field/.test(m)
      ? 'remove or rename it'
      : /required/.test(m)
        ? 'add it'
        : 'correct it as k6 documents it (https://grafana.com/docs/k6/latest/using-k6/scenarios/)';
  const problems: ProblemDetail[] = n.problems.map((p) => ({ file: rel, ...p, fix: p.fix ?? defaultFix(p.message) }));
  const th = parseThresholds(n.options.thresholds, store);
  for (const t of th.problems)
    problems.push({
      file: rel,
      path: 'options.thresholds',
      message: t,
      fix: 'see https://grafana.com/docs/k6/latest/using-k6/thresholds/ for the expression syntax and metric names',
    });
  if (o.outJson !== undefined && o.outJson === '')
    problems.push({ file: '--out', message: 'json= needs a file name', expected: '--out json=results.json' });
  if (problems.length) throw new SpilloverError(problems);
  const customMetrics = [...store.defs.values()].filter((d) => !['vus', 'vus_max'].includes(d.name) && !isBuiltin(d.name));
  const timeScale = o.timeScale ?? 1;
  return {
    file,
    timeScale,
    scenarios: n.scenarios.map((s) => scaleScenarioDurations(s, timeScale)),
    warnings: n.warnings,
    vu: {
      file: path.resolve(file),
      scriptDir: path.dirname(path.resolve(file)),
      code,
      options: n.options,
      exportedFunctions: snapshot.fns,
      customMetrics,
      env,
      outJson: o.outJson,
      summaryExport: o.summaryExport,
    },
  };
}

const BUILTIN = new Set(new MetricStore().defs.keys());
const isBuiltin = (n: string) => BUILTIN.has(n);

/** Bundled (TypeScript, local imports; remote ones refused) and made async (async-transform.ts). */
async function prepareCode(file: string, rel: string): Promise<string> {
  const bundle = await bundleScript(file, rel);
  try {
    return asyncWrap(bundle.code);
  } catch (e) {
    throw new SpilloverError({
      file: rel,
      message: 'the script cannot be prepared for the VU runtime',
      found: (e as Error).message,
      line: e instanceof TransformError ? e.line : undefined,
    });
  }
}

/** The host of the probe: no requests, no run; only the metric store the init code defines metrics in. */
function probeHost(store: MetricStore, file: string, logs: string[]) {
  return {
    store,
    http: {
      discardResponseBodies: false,
      maxRedirects: 10,
      userAgent: '',
      throw: false,
      timeoutMs: 60000,
      hosts: {},
      noCookiesReset: false,
    },
    runTags: {},
    scriptDir: path.dirname(path.resolve(file)),
    record: () => undefined,
    resolve: async () => {
      throw new Error('no requests in the init context');
    },
    log: (_l: string, m: string) => {
      logs.push(m);
    },
    execution: {
      startMs: Date.now(),
      vusActive: () => 0,
      vusInitialized: () => 0,
      iterationsCompleted: () => 0,
      iterationsInterrupted: () => 0,
      abort: () => undefined,
      options: {},
    },
  };
}

/** VU 0's init context under the time limit, then its exports snapshotted as plain data. */
function probe(
  code: string,
  host: ReturnType<typeof probeHost>,
  env: Record<string, string>,
  timeout: number,
  rel: string,
): { options: unknown; fns: string[] } {
  resetShared();
  try {
    const rt = new VuRuntime(code, host as never, { timeoutMs: timeout, afterEvaluate: true, globalEnv: env });
    const state = rt.newState(0, env);
    // With afterEvaluate microtasks, the init's awaits all settle inside this evaluation's time limit.
    const box: { done?: boolean; err?: unknown; value?: unknown } = {};
    // A bridge, not a host function: the init code runs inside this call and could read the global.
    (rt.context as Record<string, unknown>).__k6probe = rt.guard.bridge(() => rt.settle(rt.startInit(state), box));
    vm.runInContext('__k6probe()', rt.context, { timeout });
    if (!box.done)
      throw new Error(`the init context did not finish within ${timeout} ms (it waits for something that never comes, or loops)`);
    if (box.err) throw box.err;
    (rt.context as Record<string, unknown>).__k6exports = box.value;
    return JSON.parse(vm.runInContext(`${SNAPSHOT}(__k6exports)`, rt.context, { timeout }) as string) as {
      options: unknown;
      fns: string[];
    };
  } catch (e) {
    if (e instanceof SpilloverError) throw e;
    const msg = (e as Error)?.message ?? String(e);
    throw new SpilloverError({
      file: rel,
      message: 'evaluating the script failed (its init context: the top level of the script and its imports)',
      found: /timed out/.test(msg) ? `${msg} (limit ${timeout} ms: a loop in the init code or in a getter of its exports)` : msg,
      fix: 'correct the init code (the top level of the script and of its imports)',
    });
  }
}
