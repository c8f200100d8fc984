/**
 * Read an experiment file: YAML -> overrides -> schema (defaults) -> cross-field checks -> Istio
 * resource validation. Every problem found is reported at once, each with file, line and field path,
 * before anything starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isScalar, type Document, type LineCounter } from 'yaml';
import type { z } from 'zod';
import { escapeInvisible, isSpilloverError, SpilloverError, type ProblemDetail } from '../errors.ts';
import { didYouMean, similarFile } from './did-you-mean.ts';
import { applyOverrides, blameOverrides, formatPath, parseOverride } from './overrides.ts';
import { readTextInput } from '../util/read-text-input.ts';
import { checkLimits } from './checks.ts';
import { ExperimentSpec, type Experiment } from './schema.ts';
import { checkScaled, checkTimeScale, scaleExperiment } from './time-scale.ts';
import { parseExpect, type ParsedExpect } from './expect.ts';
import { normaliseTiming, type RunTiming } from './normalise.ts';
import { normaliseTopology, type MeshTopology } from './topology.ts';
import { crossCheck, validateResources } from './cross-check.ts';
import { clientFormProblems, clientsOf, usesClients } from './clients.ts';
import { lineOf, readYamlMapping } from './yaml-document.ts';
export { MAX_ADDRESSES_PER_CLUSTER } from './cross-check.ts';

export interface ReadExperimentOptions {
  /** Raw `path=value` strings from `--set`. */
  set?: string[];
  /** 0 < F <= 1: every duration of the run is multiplied by F (rates and service times are not). */
  timeScale?: number;
}

export interface ResolvedExperiment {
  file: string;
  spec: Experiment;
  /** Absolute path of the k6 scenario script. */
  scenarioPath: string;
  /** Overrides as applied, with concrete paths (recorded in the manifest). */
  overrides: string[];
  timeScale: number;
  /** Durations changed by the time scale, for the manifest. */
  scaled: string[];
  /** The general topology the spec normalises to (clusters, every pod, client, gateways). */
  topology?: MeshTopology;
  /** `clients:` form: each client's scenario script, absolute, by client name (the first is `scenarioPath`). */
  clientScenarios?: Record<string, string>;
  /**
   * Every harness-level duration in ms, after the time scale and the floors (normalise.ts): what the
   * phases, backends and control plane use. `spec` keeps the text, for what is rendered back.
   */
  timing: RunTiming;
  /** `expect:` parsed and validated at load time; what judge checks. */
  expect: ParsedExpect;
}

export function readExperiment(file: string, opts: ReadExperimentOptions = {}): ResolvedExperiment {
  const display = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readTextInput(file, 'experiment file');
  } catch (e) {
    if (!isSpilloverError(e)) throw e;
    // The generic fix says "check the path"; for an experiment, say where experiments live.
    throw new SpilloverError(
      e.problems.map((p) =>
        p.fix === 'check the path (it is relative to the current directory)'
          ? {
              ...p,
              fix: experimentGuess(file)
                ? `did you mean ${experimentGuess(file)}?`
                : 'check the path; experiments live in experiments/, e.g. experiments/peak-load.yaml',
            }
          : p,
      ),
    );
  }
  return parseExperiment(text, display, path.resolve(file), opts);
}

/** A sibling with a close name, or the file under experiments/ for a bare or misplaced name. */
function experimentGuess(file: string): string | undefined {
  const inDir = path.join('experiments', `${path.basename(file).replace(/\.ya?ml$/, '')}.yaml`);
  return similarFile(file) ?? (fs.existsSync(inDir) && path.resolve(inDir) !== path.resolve(file) ? inDir : similarFile(inDir));
}

export function parseExperiment(text: string, display: string, absFile: string, opts: ReadExperimentOptions = {}): ResolvedExperiment {
  const { doc, lineCounter, raw } = readYamlMapping(text, display);
  const overrides = (opts.set ?? []).map((s) => parseOverride(s));
  const applied = applyOverrides(raw as Record<string, unknown>, overrides);
  // A problem inside a field set by --set is the flag's, not the file's: its line holds the old value.
  const inFile = (p: string) =>
    doc.getIn(
      p
        .replace(/\[(\d+)\]/g, '.$1')
        .split('.')
        .filter(Boolean)
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
    ) !== undefined;
  const blame = (problems: ProblemDetail[]) => blameOverrides(problems, applied, overrides, inFile);

  const forms = clientFormProblems(raw, display, doc, lineCounter);
  const parsed = ExperimentSpec.safeParse(raw);
  if (!parsed.success || forms.length) {
    const issues = parsed.success ? [] : parsed.error.issues.map((i) => issueToProblem(i, display, doc, lineCounter, raw));
    throw new SpilloverError(blame([...forms, ...issues]));
  }
  const spec = parsed.data;
  const problems = crossCheck(spec, display, doc, lineCounter);
  for (const p of checkLimits(spec))
    problems.push({ ...p, file: display, line: lineOf(doc, lineCounter, p.path), path: formatPath(p.path) });
  problems.push(...validateResources(spec, display, doc, lineCounter));
  const expect = parseExpectAtLoad(spec, display, doc, lineCounter, problems);
  if (problems.length) throw new SpilloverError(blame(problems));

  const timeScale = opts.timeScale ?? 1;
  checkTimeScale(timeScale, { file: '--time-scale' });
  const scaledProblems = checkScaled(spec, timeScale).map((p) => ({
    ...p,
    file: display,
    line: lineOf(doc, lineCounter, p.path),
    path: formatPath(p.path),
  }));
  if (scaledProblems.length) throw new SpilloverError(blame(scaledProblems));
  const scaled = timeScale === 1 ? [] : scaleExperiment(spec, timeScale);
  const scenarios: Record<string, string> = {};
  for (const c of clientsOf(spec)) {
    scenarios[c.name] = path.resolve(path.dirname(absFile), c.load.scenario);
    const at = [...c.loadAt, 'scenario'];
    checkScenarioPath(scenarios[c.name], c.load.scenario, display, absFile, lineOf(doc, lineCounter, at), blame, at.join('.'));
  }
  const scenarioPath = Object.values(scenarios)[0];
  const timing = normaliseTiming(spec, timeScale);
  return {
    file: absFile,
    spec,
    scenarioPath,
    overrides: applied,
    timeScale,
    scaled,
    topology: normaliseTopology(spec),
    timing,
    expect,
    ...(usesClients(spec) ? { clientScenarios: scenarios } : {}),
  };
}

/** `expect:` conditions must parse before anything starts; problems join the others, with their lines. */
function parseExpectAtLoad(spec: Experiment, display: string, doc: Document, lc: LineCounter, problems: ProblemDetail[]): ParsedExpect {
  try {
    return parseExpect(spec.expect, display, (field, i) => lineOf(doc, lc, ['expect', field, i]));
  } catch (e) {
    if (!isSpilloverError(e)) throw e;
    problems.push(...e.problems);
    return [];
  }
}

/** The scenario must be there and be a regular text file: blamed on load.scenario, not on the script. */
function checkScenarioPath(
  scenarioPath: string,
  given: string,
  display: string,
  absFile: string,
  line: number | undefined,
  blame: (p: ProblemDetail[]) => ProblemDetail[],
  field = 'load.scenario',
): void {
  const where = { file: display, line, path: field };
  if (!fs.existsSync(scenarioPath)) {
    throw new SpilloverError(
      blame([
        {
          ...where,
          message: `scenario script not found: ${path.relative(process.cwd(), scenarioPath)}`,
          expected: 'a k6 script path relative to the experiment file',
          found: given,
          fix: similarFile(scenarioPath)
            ? `did you mean ${path.join(path.dirname(given), path.basename(similarFile(scenarioPath)!))}? (paths are relative to the experiment file)`
            : `paths are relative to ${path.relative(process.cwd(), path.dirname(absFile)) || '.'}/, e.g. ../scenarios/peak-load.js`,
        },
      ]),
    );
  }
  try {
    readTextInput(scenarioPath, 'scenario script');
  } catch (e) {
    if (!isSpilloverError(e)) throw e;
    throw new SpilloverError(
      blame(
        e.problems.map((p) => ({
          ...where,
          message: p.message,
          expected: p.expected,
          found: `${JSON.stringify(given)} (${path.relative(process.cwd(), scenarioPath)})`,
          fix: p.fix,
        })),
      ),
    );
  }
}

function valueAt(raw: unknown, p: ReadonlyArray<PropertyKey>): unknown {
  let v = raw as Record<PropertyKey, unknown> | undefined;
  for (const seg of p) v = v && typeof v === 'object' ? (v[seg] as Record<PropertyKey, unknown>) : undefined;
  return v;
}

// Long values are cut: a problem line must stay readable whatever the value holds.
const show = (v: unknown) =>
  v === undefined
    ? 'nothing'
    : typeof v === 'string'
      ? v.length > 200
        ? `${JSON.stringify(v.slice(0, 200))}... (${v.length} characters)`
        : JSON.stringify(v)
      : JSON.stringify(v)?.slice(0, 80);

function issueToProblem(issue: z.core.$ZodIssue, file: string, doc: Document, lc: LineCounter, raw: unknown): ProblemDetail {
  const p = issue.path;
  const where = formatPath(p);
  const base: ProblemDetail = {
    file,
    line: lineOf(doc, lc, p),
    path: where || undefined,
    message: issue.message,
  };
  if (issue.code === 'invalid_key') {
    // A record key (service, cluster name) that its key schema refuses: say which key and why.
    const inner = issue.issues[0]?.message ?? issue.message;
    const key = String(p[p.length - 1]);
    return {
      ...base,
      message: `the name ${JSON.stringify(key)} is not allowed here: ${inner}`,
      expected: inner.replace(/^expected /, ''),
      found: JSON.stringify(key),
      fix: `rename ${JSON.stringify(key)}`,
    };
  }
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(p);
    const probs = issue.keys.map((k) => {
      const guess = didYouMean(k, known);
      return `"${k}"${guess ? ` (did you mean "${guess}"?)` : ''}`;
    });
    return {
      ...base,
      line: lineOf(doc, lc, [...p, issue.keys[0]]),
      path: formatPath([...p, issue.keys[0]]),
      message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${probs.join(', ')}`,
      expected: known.length ? `one of: ${known.join(', ')}` : undefined,
      found: issue.keys.map((k) => JSON.stringify(k)).join(', '),
      fix:
        escapeInvisible(issue.keys[0]) !== issue.keys[0]
          ? `the name holds an invisible character (shown as \\u...): retype it as plain text`
          : 'remove or rename the field',
    };
  }
  const found = valueAt(raw, p);
  if (found === undefined && issue.code === 'invalid_type') {
    return {
      ...base,
      message: `required field is missing`,
      expected: issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, ''),
      found: 'nothing',
      fix: `add ${where}`,
    };
  }
  if (found === undefined && (issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    return {
      ...base,
      message: 'required field is missing',
      expected: expectedOf(issue),
      found: 'nothing',
      fix: `add ${where}: ${issue.code === 'invalid_value' ? JSON.stringify(issue.values[0]) : '...'}`,
    };
  }
  const node = doc.getIn(p as Array<string | number>, true);
  const source = isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
  return { ...base, expected: expectedOf(issue), found: show(found), fix: fixFor(issue, where, found, source) };
}

/** What the schema wanted, in words, from the issue zod raised. */
function expectedOf(issue: z.core.$ZodIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected;
    case 'too_small':
      return `${issue.origin === 'array' || issue.origin === 'string' ? 'length ' : ''}${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.origin === 'array' || issue.origin === 'string' ? 'length ' : ''}${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union names the accepted tags in its note, e.g. action: kill | stall | service-fault.
      const tags = /Expected (.*)$/.exec(issue.message)?.[1];
      return tags ? tags.replaceAll("'", '"').replaceAll(' | ', ', ') : undefined;
    }
    default:
      // Refinements word their message "expected ..." (durations, names, localities).
      return /^expected /.test(issue.message) ? issue.message.replace(/^expected /, '') : undefined;
  }
}

/** Every problem carries a fix; the most specific one the issue allows. */
function fixFor(issue: z.core.$ZodIssue, where: string, found: unknown, source?: string): string {
  if (issue.message.includes('a duration')) return 'write durations as a number with a unit: "250ms", "10s", "1m"';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'number' || issue.expected === 'int') {
        const n = typeof found === 'string' ? Number(found) : NaN;
        return Number.isFinite(n) && found !== ''
          ? `write ${where.split('.').pop()}: ${n} without quotes`
          : `write ${issue.expected === 'int' ? 'a whole number' : 'a number'}`;
      }
      if (issue.expected === 'string' && (typeof found === 'number' || typeof found === 'boolean')) {
        // YAML reads `version: 1.30` as the number 1.3 and `mode: on` as... a string, but `yes`/`1.10` bite.
        return `quote it: ${where.split('.').pop()}: "${source ?? String(found)}" (unquoted, YAML reads it as the ${typeof found} ${String(found)})`;
      }
      return `write ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`} at ${where}`;
    case 'too_small':
      return `use a value ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return `use a value ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_value': {
      const guess = typeof found === 'string' ? didYouMean(found, issue.values.map(String)) : undefined;
      return guess ? `did you mean "${guess}"?` : `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    case 'invalid_union': {
      const tags = [...issue.message.matchAll(/'([^']+)'/g)].map((m) => m[1]);
      const guess = typeof found === 'string' ? didYouMean(found, tags) : undefined;
      if (guess) return `did you mean "${guess}"?`;
      return tags.length
        ? `use one of ${tags.map((t) => `"${t}"`).join(', ')}`
        : 'see experiments/peak-load.yaml for the shape of this field';
    }
    default:
      return /^expected /.test(issue.message)
        ? `write ${issue.message.replace(/^expected /, '').replace(/ \(.*\)$/, '')}`
        : 'see experiments/peak-load.yaml for the shape of this field';
  }
}

/** Field names the schema accepts at a path, for did-you-mean. */
function knownKeys(p: ReadonlyArray<PropertyKey>): string[] {
  let s: unknown = ExperimentSpec;
  const unwrap = (x: unknown): unknown => {
    let cur = x as { _zod?: { def: Record<string, unknown> } };
    for (let i = 0; i < 10 && cur?._zod; i++) {
      const def = cur._zod.def;
      if (def.type === 'default' || def.type === 'optional' || def.type === 'pipe' || def.type === 'nullable')
        cur = (def.innerType ?? def.in) as typeof cur;
      else break;
    }
    return cur;
  };
  for (const seg of p) {
    const cur = unwrap(s) as { _zod?: { def: Record<string, unknown> } };
    const def = cur?._zod?.def;
    if (!def) return [];
    if (def.type === 'object') s = (def.shape as Record<string, unknown>)[String(seg)];
    else if (def.type === 'record') s = def.valueType;
    else if (def.type === 'array') s = def.element;
    else return [];
  }
  const last = unwrap(s) as { _zod?: { def: Record<string, unknown> } };
  const def = last?._zod?.def;
  if (def?.type === 'object') return Object.keys(def.shape as object);
  if (def?.type === 'union') {
    return [...new Set((def.options as Array<{ _zod: { def: { shape?: object } } }>).flatMap((o) => Object.keys(o._zod.def.shape ?? {})))];
  }
  return [];
}

/** Relations zod cannot see: names that refer to each other. */
