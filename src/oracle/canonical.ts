/**
 * One comparable form for the xDS of a proxy, whichever generator made it. Both sides arrive as the
 * same protojson (the helper re-encodes src/mesh's bootstraps through Envoy's protos), so this only
 * has to line up the *structure*: resources keyed by what they are (not by their position or by how
 * they are delivered), and the certificates named by what they hold. Nothing is dropped here: every
 * field left different is reported, and only known-differences.ts may excuse it.
 */
import type { Json } from '../mesh/resources.ts';
import type { IstiodXds } from './istiod-request.ts';

export interface CanonicalProxy {
  clusters: Record<string, Json>;
  routes: Record<string, Json>;
  listeners: Record<string, Json>;
}

/** How to name things across the two sides; built from the MeshPlan (diff.ts). */
export interface CanonicalContext {
  /** istiod names inbound clusters by the container port, src/mesh by the service port. */
  inboundPort: Record<number, number>;
  /** Certificate files of the proxy's identity and its root, so that a file and an SDS secret compare. */
  identityFiles: { certChain: string; rootCert: string };
}

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export function canonicalProxy(x: IstiodXds, ctx: CanonicalContext): CanonicalProxy {
  const eds = new Map<string, Json>((x.endpoints ?? []).map((e: Json) => [e.cluster_name, e]));
  const clusters: Record<string, Json> = {};
  for (const c of x.clusters ?? []) {
    const { load_assignment, ...rest } = c;
    const cla = load_assignment ?? eds.get(c.name);
    const view: Json = { ...rest };
    delete view.name;
    if (cla) view.endpoints = canonicalEndpoints(cla);
    if (view.transport_socket) view.transport_socket = canonicalSocket(view.transport_socket, ctx);
    if (view.transport_socket_matches)
      view.transport_socket_matches = view.transport_socket_matches.map((m: Json) => ({
        ...m,
        transport_socket: canonicalSocket(m.transport_socket, ctx),
      }));
    clusters[clusterKey(c.name, ctx)] = view;
  }

  const routes: Record<string, Json> = {};
  const addRoutes = (rc: Json) => {
    const rcName = clusterKey(rc?.name ?? '', ctx);
    const { virtual_hosts = [], name: _, ...config } = rc ?? {};
    routes[`${rcName}/@config`] = config;
    for (const vh of virtual_hosts) {
      const { name, ...v } = vh;
      // Inbound routes name their cluster (inbound|<port>||) like the cluster itself is keyed.
      v.routes = (v.routes ?? []).map((r: Json) =>
        r.route?.cluster ? { ...r, route: { ...r.route, cluster: clusterKey(r.route.cluster, ctx) } } : r,
      );
      routes[`${rcName}/${name}`] = v;
    }
  };
  for (const rc of x.routes ?? []) addRoutes(rc);

  const listeners: Record<string, Json> = {};
  for (const l of x.listeners ?? []) {
    for (const [i, fc] of (l.filter_chains ?? []).entries()) {
      const key = chainKey(l, fc, i, ctx);
      if (!key) continue;
      listeners[key] = canonicalChain(fc, ctx, addRoutes);
    }
  }
  return { clusters, routes, listeners };
}

/** `inbound|8080||` (istiod, container port) and `inbound|80||` (src/mesh, service port) are one cluster. */
function clusterKey(name: string, ctx: CanonicalContext): string {
  const m = /^inbound\|(\d+)\|\|$/.exec(name);
  if (m && ctx.inboundPort[Number(m[1])] !== undefined) return `inbound|${ctx.inboundPort[Number(m[1])]}||`;
  return name;
}

/** Endpoints grouped as Envoy balances them: by priority, then locality. */
function canonicalEndpoints(cla: Json): Json {
  const groups = (cla.endpoints ?? []).map((g: Json) => ({
    priority: g.priority ?? 0,
    locality: [g.locality?.region, g.locality?.zone, g.locality?.sub_zone].filter(Boolean).join('/'),
    load_balancing_weight: g.load_balancing_weight,
    lb_endpoints: (g.lb_endpoints ?? []).map((e: Json) => {
      const a = e.endpoint?.address?.socket_address ?? {};
      const { endpoint, ...rest } = e;
      const { address, ...endpointRest } = endpoint ?? {};
      return {
        address: `${a.address}:${a.port_value ?? 0}`,
        ...(Object.keys(endpointRest).length ? { endpoint: endpointRest } : {}),
        ...rest,
      };
    }),
  }));
  groups.sort((a: Json, b: Json) => a.priority - b.priority || a.locality.localeCompare(b.locality));
  return groups;
}

/**
 * A TLS transport socket with its certificates named by role: `identity` (the proxy's own
 * certificate) and `trust` (the mesh root), as `sds:<secret>` or `file:own`/`file:<path>`; the SAN
 * check as one list wherever it sits (combined or plain validation context).
 */
function canonicalSocket(ts: Json, ctx: CanonicalContext): Json {
  const tc = ts?.typed_config;
  if (!tc || !/TlsContext$/.test(String(tc['@type']))) return ts;
  const { common_tls_context: common = {}, ...ctxRest } = tc;
  const {
    tls_certificates,
    tls_certificate_sds_secret_configs,
    validation_context,
    combined_validation_context,
    validation_context_sds_secret_config,
    ...commonRest
  } = common;
  const identity = [
    ...(tls_certificates ?? []).map((c: Json) => fileRef(c.certificate_chain?.filename, ctx.identityFiles.certChain)),
    ...(tls_certificate_sds_secret_configs ?? []).map((s: Json) => `sds:${s.name}`),
  ];
  const validation = validation_context ?? combined_validation_context?.default_validation_context ?? {};
  const { trusted_ca, ...validationRest } = validation;
  const trust: string[] = [];
  if (trusted_ca) trust.push(fileRef(trusted_ca.filename, ctx.identityFiles.rootCert));
  const sdsTrust = combined_validation_context?.validation_context_sds_secret_config ?? validation_context_sds_secret_config;
  if (sdsTrust) trust.push(`sds:${sdsTrust.name}`);
  const out: Json = {
    name: ts.name,
    type: tc['@type'],
    ...ctxRest,
    common_tls_context: { ...commonRest, identity, trust, validation: validationRest },
  };
  return out;
}

const fileRef = (file: string | undefined, own: string) => (file === own ? 'file:own' : `file:${file}`);

/**
 * Listener filter chains by the traffic they take: `outbound-http|<port>` (the client's HTTP
 * listener for a service port), `inbound|<port>|<transport>` (a sidecar's inbound chains),
 * `sni|<server name>` (the gateway's passthrough chains). Chains for traffic src/mesh never generates
 * (passthrough, blackhole, virtualOutbound) keep their listener's name so they still show up.
 */
function chainKey(l: Json, fc: Json, i: number, ctx: CanonicalContext): string | undefined {
  const m = fc.filter_chain_match ?? {};
  const sni = m.server_names?.[0];
  if (sni) return `sni|${sni}`;
  const hcm = (fc.filters ?? []).find((f: Json) => f.typed_config?.['@type'] === HCM_TYPE)?.typed_config;
  const dir = l.traffic_direction;
  if (dir === 'INBOUND' || l.name === 'virtualInbound') {
    const raw = m.destination_port ?? routePortOf(hcm);
    const port = raw !== undefined ? (ctx.inboundPort[raw] ?? raw) : undefined;
    return `inbound|${port ?? '?'}|${m.transport_protocol ?? 'any'}${fc.name && /Passthrough|BlackHole/i.test(fc.name) ? `|${fc.name}` : ''}`;
  }
  if (hcm) {
    const port = l.address?.socket_address?.port_value;
    const name = hcm.rds?.route_config_name ?? hcm.route_config?.name ?? String(port);
    return `outbound-http|${name}`;
  }
  return `${l.name}|${fc.name ?? i}`;
}

/** src/mesh's inbound route config is named `inbound|<service port>||`. */
const routePortOf = (hcm: Json): number | undefined => {
  const m = /^inbound\|(\d+)\|/.exec(hcm?.route_config?.name ?? '');
  return m ? Number(m[1]) : undefined;
};

function canonicalChain(fc: Json, ctx: CanonicalContext, addRoutes: (rc: Json) => void): Json {
  const { name, filters = [], transport_socket, ...rest } = fc;
  const view: Json = { ...rest };
  if (transport_socket) view.transport_socket = canonicalSocket(transport_socket, ctx);
  view.filters = filters.map((f: Json) => {
    const tc = f.typed_config ?? {};
    if (tc['@type'] !== HCM_TYPE) return { name: f.name, ...tc };
    const { http_filters = [], route_config, rds, ...hcm } = tc;
    if (route_config) addRoutes(route_config);
    return { name: f.name, ...hcm, http_filters: http_filters.map((h: Json) => h.name) };
  });
  return view;
}
