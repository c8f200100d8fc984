/**
 * Structural validation of an experiment's Istio resources against istio/api's schemas, plus the
 * cross-resource checks that catch a typo in a host: every problem names the file, the field path
 * (`resources[1].spec.tls`), what was expected and found, and a fix.
 */
import { z } from 'zod';
import { closest, distance } from 'fastest-levenshtein';
import { closestValue, describe, joinPath, schemaAt, shapeOf, suggest } from './schema-suggest.ts';
import type { ProblemDetail } from '../errors.ts';
import { KINDS, resourceSchema } from './istio-schemas.ts';
import { hostMatches, type Json } from './resources.ts';
import { parseIstioDurationNs } from '../util/duration.ts';
import { httpRouteActionChecks } from './validate-routes.ts';
import { sidecarChecks } from './validate-sidecar.ts';

export interface ValidateContext {
  file: string;
  /** Path of the resources list inside the file, e.g. "resources". */
  basePath: string;
  /** Hosts of the experiment's own services (Kubernetes Services): a DestinationRule may name them without a ServiceEntry. */
  hosts?: string[];
}

export function validateIstioResources(resources: unknown, ctx: ValidateContext): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  if (!Array.isArray(resources)) {
    return [
      {
        file: ctx.file,
        path: ctx.basePath,
        message: 'Istio resources must be a list',
        expected: 'a YAML list of Istio resources',
        found: describe(resources),
        fix: `write ${ctx.basePath}: [ ... ]`,
      },
    ];
  }
  const known: Array<{ r: Json; i: number }> = [];
  let unknownKind = false;
  resources.forEach((r: Json, i) => {
    const at = `${ctx.basePath}[${i}]`;
    const kind = r?.kind;
    if (typeof kind !== 'string' || !KINDS[kind]) {
      const known = Object.keys(KINDS);
      const guess = typeof kind === 'string' ? closest(kind, known) : undefined;
      problems.push({
        file: ctx.file,
        path: `${at}.kind`,
        message: 'not an Istio resource kind this harness translates',
        expected: known.join(', '),
        found: describe(kind),
        fix:
          guess && distance(guess.toLowerCase(), String(kind).toLowerCase()) <= 3
            ? `did you mean ${guess}?`
            : 'use one of the expected kinds',
      });
      unknownKind = true;
      return;
    }
    // Cross-resource checks see structurally broken resources too: a DR with a misplaced field still
    // names its host, and "no DestinationRule covers this host" would only mislead.
    known.push({ r, i });
    const result = resourceSchema(kind).safeParse(r, { reportInput: true });
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(toProblem(issue, r, at, ctx, kind));
      return;
    }
    problems.push(...semanticChecks(kind, r, at, ctx));
  });
  // A resource of an unknown kind may be the very DestinationRule the cross-checks would miss.
  if (!unknownKind) problems.push(...crossChecks(known, ctx));
  return problems;
}

function toProblem(issue: z.core.$ZodIssue, resource: Json, at: string, ctx: ValidateContext, kind: string): ProblemDetail {
  const path = joinPath(at, issue.path);
  const base = { file: ctx.file, path };
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parentSchema = schemaAt(resourceSchema(kind), issue.path);
      const key = issue.keys[0];
      const keyPath = joinPath(at, [...issue.path, key]);
      return {
        ...base,
        path: keyPath,
        message: `unknown field${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ` "${key}"`} in ${kind} (istio/api has no such field here; the API server would silently drop it)`,
        expected: parentSchema ? `one of: ${Object.keys(shapeOf(parentSchema) ?? {}).join(', ')}` : undefined,
        found: issue.keys.join(', '),
        fix: suggest(key, parentSchema, issue.path) ?? `remove ${key} or move it where ${kind} defines it`,
      };
    }
    case 'invalid_type':
      return {
        ...base,
        message: issue.input === undefined ? 'required field is missing' : `wrong type`,
        expected: issue.expected,
        found: describe(issue.input),
        fix: issue.input === undefined ? `add ${path.split('.').pop()}` : `write a ${issue.expected}`,
      };
    case 'invalid_value':
      return {
        ...base,
        message: 'value not allowed here',
        expected: issue.values.map((v) => JSON.stringify(v)).join(' | '),
        found: describe(issue.input),
        fix: closestValue(issue.input, issue.values),
      };
    case 'invalid_format':
      return {
        ...base,
        message: 'not an Istio duration',
        expected: 'a Go-style duration such as 1s, 500ms, 1m, 1h30m (units ns us ms s m h; no days, no bare numbers)',
        found: describe(issue.input),
        fix: typeof issue.input === 'number' ? `write "${issue.input}s"` : 'write e.g. 30s',
      };
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? `>= ${String(issue.minimum)}` : `<= ${String(issue.maximum)}`;
      return {
        ...base,
        message:
          issue.code === 'too_small' ? 'value too small (Istio rejects it)' : 'value too large for the field (Envoy takes 32-bit counts)',
        expected: `${issue.origin === 'array' ? 'a list of length ' : issue.origin === 'string' ? 'a text of length ' : 'a number '}${bound}`,
        found: describe(issue.input),
        fix: issue.origin === 'number' ? `use a value ${bound}` : `make it ${bound}`,
      };
    }
    default:
      return {
        ...base,
        message: issue.message,
        found: describe((issue as { input?: unknown }).input),
        expected: undefined,
        fix: 'see the istio/api reference for this field',
      };
  }
}

/** Istio's own validation rules (validateOutlierDetection, ...) beyond the structure. */
function semanticChecks(kind: string, r: Json, at: string, ctx: ValidateContext): ProblemDetail[] {
  const out: ProblemDetail[] = [];
  if (kind === 'DestinationRule') {
    const policies: Array<[Json, string]> = [[r.spec.trafficPolicy, 'spec.trafficPolicy']];
    (r.spec.trafficPolicy?.portLevelSettings ?? []).forEach((p: Json, i: number) =>
      policies.push([p, `spec.trafficPolicy.portLevelSettings[${i}]`]),
    );
    for (const [p, path] of policies) {
      out.push(...durationChecks(p, `${at}.${path}`, ctx));
      // validateTrafficPolicy (found by `spillover mesh diff`: istiod refuses the config outright).
      if (p && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).filter((k) => k !== 'port').length === 0) {
        out.push({
          file: ctx.file,
          path: `${at}.${path}`,
          message: 'Istio rejects an empty traffic policy ("traffic policy must have at least one field")',
          expected: 'at least one of connectionPool, outlierDetection, loadBalancer, tls, ...',
          found: '{}',
          fix: `remove ${path} or give it a field`,
        });
      }
      const http = p?.connectionPool?.http;
      if (http?.useClientProtocol === true && http?.h2UpgradePolicy === 'UPGRADE') {
        out.push({
          file: ctx.file,
          path: `${at}.${path}.connectionPool.http.useClientProtocol`,
          message: 'Istio rejects useClientProtocol together with h2UpgradePolicy: UPGRADE',
          expected: 'one of the two',
          found: 'useClientProtocol: true and h2UpgradePolicy: UPGRADE',
          fix: `remove ${path}.connectionPool.http.h2UpgradePolicy or useClientProtocol`,
        });
      }
      const od = p?.outlierDetection;
      if (od?.consecutiveLocalOriginFailures !== undefined && !od.splitExternalLocalOriginErrors) {
        out.push({
          file: ctx.file,
          path: `${at}.${path}.outlierDetection.consecutiveLocalOriginFailures`,
          message: 'Istio rejects consecutiveLocalOriginFailures unless local-origin errors are split',
          expected: 'splitExternalLocalOriginErrors: true alongside it',
          found: 'splitExternalLocalOriginErrors unset or false',
          fix: `add ${path}.outlierDetection.splitExternalLocalOriginErrors: true`,
        });
      }
    }
  }
  if (kind === 'VirtualService') {
    out.push(...httpRouteActionChecks(r.spec.http ?? [], at, ctx.file));
    (r.spec.http ?? []).forEach((h: Json, i: number) => {
      if (h && typeof h === 'object' && !h.route && !h.redirect && !h.directResponse && !h.delegate) {
        out.push({
          file: ctx.file,
          path: `${at}.spec.http[${i}]`,
          message: 'Istio rejects an HTTP route without a destination ("HTTP route, redirect or direct_response is required")',
          expected: 'route: [{ destination: { host: ... } }] (or redirect / directResponse)',
          found: `fields ${Object.keys(h).join(', ') || '(none)'}`,
          fix: `add spec.http[${i}].route: [{ destination: { host: ${JSON.stringify((r.spec.hosts ?? [])[0] ?? 'the service host')} } }]`,
        });
      }
    });
  }
  if (kind === 'Sidecar') out.push(...sidecarChecks(r.spec, at, ctx.file));
  if (kind === 'ServiceEntry') {
    const names = new Set((r.spec.ports ?? []).map((p: Json) => p.name));
    (r.spec.endpoints ?? []).forEach((ep: Json, i: number) => {
      for (const name of Object.keys(ep.ports ?? {})) {
        if (!names.has(name)) {
          out.push({
            file: ctx.file,
            path: `${at}.spec.endpoints[${i}].ports.${name}`,
            message: 'endpoint port names a port the ServiceEntry does not declare',
            expected: `one of spec.ports[].name: ${[...names].join(', ') || '(none declared)'}`,
            found: name,
            fix: `rename it to one of ${[...names].join(', ')} or declare it under spec.ports`,
          });
        }
      }
    });
  }
  return out;
}

/**
 * Istio's ValidateDuration on these fields: at least 1ms and whole milliseconds. Envoy would take a
 * 0.1ms outlier interval; istiod refuses the resource, so the experiment would not run on a cluster.
 */
/** google.protobuf.Duration's range: +-315,576,000,000 s. */
const MAX_PROTO_DURATION_NS = 315_576_000_000 * 1e9;

function durationChecks(policy: Json, at: string, ctx: ValidateContext): ProblemDetail[] {
  const out: ProblemDetail[] = [];
  const fields: Array<[unknown, string]> = [
    [policy?.outlierDetection?.interval, 'outlierDetection.interval'],
    [policy?.outlierDetection?.baseEjectionTime, 'outlierDetection.baseEjectionTime'],
    [policy?.connectionPool?.tcp?.connectTimeout, 'connectionPool.tcp.connectTimeout'],
  ];
  for (const [v, field] of fields) {
    if (typeof v !== 'string') continue;
    const ns = parseIstioDurationNs(v);
    if (ns !== undefined && ns > MAX_PROTO_DURATION_NS) {
      out.push({
        file: ctx.file,
        path: `${at}.${field}`,
        message: 'longer than a protobuf Duration can hold (Envoy refuses its config)',
        expected: 'at most 315576000000s (10,000 years)',
        found: describe(v),
        fix: 'use a realistic duration, e.g. 1m',
      });
      continue;
    }
    if (ns === undefined || (ns >= 1e6 && ns % 1e6 === 0)) continue;
    out.push({
      file: ctx.file,
      path: `${at}.${field}`,
      message:
        ns < 1e6
          ? 'Istio requires at least 1ms here (ValidateDuration)'
          : 'Istio takes this duration to the millisecond only (ValidateDuration)',
      expected: 'a duration of at least 1ms, in whole milliseconds',
      found: describe(v),
      fix: ns < 1e6 ? 'use e.g. 1s' : `use ${Math.round(ns / 1e6)}ms`,
    });
  }
  return out;
}

/** A ServiceEntry host no DestinationRule covers (and vice versa) is almost always a typo. */
function crossChecks(valid: Array<{ r: Json; i: number }>, ctx: ValidateContext): ProblemDetail[] {
  const out: ProblemDetail[] = [];
  const drs = valid.filter((x) => x.r.kind === 'DestinationRule' && typeof x.r.spec?.host === 'string');
  const ses = valid.filter(
    (x) => x.r.kind === 'ServiceEntry' && Array.isArray(x.r.spec?.hosts) && x.r.spec.hosts.every((h: unknown) => typeof h === 'string'),
  );
  const seHosts = ses.flatMap((x) => x.r.spec.hosts as string[]);
  const known = [...seHosts, ...(ctx.hosts ?? [])];
  // A host without any DestinationRule simply gets Istio's defaults; a near miss of an existing one is a typo.
  for (const { r, i } of drs.length ? ses : []) {
    (r.spec.hosts as string[]).forEach((h, j) => {
      if (drs.some((d) => hostMatches(d.r.spec.host, h))) return;
      out.push({
        file: ctx.file,
        path: `${ctx.basePath}[${i}].spec.hosts[${j}]`,
        message: "no DestinationRule applies to this ServiceEntry host, so the experiment's traffic policy would not reach it",
        expected: `a DestinationRule with spec.host matching ${h}`,
        found: `DestinationRule hosts: ${drs.map((d) => d.r.spec.host).join(', ') || '(none)'}`,
        fix: drs.length
          ? `did you mean host ${closest(
              h,
              drs.map((d) => d.r.spec.host),
            )}? make the hosts equal`
          : 'add a DestinationRule for it',
      });
    });
  }
  for (const { r, i } of drs) {
    const h: string = r.spec.host;
    if (known.some((k) => hostMatches(h, k))) continue;
    out.push({
      file: ctx.file,
      path: `${ctx.basePath}[${i}].spec.host`,
      message: 'this DestinationRule host matches no ServiceEntry host and no service of the experiment, so it applies to nothing',
      expected: `one of ${known.join(', ') || '(no hosts)'}`,
      found: h,
      fix: known.length ? `did you mean ${closest(h, known)}?` : 'add a ServiceEntry for the host',
    });
  }
  const seen = new Map<string, number>();
  valid.forEach(({ r, i }) => {
    if (typeof r.metadata?.name !== 'string') return;
    const key = `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
    if (seen.has(key)) {
      out.push({
        file: ctx.file,
        path: `${ctx.basePath}[${i}].metadata.name`,
        message: `a second ${r.kind} with the same name and namespace (the first is ${ctx.basePath}[${seen.get(key)}]); Kubernetes would replace it`,
        expected: 'unique names per kind and namespace',
        found: r.metadata.name,
        fix: 'rename one of them or merge them',
      });
    } else seen.set(key, i);
  });
  return out;
}
