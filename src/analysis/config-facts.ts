/**
 * The settings that explain an event, read from the resolved experiment in the manifest: the
 * DestinationRule's connectionPool (circuit breakers) and outlierDetection (ejection).
 */
export interface ConfigFacts {
  connectionPool?: Record<string, unknown>;
  outlierDetection?: Record<string, unknown>;
  destinationRule?: string;
}

/** Depth-first search: the resolved experiment's shape belongs to another module and may move. */
function findDestinationRules(node: unknown, out: Array<Record<string, unknown>>, depth = 0): void {
  if (depth > 8 || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const x of node) findDestinationRules(x, out, depth + 1);
    return;
  }
  const o = node as Record<string, unknown>;
  if (o.kind === 'DestinationRule' && o.spec && typeof o.spec === 'object') {
    out.push(o);
    return;
  }
  for (const k of Object.keys(o).sort()) findDestinationRules(o[k], out, depth + 1);
}

export function configFacts(resolved: unknown): ConfigFacts {
  const drs: Array<Record<string, unknown>> = [];
  findDestinationRules(resolved, drs);
  for (const dr of drs) {
    const tp = (dr.spec as { trafficPolicy?: Record<string, unknown> }).trafficPolicy;
    if (!tp) continue;
    const name = (dr.metadata as { name?: string } | undefined)?.name;
    return {
      ...(tp.connectionPool ? { connectionPool: tp.connectionPool as Record<string, unknown> } : {}),
      ...(tp.outlierDetection ? { outlierDetection: tp.outlierDetection as Record<string, unknown> } : {}),
      ...(name ? { destinationRule: name } : {}),
    };
  }
  return {};
}

const flat = (o: Record<string, unknown> | undefined, prefix = ''): string[] => {
  if (!o) return [];
  const out: string[] = [];
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...flat(v as Record<string, unknown>, `${prefix}${k}.`));
    else out.push(`${prefix}${k}=${String(v)}`);
  }
  return out;
};

/** "connectionPool: tcp.maxConnections=1, http.http2MaxRequests=1, …" */
export const describeConnectionPool = (f: ConfigFacts) => (f.connectionPool ? `connectionPool ${flat(f.connectionPool).join(', ')}` : '');

/** The outlier setting for the detector type that fired, plus the ejection time. */
export function describeOutlier(f: ConfigFacts, type: string | undefined): string {
  const od = f.outlierDetection;
  if (!od) return '';
  const parts: string[] = [];
  if (type === 'CONSECUTIVE_GATEWAY_FAILURE') {
    for (const k of ['consecutiveGatewayErrors', 'consecutiveErrors']) if (od[k] !== undefined) parts.push(`${k}=${String(od[k])}`);
  } else if (type === 'CONSECUTIVE_5XX' || type === undefined) {
    for (const k of ['consecutive5xxErrors', 'consecutiveErrors']) if (od[k] !== undefined) parts.push(`${k}=${String(od[k])}`);
  } else if (type === 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE') {
    if (od.consecutiveLocalOriginFailures !== undefined)
      parts.push(`consecutiveLocalOriginFailures=${String(od.consecutiveLocalOriginFailures)}`);
  }
  for (const k of ['interval', 'baseEjectionTime', 'maxEjectionPercent']) if (od[k] !== undefined) parts.push(`${k}=${String(od[k])}`);
  return `outlierDetection ${parts.join(', ')}`;
}
