/**
 * Reads a plain-data k6 script the way the fast path honours it: the exported `options` (validated
 * with k6's rules, plain-options.ts) and the exported `requests` (plain data, plain-requests.ts) that
 * the default function loops over.
 *
 * The script runs in an isolated `node:vm` context: k6 modules are stubs (plain-k6-stubs.ts), there is
 * no `require`, no `fetch`, no `process`, code generation from strings is off, and evaluation has a
 * time limit. esbuild turns the ES module into CommonJS first, so no experimental VM-module flag is
 * needed. The default function is then dry-run (plain-dry-run.ts): it must make exactly the requests
 * listed in `requests`, in order, and nothing else. Anything else is an error that says to use the k6
 * engine; nothing is ignored silently.
 *
 * `__ENV` holds only the env given (the experiment's load.env / --env), not the process environment
 * that `k6 run` would add by default: a run must not depend on the shell it was started from.
 */
import path from 'node:path';
import vm from 'node:vm';
import { transformSync } from 'esbuild';
import { SpilloverError } from '../errors.ts';
import { compareRequests, dryRun } from './plain-dry-run.ts';
import { k6Stubs, type Recorded } from './plain-k6-stubs.ts';
import { validateOptions } from './plain-options.ts';
import { validateRequests } from './plain-requests.ts';
import { guardGlobals } from './vu/realm-guard.ts';
import type { ReadScenarioOptions } from './read-scenario-options.ts';
import { checkTimeScale, scaleScenarioDurations } from '../experiment/time-scale.ts';
import { Problems, USE_K6 } from './scenario-problems.ts';
import { readScenarioText } from './scenario-text.ts';
import type { Scenario } from './types.ts';

/** The script as CommonJS, or a SpilloverError at the first syntax error. */
function compile(source: string, rel: string): string {
  try {
    return transformSync(source, { format: 'cjs', loader: 'js', target: 'es2022', sourcefile: rel }).code;
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
}

/** The evaluated init context: its exports, and what the dry run needs to call into it again. */
interface Evaluated {
  context: vm.Context;
  sandbox: Record<string, unknown>;
  rec: { current: Recorded | null };
  exported: Record<string, unknown>;
}

function evaluate(code: string, rel: string, env: Record<string, string>, timeout: number, problems: Problems): Evaluated {
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
  // Host functions in the sandbox (require, console, the stubs) would hand the script the host's Function
  // constructor and so `process`: every global crosses through the realm guard, as in the VU runtime.
  guardGlobals(context);
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
  return { context, sandbox, rec, exported: module.exports };
}

/** Evaluate, validate and type a plain-data k6 script for the fast path. Throws one SpilloverError listing every problem. */
export async function readPlainScenario(file: string, opts: ReadScenarioOptions = {}): Promise<Scenario> {
  const rel = path.relative(process.cwd(), file) || file;
  const problems = new Problems(rel);
  const timeScale = opts.timeScale ?? 1;
  checkTimeScale(timeScale, { file: rel, path: 'timeScale' });
  const code = compile(readScenarioText(file, rel), rel);
  const env = { ...(opts.env ?? {}) };
  const timeout = opts.evalTimeoutMs ?? 2000;
  const { context, sandbox, rec, exported } = evaluate(code, rel, env, timeout, problems);
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

  const scaled = specs.map((s) => scaleScenarioDurations(s, timeScale));
  scaled.sort((a, b) => a.startTime - b.startTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { file, timeScale, scenarios: scaled, warnings };
}
