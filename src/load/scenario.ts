/**
 * Reads a k6 script: first as k6 does (vu/program.ts: bundle, init context, options, every k6 rule),
 * then, when the script is plain data (exported `requests`, a default function that only loops over
 * them, no thresholds, setup, teardown or handleSummary, no k6 outputs asked for, one of the four
 * executors the fast path implements), the fast path's own reading (plain-scenario.ts), which checks
 * that equivalence by dry-running the function. Anything else runs in the VU runtime. Also builds the
 * scenario of `spillover load <url>` from its flags.
 */
import fs from 'node:fs';
import { SpilloverError } from '../errors.ts';
import { readPlainScenario } from './plain-scenario.ts';
import type { ReadScenarioOptions } from './read-scenario-options.ts';
import { Problems } from './scenario-problems.ts';
import { readScenarioText } from './scenario-text.ts';
import { SUPPORTED_EXECUTORS, type Scenario } from './types.ts';

export type { ReadScenarioOptions } from './read-scenario-options.ts';
export { readPlainScenario } from './plain-scenario.ts';

export async function readScenario(file: string, opts: ReadScenarioOptions = {}): Promise<Scenario> {
  // A missing file gets its did-you-mean here, before the VU runtime reads it; a present one is read once, below.
  if (!fs.existsSync(file)) readScenarioText(file);
  const { readVuProgram } = await import('./vu/program.ts');
  const vu = await readVuProgram(file, opts);
  const p = vu.vu!;
  const plain =
    !opts.forceVu &&
    !opts.outJson &&
    !opts.summaryExport &&
    opts.cli === undefined &&
    p.options.thresholds === undefined &&
    !['setup', 'teardown', 'handleSummary'].some((f) => p.exportedFunctions.includes(f)) &&
    vu.scenarios.every((s) => (SUPPORTED_EXECUTORS as readonly string[]).includes(s.executor)) &&
    p.customMetrics.length === 0;
  if (plain) {
    try {
      return await readPlainScenario(file, opts);
    } catch (e) {
      if (!(e instanceof SpilloverError)) throw e;
    }
  }
  return vu;
}

/** A scenario from CLI flags (`spillover load <url> --rate R --duration D`): one constant-arrival-rate scenario. */
export function directScenario(o: {
  url: string;
  rate: number;
  duration: number;
  method?: string;
  preAllocatedVUs?: number;
  maxVUs?: number;
  timeUnit?: number;
  gracefulStop?: number;
  headers?: Record<string, string>;
  body?: string;
}): Scenario {
  const problems = new Problems('command line');
  let ok = true;
  try {
    const u = new URL(o.url);
    if (!['http:', 'https:'].includes(u.protocol)) ok = false;
  } catch {
    ok = false;
  }
  if (!ok)
    problems.add({ path: '<url>', message: 'not an absolute http(s) URL', found: o.url, expected: 'e.g. http://127.0.0.1:8080/work' });
  if (!Number.isInteger(o.rate) || o.rate < 1)
    problems.add({ path: '--rate', message: 'rate must be an integer >= 1 (iterations per time unit)', found: String(o.rate) });
  if (!(o.duration > 0))
    problems.add({ path: '--duration', message: 'duration must be a positive k6 duration', found: String(o.duration) });
  const pre = o.preAllocatedVUs ?? Math.max(1, Math.min(o.rate, 100));
  const max = o.maxVUs ?? Math.max(pre, 1000);
  if (max < pre) problems.add({ path: '--max-vus', message: 'smaller than --pre-allocated-vus', found: String(max) });
  problems.throwIfAny();
  return {
    timeScale: 1,
    warnings: [],
    scenarios: [
      {
        name: 'default',
        executor: 'constant-arrival-rate',
        rate: o.rate,
        timeUnit: o.timeUnit ?? 1,
        duration: o.duration,
        preAllocatedVUs: pre,
        maxVUs: max,
        startTime: 0,
        gracefulStop: o.gracefulStop ?? 30,
        exec: 'default',
        env: {},
        requests: [
          { method: (o.method ?? 'GET').toUpperCase(), url: o.url, body: o.body ?? null, ...(o.headers ? { headers: o.headers } : {}) },
        ],
      },
    ],
  };
}
