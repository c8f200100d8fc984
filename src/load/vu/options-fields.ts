/**
 * Reading one scenario's fields the way k6 does (durations, counts, stages, string maps, the VU pool
 * of the arrival-rate executors), each problem recorded with its option path.
 */
import { parseK6DurationSeconds } from '../../util/duration.ts';
import type { Stage } from '../types.ts';

export type Problems = Array<{ path: string; message: string; found?: string; expected?: string; fix?: string }>;

export function canon(o: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[byLower.get(k.toLowerCase()) ?? k] = v;
  return out;
}

export const show = (v: unknown) => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

export function fieldReader(sc: Record<string, unknown>, p: (k: string) => string, problems: Problems) {
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
  const strMap = (k: string): Record<string, string> => {
    const out: Record<string, string> = {};
    if (sc[k] === undefined) return out;
    if (typeof sc[k] !== 'object' || sc[k] === null)
      problems.push({ path: p(k), message: `${k} must be an object of strings`, found: show(sc[k]) });
    else for (const [kk, v] of Object.entries(sc[k] as object)) out[kk] = String(v);
    return out;
  };
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
  return { dur, int, stages, strMap, pool };
}
