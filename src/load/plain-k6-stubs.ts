/**
 * Stub k6 modules for evaluating a plain-data script (plain-scenario.ts): each API call records what it
 * would send, or flags itself as something the fast path cannot do (sleep, check, custom metrics, ...).
 */
import { show } from './scenario-problems.ts';
import type { RequestSpec } from './types.ts';

export interface Recorded {
  calls: RequestSpec[];
  unsupported: string[];
}

/** Stub k6 modules. Each API call records into `rec` (or flags itself as something the driver cannot do). */
export function k6Stubs(rec: { current: Recorded | null }) {
  const flag =
    (name: string) =>
    (..._args: unknown[]) => {
      (rec.current ?? initCalls).unsupported.push(name);
      return undefined;
    };
  const initCalls: Recorded = { calls: [], unsupported: [] };
  const request = (method: unknown, url: unknown, body?: unknown, params?: unknown) => {
    const target = rec.current ?? initCalls;
    if (rec.current === null) {
      target.unsupported.push('http requests in the init context');
      return fakeResponse;
    }
    const p = (params ?? {}) as Record<string, unknown>;
    const extra = typeof p === 'object' ? Object.keys(p).filter((k) => k !== 'headers' && p[k] !== undefined) : ['params'];
    if (extra.length > 0) target.unsupported.push(`request params ${extra.join(', ')}`);
    const headers = p.headers as Record<string, string> | undefined;
    target.calls.push({
      method: String(method).toUpperCase(),
      url: String(url),
      body: body == null ? null : typeof body === 'string' ? body : show(body),
      ...(headers && Object.keys(headers).length > 0 ? { headers: { ...headers } } : {}),
    });
    return fakeResponse;
  };
  const fakeResponse = { status: 200, body: '', headers: {}, timings: {}, json: () => ({}), html: () => ({}) };
  const http = {
    request,
    get: (url: unknown, params?: unknown) => request('GET', url, null, params),
    head: (url: unknown, params?: unknown) => request('HEAD', url, null, params),
    post: (url: unknown, body?: unknown, params?: unknown) => request('POST', url, body, params),
    put: (url: unknown, body?: unknown, params?: unknown) => request('PUT', url, body, params),
    patch: (url: unknown, body?: unknown, params?: unknown) => request('PATCH', url, body, params),
    del: (url: unknown, body?: unknown, params?: unknown) => request('DELETE', url, body, params),
    options: (url: unknown, body?: unknown, params?: unknown) => request('OPTIONS', url, body, params),
    batch: flag('http.batch'),
    asyncRequest: flag('http.asyncRequest'),
    setResponseCallback: flag('http.setResponseCallback'),
    expectedStatuses: () => ({}),
    file: flag('http.file'),
    cookieJar: flag('http.cookieJar'),
  };
  const k6 = { sleep: flag('sleep'), check: flag('check'), group: flag('group'), fail: flag('fail'), randomSeed: flag('randomSeed') };
  const metric = (kind: string) =>
    class {
      constructor(readonly name: string) {}
      add() {
        (rec.current ?? initCalls).unsupported.push(`custom ${kind} metric`);
      }
    };
  const metrics = { Counter: metric('Counter'), Gauge: metric('Gauge'), Rate: metric('Rate'), Trend: metric('Trend') };
  const esm = (o: Record<string, unknown>) => ({ __esModule: true, default: o, ...o });
  return {
    initCalls,
    modules: { 'k6/http': esm(http), k6: esm(k6), 'k6/metrics': esm(metrics) } as Record<string, unknown>,
  };
}
