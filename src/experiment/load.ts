/**
 * Read an experiment file: YAML -> overrides -> schema (defaults) -> cross-field checks -> Istio
 * resource validation. Every problem found is reported at once, each with file, line and field path,
 * before anything starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { SpilloverError, type ProblemDetail } from '../errors.ts';
import { didYouMean } from './did-you-mean.ts';
import { applyOverrides, formatPath, parseOverride } from './overrides.ts';
import { ExperimentSpec, type Experiment } from './schema.ts';
import { scaleExperiment } from './time-scale.ts';
import { validateIstioResources } from '../mesh/validate.ts';
import { normaliseTopology, type MeshTopology } from './topology.ts';

/** A run slot of the local backend holds 31 addresses per cluster (127.0.N.1-31 in slot 0). */
export const MAX_ADDRESSES_PER_CLUSTER = 31;

export interface LoadOptions {
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
}

export function loadExperiment(file: string, opts: LoadOptions = {}): ResolvedExperiment {
  const display = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpilloverError({
      file: display,
      message: `cannot read the experiment file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      fix: 'check the path; experiments live in experiments/, e.g. experiments/peak-load.yaml',
    });
  }
  return parseExperiment(text, display, path.resolve(file), opts);
}

export function parseExperiment(text: string, display: string, absFile: string, opts: LoadOptions = {}): ResolvedExperiment {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    // yaml reports some errors twice (once per node it touches); one line per distinct error is enough.
    const seen = new Set<string>();
    const problems: ProblemDetail[] = [];
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      const message = `YAML syntax error: ${e.message.split('\n')[0]}`;
      if (seen.has(`${line} ${message}`)) continue;
      seen.add(`${line} ${message}`);
      problems.push({
        file: display,
        line,
        message,
        fix: 'fix the YAML (indentation uses spaces; a list item starts with "- "; quote values containing ": ")',
      });
    }
    throw new SpilloverError(problems);
  }
  let raw: unknown;
  try {
    // Aliases are resolved here: one used before its anchor, or a billion-laughs expansion, fails now.
    raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (e) {
    throw new SpilloverError({
      file: display,
      line: aliasLine(doc, lineCounter),
      message: `YAML error: ${(e as Error).message.split('\n')[0]}`,
      fix: 'define an anchor (&name) before any alias (*name) that uses it, and do not nest aliases to expand the document',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpilloverError({
      file: display,
      message: 'the experiment must be a YAML mapping',
      expected: 'apiVersion, kind, metadata, ...',
      found: Array.isArray(raw) ? 'a list' : raw === null ? 'an empty document' : String(raw),
      fix: 'start from experiments/peak-load.yaml: top-level fields are written "name: value", without a leading "- "',
    });
  }
  const overrides = (opts.set ?? []).map((s) => parseOverride(s));
  const applied = applyOverrides(raw as Record<string, unknown>, overrides);

  const parsed = ExperimentSpec.safeParse(raw);
  if (!parsed.success) {
    throw new SpilloverError(parsed.error.issues.map((i) => issueToProblem(i, display, doc, lineCounter, raw, applied)));
  }
  const spec = parsed.data;
  const problems = crossCheck(spec, display, doc, lineCounter);
  problems.push(...validateResources(spec, display, doc, lineCounter));
  if (problems.length) throw new SpilloverError(problems);

  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0 && timeScale <= 1)) {
    throw new SpilloverError({ file: '--time-scale', message: 'the time scale must be in (0, 1]', expected: 'a number such as 0.1', found: String(opts.timeScale), fix: 'use e.g. --time-scale 0.1 for a run ten times shorter' });
  }
  const scaled = timeScale === 1 ? [] : scaleExperiment(spec, timeScale);
  const scenarioPath = path.resolve(path.dirname(absFile), spec.load.scenario);
  if (!fs.existsSync(scenarioPath)) {
    throw new SpilloverError({
      file: display,
      line: lineOf(doc, lineCounter, ['load', 'scenario']),
      path: 'load.scenario',
      message: `scenario script not found: ${path.relative(process.cwd(), scenarioPath)}`,
      expected: 'a k6 script path relative to the experiment file',
      found: spec.load.scenario,
      fix: `paths are relative to ${path.relative(process.cwd(), path.dirname(absFile)) || '.'}/, e.g. ../scenarios/peak-load.js`,
    });
  }
  return { file: absFile, spec, scenarioPath, overrides: applied, timeScale, scaled, topology: normaliseTopology(spec) };
}

/** The line of the alias to blame: the first one that resolves to nothing, else the first one. */
function aliasLine(doc: Document, lc: LineCounter): number | undefined {
  let first: number | undefined;
  let broken: number | undefined;
  visit(doc, {
    Alias(_, node) {
      const line = node.range ? lc.linePos(node.range[0]).line : undefined;
      first ??= line;
      if (broken === undefined && !node.resolve(doc)) broken = line;
    },
  });
  return broken ?? first;
}

function lineOf(doc: Document, lc: LineCounter, p: ReadonlyArray<PropertyKey>): number | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n) as Array<string | number>, true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

function valueAt(raw: unknown, p: ReadonlyArray<PropertyKey>): unknown {
  let v = raw as Record<PropertyKey, unknown> | undefined;
  for (const seg of p) v = v && typeof v === 'object' ? (v[seg] as Record<PropertyKey, unknown>) : undefined;
  return v;
}

const show = (v: unknown) => (v === undefined ? 'nothing' : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)?.slice(0, 80));

function issueToProblem(
  issue: z.core.$ZodIssue,
  file: string,
  doc: Document,
  lc: LineCounter,
  raw: unknown,
  applied: string[],
): ProblemDetail {
  const p = issue.path;
  const where = formatPath(p);
  const full = issue.code === 'unrecognized_keys' ? formatPath([...p, issue.keys[0]]) : where;
  const fromOverride = applied.find((a) => {
    const set = a.split('=')[0];
    return full === set || full.startsWith(`${set}.`) || full.startsWith(`${set}[`);
  });
  const base: ProblemDetail = {
    file: fromOverride ? `${file} (after --set ${fromOverride})` : file,
    line: lineOf(doc, lc, p),
    path: where || undefined,
    message: issue.message,
  };
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
      fix: 'remove or rename the field',
    };
  }
  const found = valueAt(raw, p);
  if (found === undefined && issue.code === 'invalid_type') {
    return { ...base, message: `required field is missing`, expected: issue.message.replace(/^Invalid input: /, ''), fix: `add ${where}` };
  }
  return { ...base, expected: expectedOf(issue), found: show(found), fix: fixFor(issue, where, found) };
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
      return undefined;
  }
}

/** Every problem carries a fix; the most specific one the issue allows. */
function fixFor(issue: z.core.$ZodIssue, where: string, found: unknown): string {
  if (issue.message.includes('a duration')) return 'write durations as a number with a unit: "250ms", "10s", "1m"';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'number' || issue.expected === 'int') {
        const n = typeof found === 'string' ? Number(found) : NaN;
        return Number.isFinite(n) && found !== '' ? `write ${where.split('.').pop()}: ${n} without quotes` : `write ${issue.expected === 'int' ? 'a whole number' : 'a number'}`;
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
      return tags.length ? `use one of ${tags.map((t) => `"${t}"`).join(', ')}` : 'see experiments/peak-load.yaml for the shape of this field';
    }
    default:
      return /^expected /.test(issue.message) ? `write ${issue.message.replace(/^expected /, '').replace(/ \(.*\)$/, '')}` : 'see experiments/peak-load.yaml for the shape of this field';
  }
}

/** Field names the schema accepts at a path, for did-you-mean. */
function knownKeys(p: ReadonlyArray<PropertyKey>): string[] {
  let s: unknown = ExperimentSpec;
  const unwrap = (x: unknown): unknown => {
    let cur = x as { _zod?: { def: Record<string, unknown> } };
    for (let i = 0; i < 10 && cur?._zod; i++) {
      const def = cur._zod.def;
      if (def.type === 'default' || def.type === 'optional' || def.type === 'pipe' || def.type === 'nullable') cur = (def.innerType ?? def.in) as typeof cur;
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
function crossCheck(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const clusters = Object.keys(spec.topology.clusters);
  const ref = (p: Array<string | number>, value: string) => {
    if (!clusters.includes(value)) {
      problems.push({
        file,
        line: lineOf(doc, lc, p),
        path: formatPath(p),
        message: `unknown cluster "${value}"`,
        expected: `one of ${clusters.join(', ')} (topology.clusters)`,
        found: JSON.stringify(value),
        fix: didYouMean(value, clusters) ? `did you mean "${didYouMean(value, clusters)}"?` : 'name a cluster defined under topology.clusters',
      });
    }
  };
  ref(['client', 'cluster'], spec.client.cluster);
  if (spec.gateway) ref(['gateway', 'cluster'], spec.gateway.cluster);
  for (const [n, s] of Object.entries(spec.services)) ref(['services', n, 'cluster'], s.cluster);
  const nodeRef = (p: Array<string | number>, cluster: string, node: string | undefined) => {
    const nodes = Object.keys(spec.topology.clusters[cluster]?.nodes ?? {});
    if (node === undefined || !clusters.includes(cluster) || nodes.includes(node)) return;
    problems.push({
      file,
      line: lineOf(doc, lc, p),
      path: formatPath(p),
      message: `unknown node group "${node}" in cluster ${cluster}`,
      expected: nodes.length ? `one of ${nodes.join(', ')} (topology.clusters.${cluster}.nodes)` : `a group defined under topology.clusters.${cluster}.nodes`,
      found: JSON.stringify(node),
      fix: didYouMean(node, nodes) ? `did you mean "${didYouMean(node, nodes)}"?` : `add topology.clusters.${cluster}.nodes.${node}: { locality: region/zone }`,
    });
  };
  nodeRef(['client', 'node'], spec.client.cluster, spec.client.node);
  const services = Object.keys(spec.services);
  spec.faults.forEach((f, i) => {
    if (f.action !== 'scale' || services.some((n) => n.toLowerCase() === f.target.toLowerCase())) return;
    problems.push({
      file,
      line: lineOf(doc, lc, ['faults', i, 'target']),
      path: `faults[${i}].target`,
      message: `scale names no deployment: "${f.target}"`,
      expected: `one of ${services.join(', ')} (services)`,
      found: JSON.stringify(f.target),
      fix: didYouMean(f.target, services) ? `did you mean "${didYouMean(f.target, services)}"?` : 'name a service defined under services',
    });
  });
  for (const [n, s] of Object.entries(spec.services)) nodeRef(['services', n, 'node'], s.cluster, s.node);
  if (spec.gateway && spec.gateway.cluster === spec.client.cluster && clusters.includes(spec.gateway.cluster)) {
    problems.push({
      file,
      line: lineOf(doc, lc, ['gateway', 'cluster']),
      path: 'gateway.cluster',
      message: 'the east-west gateway must be in the other cluster than the client',
      found: spec.gateway.cluster,
      fix: `put the gateway in ${clusters.find((c) => c !== spec.client.cluster)}`,
    });
  }
  // The study's gateway hands connections to the services of its own cluster; with none it routes nowhere.
  if (spec.gateway && clusters.includes(spec.gateway.cluster) && !Object.values(spec.services).some((s) => s.cluster === spec.gateway!.cluster)) {
    problems.push({
      file,
      line: lineOf(doc, lc, ['services']),
      path: 'services',
      message: `the east-west gateway's cluster ${spec.gateway.cluster} runs no service, so the gateway routes nowhere`,
      found: Object.entries(spec.services).map(([n, s]) => `${n} in ${s.cluster}`).join(', '),
      fix: `deploy a service in ${spec.gateway.cluster}, or drop gateway: and let each network get its own gateway`,
    });
  }
  const topo = normaliseTopology(spec);
  const ranges = topo.clusters.map((c) => c.addresses);
  if (new Set(ranges).size !== ranges.length) {
    problems.push({ file, path: 'topology.clusters', line: lineOf(doc, lc, ['topology', 'clusters']), message: 'two clusters use the same address range', found: ranges.join(', '), fix: 'give each cluster its own 127.0.N.0/24' });
  }
  for (const c of topo.clusters) {
    const n = topo.pods.filter((p) => p.cluster === c.name).length + topo.gateways.filter((g) => g.cluster === c.name).length + (topo.client.cluster === c.name ? 1 : 0);
    if (n > MAX_ADDRESSES_PER_CLUSTER) {
      problems.push({
        file,
        path: `topology.clusters.${c.name}`,
        line: lineOf(doc, lc, ['topology', 'clusters', c.name]),
        message: `cluster ${c.name} needs ${n} loopback addresses (pods, gateways, client); the local backend gives a cluster at most ${MAX_ADDRESSES_PER_CLUSTER}`,
        found: `${n}`,
        fix: 'lower replicas, or spread the deployments over more clusters',
      });
    }
  }
  return problems;
}

function validateResources(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const hosts = Object.values(spec.services).map((s) => s.host);
  const problems = validateIstioResources(spec.resources, { file, basePath: 'resources', hosts });
  // A resource applied mid-run is checked now, like the rest, not when it is due.
  spec.faults.forEach((f, i) => {
    if (f.action === 'apply') problems.push(...validateIstioResources([f.resource], { file, basePath: `faults[${i}].resource`, hosts }).map((p) => ({ ...p, path: p.path?.replace(`faults[${i}].resource[0]`, `faults[${i}].resource`) })));
  });
  for (const p of problems) {
    if (p.line === undefined && p.path) {
      try {
        const segs = p.path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
        p.line = lineOf(doc, lc, segs);
      } catch {
        /* the line is a convenience; the path is the reference */
      }
    }
    p.file ??= file;
  }
  return problems;
}
