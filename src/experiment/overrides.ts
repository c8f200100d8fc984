/**
 * `--set path=value` overrides, applied to the parsed experiment before validation so that an override
 * is checked exactly like a value written in the file.
 *
 * Paths are dotted with `[i]` for list items. Istio resources can also be addressed by kind and name,
 * which survives reordering the file: `resources.DestinationRule/a.spec.trafficPolicy.outlierDetection.consecutive5xxErrors=5`.
 */
import { parse as parseYamlValue } from 'yaml';
import { SpilloverError, type ProblemDetail } from '../errors.ts';

export interface Override {
  raw: string;
  path: Array<string | number>;
  value: unknown;
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** Split `a.b[2].c` (and `resources.Kind/name.x`) into path segments. */
export function parsePath(p: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of p.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m || (m[1] === '' && !m[2])) throw new Error(`bad path segment "${part}"`);
    // These names reach Object.prototype through plain objects: `--set constructor.prototype.x=1`
    // would change every object of the process.
    if (FORBIDDEN.has(m[1])) throw new Error(`"${m[1]}" is not a field of an experiment`);
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

export function parseOverride(raw: string, source = '--set'): Override {
  const eq = raw.indexOf('=');
  if (eq <= 0) {
    throw new SpilloverError({
      file: source,
      message: `override "${raw}" is not of the form path=value`,
      expected: 'path=value, e.g. services.A.capacity.concurrency=2',
      found: raw,
      fix: 'write the field path, "=", and the new value',
    });
  }
  const pathText = raw.slice(0, eq).trim();
  let path: Array<string | number>;
  try {
    path = parsePath(pathText);
  } catch (e) {
    throw new SpilloverError({
      file: source,
      path: pathText,
      message: (e as Error).message,
      fix: 'use a dotted path with [i] for list items',
    });
  }
  // Values are YAML scalars, so `5`, `true`, `2s` and `"quoted"` mean what they mean in the file.
  let value: unknown;
  try {
    value = parseYamlValue(raw.slice(eq + 1), { logLevel: 'silent' });
  } catch (e) {
    throw new SpilloverError({
      file: source,
      path: pathText,
      message: `the value of "${raw}" is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      expected: 'a YAML scalar, list or mapping: 5, true, 2s, [a, b], {a: 1}',
      found: raw.slice(eq + 1),
      fix: `quote the value: --set '${pathText}="${raw.slice(eq + 1).replaceAll('"', '\\"')}"'`,
    });
  }
  return { raw, path, value };
}

/** Resolve a `Kind/name` segment under `resources` to the index of that resource. */
function resolveSegment(container: unknown, seg: string | number, parentPath: Array<string | number>): string | number {
  if (typeof seg === 'number' || !Array.isArray(container) || !seg.includes('/')) return seg;
  const [kind, name] = seg.split('/');
  const idx = container.findIndex(
    (r) =>
      r &&
      typeof r === 'object' &&
      (r as { kind?: string }).kind === kind &&
      (r as { metadata?: { name?: string } }).metadata?.name === name,
  );
  if (idx < 0) {
    const have = container
      .map((r) => `${(r as { kind?: string })?.kind}/${(r as { metadata?: { name?: string } })?.metadata?.name}`)
      .join(', ');
    throw new SpilloverError({
      file: '--set',
      path: [...parentPath, seg].join('.'),
      message: `no resource ${seg} in ${parentPath.join('.')}`,
      expected: `one of ${have}`,
      found: seg,
      fix: 'name an existing resource as Kind/name, or use its index, e.g. resources[1]',
    });
  }
  return idx;
}

/** Apply overrides in order, creating intermediate objects as needed. Returns the concrete paths set. */
export function applyOverrides(doc: Record<string, unknown>, overrides: Override[]): string[] {
  const applied: string[] = [];
  for (const o of overrides) {
    let node: unknown = doc;
    const concrete: Array<string | number> = [];
    for (let i = 0; i < o.path.length; i++) {
      const seg = resolveSegment(node, o.path[i], concrete);
      concrete.push(seg);
      const last = i === o.path.length - 1;
      const holder = node as Record<string | number, unknown>;
      if (holder === null || typeof holder !== 'object') {
        throw new SpilloverError({
          file: '--set',
          path: concrete.join('.'),
          message: `cannot set ${o.raw}: ${concrete.slice(0, -1).join('.')} is not an object or list`,
          fix: 'check the path against the experiment file',
        });
      }
      if (Array.isArray(holder)) listSegment(holder, seg, concrete, o.raw);
      if (last) holder[seg] = o.value;
      else {
        // Only own fields are descended into: an inherited one (toString, ...) is not part of the file.
        if (!Object.hasOwn(holder, seg) || holder[seg] === undefined) holder[seg] = typeof o.path[i + 1] === 'number' ? [] : {};
        node = holder[seg];
      }
    }
    applied.push(`${formatPath(concrete)}=${JSON.stringify(o.value)}`);
  }
  return applied;
}

/**
 * In a list, a segment is an index up to its length (the length appends) or a Kind/name: a field name
 * would land on the array object, where validation never looks, and a far index would leave holes.
 */
function listSegment(list: unknown[], seg: string | number, concrete: Array<string | number>, raw: string): void {
  const where = formatPath(concrete.slice(0, -1));
  if (typeof seg === 'string') {
    throw new SpilloverError({
      file: `--set ${raw}`,
      path: formatPath(concrete),
      message: `${where} is a list, so "${seg}" names nothing in it`,
      expected: `an index [0] to [${list.length}]${where === 'resources' ? ', or Kind/name such as DestinationRule/a' : ''}`,
      found: seg,
      fix: `write ${where}[0].${seg}=... for the first item`,
    });
  }
  if (seg > list.length) {
    throw new SpilloverError({
      file: `--set ${raw}`,
      path: formatPath(concrete),
      message: `${where} has ${list.length} item${list.length === 1 ? '' : 's'}, so [${seg}] is past its end`,
      expected: `an index [0] to [${list.length}] ([${list.length}] appends one)`,
      found: `[${seg}]`,
      fix: `use ${where}[${list.length}] to add an item, or an existing index`,
    });
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${String(seg)}` : String(seg);
  return s;
}

/**
 * Problems at or under a path that an override set are reported against that `--set`, as the user
 * typed it; the file's line would show the value the override replaced.
 */
export function blameOverrides(
  problems: ProblemDetail[],
  applied: string[],
  overrides: Array<{ raw: string }>,
  inFile: (path: string) => boolean,
): ProblemDetail[] {
  const under = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  return problems.map((p) => {
    if (!p.path) return p;
    const full = p.path;
    // The last override of a path wins, so it is the one to blame; so is one that made the field
    // the problem is about (`--set faults.at=1s` creates faults as a mapping).
    for (let i = applied.length - 1; i >= 0; i--) {
      const set = applied[i].slice(0, applied[i].indexOf('='));
      if (under(full, set) || (under(set, full) && !inFile(full))) return { ...p, file: `--set ${overrides[i].raw}`, line: undefined };
    }
    return p;
  });
}
