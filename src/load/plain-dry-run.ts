/**
 * The fast path cannot see inside the default function, so it checks it: each scenario's exec function
 * is called for a few (__VU, __ITER) pairs with the recording stubs (plain-k6-stubs.ts), and must make
 * exactly the exported requests, in order, and nothing else.
 */
import vm from 'node:vm';
import type { Recorded } from './plain-k6-stubs.ts';
import { USE_K6, type Problems } from './scenario-problems.ts';
import type { RequestSpec, ScenarioSpec } from './types.ts';

/** Call the scenario's exec function with recording stubs for a few (__VU, __ITER) pairs. */
export function dryRun(
  context: vm.Context,
  sandbox: Record<string, unknown>,
  rec: { current: Recorded | null },
  exported: Record<string, unknown>,
  spec: ScenarioSpec,
  env: Record<string, string>,
  timeout: number,
  problems: Problems,
): RequestSpec[] | undefined {
  const env0 = { ...env };
  Object.assign(env, spec.env);
  let first: RequestSpec[] | undefined;
  try {
    for (const [vu, iter] of [
      [1, 0],
      [1, 1],
      [2, 0],
      [7, 13],
    ]) {
      const recorded: Recorded = { calls: [], unsupported: [] };
      rec.current = recorded;
      sandbox.__VU = vu;
      sandbox.__ITER = iter;
      sandbox.__spilloverTarget = exported[spec.exec];
      let result: unknown;
      try {
        result = vm.runInContext('__spilloverTarget()', context, { timeout });
      } catch (e) {
        problems.add({
          path: `${spec.exec}()`,
          message: `the ${spec.exec === 'default' ? 'default function' : `function ${spec.exec}`} failed when the driver checked it (scenario ${spec.name})`,
          found: (e as Error)?.message ?? String(e),
          fix: USE_K6,
        });
        return undefined;
      }
      if (result && typeof (result as { then?: unknown }).then === 'function') {
        problems.add({ path: `${spec.exec}()`, message: 'async iteration logic cannot be seen by the embedded driver', fix: USE_K6 });
        return undefined;
      }
      if (recorded.unsupported.length > 0) {
        problems.add({
          path: `${spec.exec}()`,
          message: `uses ${[...new Set(recorded.unsupported)].join(', ')}, which the embedded driver cannot honour (scenario ${spec.name})`,
          fix: `keep the function a plain loop over requests, or ${USE_K6}`,
        });
        return undefined;
      }
      if (first === undefined) first = recorded.calls;
      else if (JSON.stringify(first) !== JSON.stringify(recorded.calls)) {
        problems.add({
          path: `${spec.exec}()`,
          message: `makes different requests for different __VU/__ITER (scenario ${spec.name}); the embedded driver sends the same requests every iteration`,
          fix: USE_K6,
        });
        return undefined;
      }
    }
  } finally {
    rec.current = null;
    for (const k of Object.keys(env)) delete env[k];
    Object.assign(env, env0);
  }
  return first;
}

export function compareRequests(calls: RequestSpec[], requests: RequestSpec[], spec: ScenarioSpec, problems: Problems): void {
  const norm = (r: RequestSpec) => JSON.stringify([r.method.toUpperCase(), r.url, r.body ?? null, Object.entries(r.headers ?? {}).sort()]);
  const a = calls.map(norm);
  const b = requests.map(norm);
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    problems.add({
      path: `${spec.exec}()`,
      message: `the requests the ${spec.exec === 'default' ? 'default function' : `function ${spec.exec}`} makes differ from the exported requests (scenario ${spec.name})`,
      expected: `exactly requests, in order: ${b.join(' ')}`,
      found: a.length === 0 ? 'no requests' : a.join(' '),
      fix: `make it loop over requests (for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers })), or ${USE_K6}`,
    });
  }
}
