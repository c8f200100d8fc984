/**
 * A sweep plan: `--set path=v1,v2,...` flags become axes, and the plan is their cartesian product,
 * first axis slowest (so the plan reads like nested loops in the order the flags were given).
 *
 * A flag with a single value is a fixed override for every point. Values are split on commas that
 * are not inside brackets, braces or quotes, so a YAML flow value such as `[a,b]` stays one value.
 */
import { SpilloverError } from '../errors.ts';

export interface SweepAxis {
  /** Field path as given, e.g. `resources.DestinationRule/a.spec.trafficPolicy.outlierDetection.consecutive5xxErrors`. */
  path: string;
  /** Short name for tables and figures: the last path segment. */
  label: string;
  /** Values as written (YAML scalars, parsed by the experiment loader like any `--set`). */
  values: string[];
}

export interface SweepPoint {
  /** 1-based position in the plan. */
  index: number;
  /** Directory-safe name, e.g. `p03_consecutive5xxErrors-5_concurrency-2`. */
  id: string;
  /** `path=value` overrides for this point. */
  sets: string[];
  /** Axis label -> value. */
  values: Record<string, string>;
}

export interface SweepPlan {
  axes: SweepAxis[];
  fixed: string[];
  points: SweepPoint[];
}

export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur.trim());
  return out;
}

const labelOf = (p: string) =>
  p
    .split('.')
    .at(-1)!
    .replace(/\[\d+\]$/, '');

export function planSweep(sets: readonly string[]): SweepPlan {
  const axes: SweepAxis[] = [];
  const fixed: string[] = [];
  for (const raw of sets) {
    const eq = raw.indexOf('=');
    if (eq <= 0) {
      throw new SpilloverError({
        file: '--set',
        message: `"${raw}" is not of the form path=v1,v2,...`,
        expected: 'path=v1,v2,... e.g. services.A.capacity.concurrency=2,4,8',
        found: raw,
        fix: 'write the field path, "=", and the values separated by commas',
      });
    }
    const p = raw.slice(0, eq).trim();
    const values = splitValues(raw.slice(eq + 1));
    if (values.some((v) => v === '')) {
      throw new SpilloverError({
        file: '--set',
        path: p,
        message: 'an empty value in the list',
        expected: 'values separated by single commas',
        found: raw.slice(eq + 1),
        fix: 'remove the extra comma',
      });
    }
    if (axes.some((a) => a.path === p) || fixed.some((f) => f.startsWith(`${p}=`))) {
      throw new SpilloverError({
        file: '--set',
        path: p,
        message: 'the same field is set twice',
        found: raw,
        fix: 'give each field one --set with all its values',
      });
    }
    if (values.length === 1) fixed.push(`${p}=${values[0]}`);
    else if (new Set(values).size !== values.length) {
      throw new SpilloverError({
        file: '--set',
        path: p,
        message: 'a value is listed twice',
        found: values.join(','),
        fix: 'list each value once (use --repeat for repeated runs)',
      });
    } else axes.push({ path: p, label: labelOf(p), values });
  }
  // Two paths ending in the same field name would share a label: fall back to the full path.
  for (const a of axes) if (axes.filter((b) => b.label === a.label).length > 1) a.label = a.path;
  if (axes.length === 0) {
    throw new SpilloverError({
      file: '--set',
      message: 'nothing to sweep',
      expected: 'at least one --set with two or more values, e.g. --set services.A.capacity.concurrency=2,4,8',
      found: sets.length ? sets.join(' ') : 'no --set',
      fix: 'list the values to sweep separated by commas',
    });
  }
  let combos: Array<Array<[SweepAxis, string]>> = [[]];
  for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((v) => [...c, [axis, v] as [SweepAxis, string]]));
  const width = String(combos.length).length;
  const points = combos.map((c, i) => ({
    index: i + 1,
    id: `p${String(i + 1).padStart(Math.max(2, width), '0')}_${c.map(([a, v]) => `${labelOf(a.path)}-${v}`).join('_')}`
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 120),
    sets: [...fixed, ...c.map(([a, v]) => `${a.path}=${v}`)],
    values: Object.fromEntries(c.map(([a, v]) => [a.label, v])),
  }));
  return { axes, fixed, points };
}

export function formatPlan(plan: SweepPlan, repeat: number): string {
  const runs = plan.points.length * repeat;
  const lines = [
    `sweep: ${plan.axes.map((a) => `${a.label} ∈ {${a.values.join(', ')}}`).join(' × ')} = ${plan.points.length} point${plan.points.length === 1 ? '' : 's'} × ${repeat} repeat${repeat === 1 ? '' : 's'} = ${runs} run${runs === 1 ? '' : 's'}`,
  ];
  if (plan.fixed.length) lines.push(`fixed: ${plan.fixed.join(' ')}`);
  for (const p of plan.points) lines.push(`  ${p.id}: ${p.sets.map((s) => `--set ${s}`).join(' ')}`);
  return lines.join('\n');
}
