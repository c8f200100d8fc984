/**
 * k6 options as k6 reads them, for the VU runtime: option names match case-insensitively (k6 decodes
 * them with Go's encoding/json), CLI overrides win over the script (`--vus`, `--duration`,
 * `--iterations`: a shortcut from a higher-priority source replaces the script's scenarios), the
 * execution shortcuts become a `default` scenario (lib/executor/execution_config_shortcuts.go), and
 * with no load options at all k6 runs 1 VU × 1 iteration. Every executor of k6 v1 is validated;
 * `externally-controlled` (removed in k6 v1) is a clear error.
 */
import { closest } from 'fastest-levenshtein';
import { parseK6DurationSeconds } from '../../util/duration.ts';
import type { ScenarioSpec, Stage } from '../types.ts';

export interface CliOverrides {
  vus?: number;
  duration?: string;
  iterations?: number;
  stages?: Stage[];
  tags?: Record<string, string>;
}

const TOP = [
  'vus',
  'duration',
  'iterations',
  'stages',
  'scenarios',
  'thresholds',
  'tags',
  'discardResponseBodies',
  'maxRedirects',
  'userAgent',
  'summaryTrendStats',
  'summaryTimeUnit',
  'setupTimeout',
  'teardownTimeout',
  'noConnectionReuse',
  'noVUConnectionReuse',
  'throw',
  'hosts',
  'noCookiesReset',
  'minIterationDuration',
  'insecureSkipTLSVerify',
  'batch',
  'batchPerHost',
  'httpDebug',
  'systemTags',
  'ext',
  'cloud',
  'noColor',
  'summaryMode',
  'rps',
  'tlsVersion',
  'tlsCipherSuites',
  'tlsAuth',
  'dns',
  'blacklistIPs',
  'blockHostnames',
  'localIPs',
  'paused',
  'noSetup',
  'noTeardown',
  'noUsageReport',
  'setupTimeout',
  'handleSummaryTimeout',
  'executionSegment',
  'executionSegmentSequence',
  'linger',
  'noThresholds',
  'noSummary',
  'console',
  'compatibilityMode',
];
const COMMON = ['executor', 'startTime', 'gracefulStop', 'env', 'exec', 'tags', 'options'];
const EXEC_KEYS: Record<string, string[]> = {
  'shared-iterations': ['vus', 'iterations', 'maxDuration'],
  'per-vu-iterations': ['vus', 'iterations', 'maxDuration'],
  'constant-vus': ['vus', 'duration'],
  'ramping-vus': ['startVUs', 'stages', 'gracefulRampDown'],
  'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs'],
  'ramping-arrival-rate': ['startRate', 'timeUnit', 'stages', 'preAllocatedVUs', 'maxVUs'],
};

/** Rename keys to their canonical spelling, case-insensitively; unknown keys are kept as written. */
function canon(o: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[byLower.get(k.toLowerCase()) ?? k] = v;
  return out;
}

export interface NormalizedOptions {
  options: Record<string, unknown>;
  scenarios: ScenarioSpec[];
  problems: Array<{ path: string; message: string; found?: string; expected?: string; fix?: string }>;
  warnings: string[];
}

const show = (v: unknown) => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

export function normalizeOptions(raw: unknown, cli: CliOverrides, exported: Set<string>): NormalizedOptions {
  const problems: NormalizedOptions['problems'] = [];
  const warnings: string[] = [];
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    problems.push({ path: 'options', message: 'options must be an object', found: show(raw) });
    return { options: {}, scenarios: [], problems, warnings };
  }
  const o = canon((raw ?? {}) as Record<string, unknown>, TOP);
  for (const k of Object.keys(o)) if (!TOP.includes(k)) warnings.push(`options.${k} is not a k6 option; ignored (as k6 does)`);
  // CLI shortcuts replace the script's execution config (k6: higher-priority shortcut wins over scenarios).
  const cliShortcut = cli.duration !== undefined || cli.iterations !== undefined || cli.stages !== undefined;
  if (cliShortcut) {
    delete o.scenarios;
    delete o.duration;
    delete o.iterations;
    delete o.stages;
  }
  if (cli.vus !== undefined) o.vus = cli.vus;
  if (cli.duration !== undefined) o.duration = cli.duration;
  if (cli.iterations !== undefined) o.iterations = cli.iterations;
  if (cli.stages !== undefined) o.stages = cli.stages;
  if (cli.tags) o.tags = { ...((o.tags as object) ?? {}), ...cli.tags };

  const raws: Array<[string, Record<string, unknown>, string]> = [];
  const set = (k: string) => o[k] !== undefined && o[k] !== null;
  const conflict = (a: string, b: string) =>
    problems.push({
      path: `options.${a}`,
      message: `using \`${a}\` and \`${b}\` options simultaneously is not allowed (k6 refuses it too)`,
      fix: b === 'scenarios' ? `move ${a} into a scenario` : `keep one of ${a} and ${b}`,
    });
  const hasStages = Array.isArray(o.stages) && o.stages.length > 0;
  const pushScenarios = () => {
    if (typeof o.scenarios !== 'object' || Array.isArray(o.scenarios)) {
      problems.push({ path: 'options.scenarios', message: 'scenarios must be an object keyed by scenario name', found: show(o.scenarios) });
      return;
    }
    for (const [name, sc] of Object.entries(o.scenarios as Record<string, unknown>)) {
      if (!/^[0-9a-zA-Z_-]+$/.test(name))
        problems.push({
          path: `options.scenarios.${name}`,
          message: 'invalid scenario name',
          expected: 'letters, digits, _ and - only',
          found: name,
        });
      if (typeof sc !== 'object' || sc === null || Array.isArray(sc))
        problems.push({ path: `options.scenarios.${name}`, message: 'scenario must be an object', found: show(sc) });
      else raws.push([name, sc as Record<string, unknown>, `options.scenarios.${name}`]);
    }
  };
  // The same order and rules as k6's DeriveScenariosFromShortcuts (lib/executor/execution_config_shortcuts.go).
  if (set('iterations')) {
    if (hasStages) conflict('iterations', 'stages');
    if (set('scenarios')) conflict('iterations', 'scenarios');
    raws.push([
      'default',
      { executor: 'shared-iterations', vus: o.vus ?? 1, iterations: o.iterations, ...(set('duration') ? { maxDuration: o.duration } : {}) },
      'options',
    ]);
  } else if (set('duration')) {
    if (hasStages) conflict('duration', 'stages');
    if (set('scenarios')) conflict('duration', 'scenarios');
    if (!((parseK6DurationSeconds(o.duration) ?? 0) > 0))
      problems.push({
        path: 'options.duration',
        message: '`duration` option should be more than 0 (k6 refuses it too)',
        found: show(o.duration),
        fix: 'give a positive duration such as "30s"',
      });
    raws.push(['default', { executor: 'constant-vus', vus: o.vus ?? 1, duration: o.duration }, 'options']);
  } else if (hasStages) {
    if (set('scenarios')) conflict('stages', 'scenarios');
    raws.push(['default', { executor: 'ramping-vus', startVUs: o.vus ?? 1, stages: o.stages }, 'options']);
  } else if (set('vus')) {
    // k6: `vus` alone means that many VUs sharing as many iterations, and it overrides scenarios.
    if (set('scenarios')) warnings.push(`\`vus=${String(o.vus)}\` overrides scenarios configuration (as in k6)`);
    raws.push(['default', { executor: 'shared-iterations', vus: o.vus, iterations: o.vus }, 'options']);
  } else if (set('scenarios') && Object.keys(o.scenarios as object).length > 0) {
    pushScenarios();
  } else {
    if (Array.isArray(o.stages) || set('scenarios'))
      warnings.push('`stages`/`scenarios` was explicitly set to an empty value, running the script with 1 iteration in 1 VU (as k6)');
    raws.push(['default', { executor: 'per-vu-iterations', vus: 1, iterations: 1 }, 'options']);
  }
  const scenarios: ScenarioSpec[] = [];
  for (const [name, sc, at] of raws) {
    const spec = scenarioSpec(name, canon(sc, [...COMMON, ...Object.values(EXEC_KEYS).flat()]), at, problems, exported);
    if (spec) scenarios.push(spec);
  }
  scenarios.sort((a, b) => a.startTime - b.startTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { options: o, scenarios, problems, warnings };
}

function scenarioSpec(
  name: string,
  sc: Record<string, unknown>,
  at: string,
  problems: NormalizedOptions['problems'],
  exported: Set<string>,
): ScenarioSpec | undefined {
  const p = (k: string) => (at === 'options' ? `options.${k === 'startVUs' ? 'vus' : k}` : `${at}.${k}`);
  const before = problems.length;
  const executor = sc.executor as string;
  if (executor === 'externally-controlled') {
    problems.push({
      path: p('executor'),
      message: 'the externally-controlled executor was removed in k6 v1',
      found: 'externally-controlled',
      expected: Object.keys(EXEC_KEYS).join(', '),
      fix: 'use constant-vus or ramping-vus (k6 v1 and later refuse this executor too)',
    });
    return undefined;
  }
  if (typeof executor !== 'string' || !Object.hasOwn(EXEC_KEYS, executor)) {
    const near = typeof executor === 'string' ? closest(executor, Object.keys(EXEC_KEYS)) : undefined;
    problems.push({
      path: p('executor'),
      message: 'unknown or missing executor',
      expected: Object.keys(EXEC_KEYS).join(', '),
      found: show(executor),
      fix: near ? `did you mean "${near}"?` : 'set executor to one of the expected names',
    });
    return undefined;
  }
  const allowed = new Set([...COMMON, ...EXEC_KEYS[executor]]);
  for (const k of Object.keys(sc))
    if (!allowed.has(k))
      problems.push({
        path: p(k),
        message: `unknown field for executor ${executor} (k6 rejects it too)`,
        expected: [...allowed].join(', '),
        found: k,
      });
  const dur = (k: string, def?: number, min = 0): number => {
    if (sc[k] === undefined) {
      if (def === undefined) problems.push({ path: p(k), message: 'required', expected: 'a k6 duration such as "30s"', found: 'nothing' });
      return def ?? 0;
    }
    const s = parseK6DurationSeconds(sc[k]);
    if (s === undefined || s < min) {
      problems.push({
        path: p(k),
        message: s === undefined ? 'not a k6 duration' : 'duration out of range',
        expected: min > 0 ? `at least ${min}s` : 'a k6 duration such as "30s" (a number means milliseconds)',
        found: show(sc[k]),
      });
      return 0;
    }
    return s;
  };
  const int = (k: string, def: number | undefined, min: number): number => {
    const v = sc[k];
    if (v === undefined || v === null) {
      if (def === undefined) problems.push({ path: p(k), message: 'required', expected: `an integer >= ${min}`, found: 'nothing' });
      return def ?? 0;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      problems.push({ path: p(k), message: 'not a valid count', expected: `an integer >= ${min}`, found: show(v) });
      return 0;
    }
    return v;
  };
  const stages = (): Stage[] => {
    if (!Array.isArray(sc.stages) || sc.stages.length === 0) {
      problems.push({
        path: p('stages'),
        message: 'at least one stage is required',
        expected: '[{ duration: "30s", target: 10 }]',
        found: show(sc.stages),
      });
      return [];
    }
    return sc.stages.map((st: unknown, i: number) => {
      const s = canon((st ?? {}) as Record<string, unknown>, ['duration', 'target']);
      const d = parseK6DurationSeconds(s.duration);
      if (d === undefined || d < 0)
        problems.push({ path: `${p('stages')}[${i}].duration`, message: 'not a k6 duration >= 0', found: show(s.duration) });
      const t = s.target ?? 0;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
        problems.push({ path: `${p('stages')}[${i}].target`, message: 'not a valid target', expected: 'an integer >= 0', found: show(t) });
      return { duration: d ?? 0, target: typeof t === 'number' ? t : 0 };
    });
  };
  if (sc.exec !== undefined && typeof sc.exec !== 'string')
    problems.push({
      path: p('exec'),
      message: 'exec must name an exported function',
      expected: 'a string, e.g. "default"',
      found: show(sc.exec),
    });
  const exec = typeof sc.exec === 'string' ? sc.exec : 'default';
  if (!exported.has(exec))
    problems.push({
      path: p('exec'),
      message: `the script does not export a function ${show(exec)}`,
      found: show(exec),
      fix: exec === 'default' ? 'export default function () { ... }' : `export function ${exec}() { ... }`,
    });
  const strMap = (k: string): Record<string, string> => {
    const out: Record<string, string> = {};
    if (sc[k] === undefined) return out;
    if (typeof sc[k] !== 'object' || sc[k] === null)
      problems.push({ path: p(k), message: `${k} must be an object of strings`, found: show(sc[k]) });
    else for (const [kk, v] of Object.entries(sc[k] as object)) out[kk] = String(v);
    return out;
  };
  const base = {
    name,
    startTime: dur('startTime', 0),
    gracefulStop: dur('gracefulStop', 30),
    exec,
    env: strMap('env'),
    tags: strMap('tags'),
    requests: [],
  };
  let spec: ScenarioSpec;
  const pool = () => {
    const preAllocatedVUs = int('preAllocatedVUs', undefined, 0);
    const maxVUs = sc.maxVUs === undefined ? preAllocatedVUs : int('maxVUs', undefined, 0);
    if (maxVUs < preAllocatedVUs)
      problems.push({
        path: p('maxVUs'),
        message: 'maxVUs is smaller than preAllocatedVUs',
        expected: `>= ${preAllocatedVUs}`,
        found: String(maxVUs),
      });
    if (maxVUs === 0)
      problems.push({ path: p('preAllocatedVUs'), message: 'either preAllocatedVUs or maxVUs must be positive', found: '0' });
    return { preAllocatedVUs, maxVUs };
  };
  switch (executor) {
    case 'shared-iterations':
    case 'per-vu-iterations': {
      const vus = int('vus', 1, 1);
      const iterations = int('iterations', 1, 1);
      if (executor === 'shared-iterations' && iterations < vus)
        problems.push({
          path: p('iterations'),
          message: `the number of iterations (${iterations}) can't be less than the number of VUs (${vus}) (k6 refuses it too)`,
          fix: `set iterations >= ${vus}, or fewer vus`,
        });
      spec = { ...base, executor, vus, iterations, maxDuration: dur('maxDuration', 600) };
      break;
    }
    case 'constant-vus':
      spec = { ...base, executor, vus: int('vus', 1, 1), duration: dur('duration', undefined, 1) };
      break;
    case 'ramping-vus': {
      const st = stages();
      const startVUs = int('startVUs', 1, 0);
      if (st.length && startVUs === 0 && st.every((s) => s.target === 0))
        problems.push({ path: p('stages'), message: 'every stage target and startVUs are 0: no VU would ever run (k6 refuses it too)' });
      spec = { ...base, executor, startVUs, stages: st, gracefulRampDown: dur('gracefulRampDown', 30) };
      break;
    }
    case 'constant-arrival-rate':
      spec = {
        ...base,
        executor,
        rate: int('rate', undefined, 1),
        timeUnit: dur('timeUnit', 1) || 1,
        duration: dur('duration', undefined, 1),
        ...pool(),
      };
      break;
    default:
      spec = {
        ...base,
        executor: 'ramping-arrival-rate',
        startRate: int('startRate', 0, 0),
        timeUnit: dur('timeUnit', 1) || 1,
        stages: stages(),
        ...pool(),
      };
  }
  return problems.length === before ? spec : undefined;
}
