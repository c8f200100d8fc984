/**
 * Turns a scenario's requests into what the hot path sends: the origin's connection pool, the path,
 * the header list with the Host the URL names, and the record's constant tail. Every target is
 * resolved here (loopback.ts), so bad input fails before any file is opened or request sent.
 */
import { SpilloverError } from '../errors.ts';
import { OriginConnections } from './connections.ts';
import { resolveTarget } from './loopback.ts';
import type { RequestTemplate } from './scenario-run.ts';
import type { Scenario, ScenarioSpec } from './types.ts';

export type SocketAddress = { address: string; port: number };

/** `connectTo` ("ip:port", curl --connect-to) resolved, or undefined when not given. */
export async function resolveConnectTo(connectTo: string | undefined, allowNonLoopback: boolean): Promise<SocketAddress | undefined> {
  if (!connectTo) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(connectTo);
  if (!m)
    throw new SpilloverError({
      path: 'connectTo',
      message: 'not a socket address',
      expected: 'host:port, e.g. 127.0.1.2:15001',
      found: connectTo,
    });
  return resolveTarget(m[1], Number(m[2]), allowNonLoopback, 'connectTo');
}

export interface TemplateContext {
  scenario: Scenario;
  /** Every request goes to this address when set (connectTo). */
  fixed: SocketAddress | undefined;
  allowNonLoopback: boolean;
  /** One pool per origin, shared by every scenario; new origins are added. */
  pools: Map<string, OriginConnections>;
  connectTimeoutMs: number;
}

export async function requestTemplates(spec: ScenarioSpec, ctx: TemplateContext): Promise<RequestTemplate[]> {
  const templates: RequestTemplate[] = [];
  for (const [i, r] of spec.requests.entries()) {
    const url = new URL(r.url);
    const defaultPort = url.protocol === 'https:' ? 443 : 80;
    const target =
      ctx.fixed ??
      (await resolveTarget(
        url.hostname,
        Number(url.port || defaultPort),
        ctx.allowNonLoopback,
        `${ctx.scenario.file ?? 'scenario'} ${spec.name} requests[${i}].url`,
      ));
    const host = target.address.includes(':') ? `[${target.address}]` : target.address;
    const origin = `${url.protocol}//${host}:${target.port}`;
    let pool = ctx.pools.get(origin);
    if (!pool) {
      pool = new OriginConnections(origin, ctx.connectTimeoutMs);
      ctx.pools.set(origin, pool);
    }
    const headers: string[] = ['host', url.host];
    for (const [k, v] of Object.entries(r.headers ?? {})) if (k.toLowerCase() !== 'host') headers.push(k, v);
    for (const [k, v] of Object.entries(r.headers ?? {})) if (k.toLowerCase() === 'host') headers[1] = v;
    templates.push({
      pool,
      path: url.pathname + url.search,
      method: r.method,
      headers,
      body: r.body ?? null,
      tail: `,"method":${JSON.stringify(r.method)},"url":${JSON.stringify(r.url)}`,
    });
  }
  return templates;
}
