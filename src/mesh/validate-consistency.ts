/**
 * Cross-resource consistency of an experiment's Istio resources with its services, checked by the
 * experiment loader before anything starts. istiod accepts each of these and quietly builds something
 * else than the experiment means (an SE endpoint dropped, a DR policy ignored, a port-level setting for
 * a port nobody uses), so the run would measure a mesh that does not federate.
 *
 * Not part of translate(): the translation stays faithful to istiod and reports the same cases as
 * caveats when it is given such resources directly (tests do).
 */
import type { ProblemDetail } from '../errors.ts';
import { hostMatches, type Json } from './resources.ts';

export interface ServiceRef {
  /** Experiment name of the service, e.g. "A". */
  name: string;
  host: string;
  port: number;
  portName: string;
}

export interface ConsistencyContext {
  file: string;
  basePath: string;
  services: ServiceRef[];
}

const nsOf = (r: Json, fallback: string) => (typeof r?.metadata?.namespace === 'string' ? r.metadata.namespace : fallback);
const hostNs = (host: string) => host.split('.')[1] ?? 'default';

export function consistencyChecks(resources: unknown, ctx: ConsistencyContext): ProblemDetail[] {
  if (!Array.isArray(resources)) return [];
  const out: ProblemDetail[] = [];
  const at = (i: number) => `${ctx.basePath}[${i}]`;
  const list = resources
    .map((r: Json, i: number) => ({ r, i }))
    .filter(({ r }) => r && typeof r === 'object' && r.spec && typeof r.spec === 'object');

  for (const { r, i } of list.filter(({ r }) => r.kind === 'ServiceEntry' && Array.isArray(r.spec.hosts))) {
    for (const s of ctx.services) {
      if (!r.spec.hosts.includes(s.host) || nsOf(r, hostNs(s.host)) !== hostNs(s.host)) continue;
      const ports: Json[] = Array.isArray(r.spec.ports) ? r.spec.ports : [];
      const named = ports.findIndex((p) => p?.name === s.portName);
      if (named < 0) {
        out.push({
          file: ctx.file,
          path: `${at(i)}.spec.ports`,
          message: `no port of this ServiceEntry is named "${s.portName}" like service ${s.name}'s port, so istiod drops its endpoints from ${s.host} and nothing can spill over`,
          expected: `a port named "${s.portName}" (services.${s.name}.port.name)`,
          found: JSON.stringify(ports.map((p) => p?.name)),
          fix: `name the ServiceEntry port "${s.portName}", or change services.${s.name}.port.name`,
        });
      } else if (ports[named].number !== s.port) {
        out.push({
          file: ctx.file,
          path: `${at(i)}.spec.ports[${named}].number`,
          message: `the ServiceEntry port "${s.portName}" is ${ports[named].number} but service ${s.name} listens on ${s.port}; the Kubernetes Service's port wins, so this number would be ignored`,
          expected: `${s.port} (services.${s.name}.port.number)`,
          found: String(ports[named].number),
          fix: `make both ${s.port}, or change services.${s.name}.port.number`,
        });
      }
    }
  }

  const drs = list.filter(({ r }) => r.kind === 'DestinationRule' && typeof r.spec.host === 'string');
  for (const { r, i } of drs) {
    const svc = ctx.services.find((s) => hostMatches(r.spec.host, s.host));
    const pls: Json[] = Array.isArray(r.spec.trafficPolicy?.portLevelSettings) ? r.spec.trafficPolicy.portLevelSettings : [];
    pls.forEach((p, j) => {
      const n = p?.port?.number;
      if (!svc || typeof n !== 'number' || n === svc.port) return;
      out.push({
        file: ctx.file,
        path: `${at(i)}.spec.trafficPolicy.portLevelSettings[${j}].port.number`,
        message: `service ${svc.name} (${svc.host}) has no port ${n}, so these settings apply to nothing`,
        expected: `${svc.port} (services.${svc.name}.port.number)`,
        found: String(n),
        fix: `use port.number: ${svc.port}`,
      });
    });
  }
  out.push(...duplicateDestinationRules(drs, ctx));
  return out;
}

/**
 * Two DestinationRules for one host in one namespace: istiod sorts them oldest first (creationTimestamp,
 * then name) and merges them into the first: only its trafficPolicy applies (a later one's only when the
 * first has none), later ones add subsets. Applied in file order, the earlier one in the list is the older.
 */
function duplicateDestinationRules(drs: Array<{ r: Json; i: number }>, ctx: ConsistencyContext): ProblemDetail[] {
  const out: ProblemDetail[] = [];
  const groups = new Map<string, Array<{ r: Json; i: number }>>();
  for (const d of drs) {
    if (d.r.spec.workloadSelector) continue; // selector-scoped rules are not merged
    const key = `${nsOf(d.r, '')}/${d.r.spec.host}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const created = (x: { r: Json; i: number }) => {
    const t = Date.parse(String(x.r.metadata?.creationTimestamp ?? ''));
    return Number.isFinite(t) ? t : x.i; // no timestamp: created in list order
  };
  for (const [, g] of groups) {
    if (g.length < 2) continue;
    const order = [...g].sort((a, b) => created(a) - created(b) || String(a.r.metadata?.name).localeCompare(String(b.r.metadata?.name)));
    const winner = order[0];
    for (const loser of order.slice(1)) {
      out.push({
        file: ctx.file,
        path: `${ctx.basePath}[${loser.i}].spec.host`,
        message: `a second DestinationRule for host ${loser.r.spec.host}: istiod merges them into the older one, ${ctx.basePath}[${winner.i}] (DestinationRule/${winner.r.metadata?.name}; oldest by creationTimestamp, then name), whose trafficPolicy applies${winner.r.spec.trafficPolicy ? `; this one's trafficPolicy is ignored` : ''}`,
        expected: 'one DestinationRule per host and namespace',
        found: `${ctx.basePath}[${winner.i}] and ${ctx.basePath}[${loser.i}] both with host ${loser.r.spec.host}`,
        fix: `merge the two into ${ctx.basePath}[${winner.i}], or delete one`,
      });
    }
  }
  return out;
}
