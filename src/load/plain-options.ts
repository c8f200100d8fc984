/**
 * The exported `options` of a plain-data script, with k6's rules: which top-level options shape the
 * load (and which are accepted with a warning because they do not), the scenarios (or the vus /
 * duration / stages shortcuts) and each scenario's fields. Each executor reads its own fields
 * (executors/); this file reads what every scenario has.
 */
import { ScenarioFields } from './executors/scenario-fields.ts';
import { fastExecutor } from './executors/registry.ts';
import { show, USE_K6, type Problems } from './scenario-problems.ts';
import { SUPPORTED_EXECUTORS, type ScenarioSpec } from './types.ts';

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
const SCENARIO_NAME = /^[0-9a-zA-Z_-]+$/;

export function validateOptions(value: unknown, problems: Problems, warnings: string[], exported: Record<string, unknown>): ScenarioSpec[] {
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
  const raw = rawScenarios(o, problems);
  const specs: ScenarioSpec[] = [];
  for (const [name, sc, at] of raw) {
    const spec = validateScenario(name, sc, at, problems, exported);
    if (spec) specs.push(spec);
  }
  return specs;
}

/** The scenario objects the options define, with their option paths: options.scenarios, or the vus/duration/stages shortcuts. */
function rawScenarios(o: Record<string, unknown>, problems: Problems): Array<[string, Record<string, unknown>, string]> {
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
      return raw;
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
  return raw;
}

/** One scenario object: the common fields, then its executor's own (executors/). Undefined when it has problems. */
function validateScenario(
  name: string,
  sc: Record<string, unknown>,
  at: string,
  problems: Problems,
  exported: Record<string, unknown>,
): ScenarioSpec | undefined {
  const executor = sc.executor;
  const p = (k: string) => (at === 'options' && ['vus', 'duration', 'stages'].includes(k) ? `options.${k}` : `${at}.${k}`);
  const def = fastExecutor(executor);
  if (!def) {
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
  const allowed = new Set([...COMMON_KEYS, ...def.keys]);
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
  const f = new ScenarioFields(sc, p, problems);
  const startTime = f.dur('startTime', { def: 0 });
  const gracefulStop = f.dur('gracefulStop', { def: 30 });
  const exec = validateExec(sc.exec, p, problems, exported);
  const env = validateEnv(sc.env, p, problems);
  const spec = def.read(f, { name, startTime, gracefulStop, exec, env, requests: [] });
  return problems.list.length === before ? spec : undefined;
}

function validateExec(value: unknown, p: (k: string) => string, problems: Problems, exported: Record<string, unknown>): string {
  const exec = value === undefined ? 'default' : String(value);
  if (typeof exported[exec] !== 'function') {
    problems.add({
      path: p('exec'),
      message:
        typeof value === 'string' || value === undefined
          ? `the script does not export a function "${exec}"`
          : 'exec must name an exported function',
      expected: 'the name of an exported function, e.g. "default"',
      found: show(value ?? 'default'),
      fix: 'export default function () { for (const r of requests) http.request(...) }',
    });
  }
  return exec;
}

function validateEnv(value: unknown, p: (k: string) => string, problems: Problems): Record<string, string> {
  const env: Record<string, string> = {};
  if (value === undefined) return env;
  if (typeof value !== 'object' || value === null) {
    problems.add({ path: p('env'), message: 'env must be an object of strings', found: show(value) });
    return env;
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') problems.add({ path: `${p('env')}.${k}`, message: 'env values must be strings', found: show(v) });
    else env[k] = v;
  }
  return env;
}
