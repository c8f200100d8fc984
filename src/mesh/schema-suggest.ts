/**
 * Schema introspection for validate.ts's did-you-mean: walk istio/api's zod schemas to the field a
 * problem is at, list its siblings, find the nearest place a misplaced field belongs, and write
 * paths and values the way a user writes them in YAML.
 */
import type { z } from 'zod';
import { closest, distance } from 'fastest-levenshtein';
import type { Json } from './resources.ts';

type AnySchema = z.ZodType;
const def = (s: AnySchema): Json => (s as Json)._zod.def;

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (;;) {
    const d = def(cur);
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default') cur = d.innerType;
    else if (d.type === 'pipe') cur = d.in;
    else return cur;
  }
}

export function shapeOf(s: AnySchema): Record<string, AnySchema> | undefined {
  const d = def(unwrap(s));
  if (d.type === 'object') return d.shape;
  if (d.type === 'union') {
    for (const o of d.options) {
      const sh = shapeOf(o);
      if (sh) return sh;
    }
  }
  return undefined;
}

function childOf(s: AnySchema, key: PropertyKey): AnySchema | undefined {
  const u = unwrap(s);
  const d = def(u);
  if (d.type === 'array') return d.element;
  if (d.type === 'record') return d.valueType;
  const sh = shapeOf(u);
  return sh?.[String(key)];
}

export function schemaAt(s: AnySchema, path: PropertyKey[]): AnySchema | undefined {
  let cur: AnySchema | undefined = s;
  for (const k of path) {
    if (!cur) return undefined;
    cur = childOf(cur, k);
  }
  return cur;
}

/**
 * A close spelling among the siblings, or else the nearest place below the parent where a field of
 * that name exists (DestinationRule `spec.tls` -> `spec.trafficPolicy.tls`).
 */
export function suggest(key: string, parent: AnySchema | undefined, parentPath: PropertyKey[]): string | undefined {
  if (!parent) return undefined;
  const siblings = Object.keys(shapeOf(parent) ?? {});
  const near = siblings.length ? closest(key, siblings) : undefined;
  if (near && distance(near.toLowerCase(), key.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3))) {
    return `did you mean ${rel([...parentPath, near])}?`;
  }
  const queue: Array<{ s: AnySchema; path: PropertyKey[]; depth: number }> = [{ s: parent, path: [], depth: 0 }];
  while (queue.length) {
    const { s, path, depth } = queue.shift()!;
    const sh = shapeOf(s);
    if (sh && depth > 0 && key in sh) return `did you mean ${rel([...parentPath, ...path, key])}?`;
    if (depth >= 3) continue;
    for (const [k, child] of Object.entries(sh ?? {})) {
      const d = def(unwrap(child));
      const next = d.type === 'array' ? d.element : child;
      queue.push({ s: next, path: d.type === 'array' ? [...path, k, 0] : [...path, k], depth: depth + 1 });
    }
  }
  return undefined;
}

/** Path inside the resource, as users write it: spec.trafficPolicy.tls. */
const rel = (path: PropertyKey[]) => joinPath('', path).replace(/^\./, '');

export function joinPath(base: string, path: PropertyKey[]): string {
  let out = base;
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `.${String(k)}`;
  return out;
}

export function closestValue(input: unknown, values: readonly unknown[]): string {
  const strs = values.filter((v): v is string => typeof v === 'string');
  if (typeof input === 'string' && strs.length) {
    const upper = strs.find((v) => v === input.toUpperCase());
    if (upper) return `write ${upper} (enum values are upper case)`;
    return `did you mean ${closest(input, strs)}?`;
  }
  return `use one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
}

export const describe = (v: unknown) => (v === undefined ? '(missing)' : JSON.stringify(v));
