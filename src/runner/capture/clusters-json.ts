/**
 * Envoy's `/clusters?format=json` (admin.v3.Clusters) flattened to raw.ts `ClustersRecord.hosts`.
 * Protobuf JSON omits defaults: priority 0, false health flags and zero-valued stats are absent.
 */
import type { ClustersRecord } from '../../contracts/raw.ts';

type Host = NonNullable<ClustersRecord['hosts']>[number];

interface HostStatus {
  address?: { socket_address?: { address?: string; port_value?: number } };
  stats?: Array<{ name?: string; value?: string | number }>;
  health_status?: Record<string, unknown>;
  priority?: number;
  locality?: { region?: string; zone?: string; sub_zone?: string };
}

/** eds_health_status values that still route traffic; anything else makes the host unhealthy. */
const ROUTABLE_EDS = new Set([undefined, 'HEALTHY', 'UNKNOWN']);

export function flattenClusters(json: unknown): Host[] {
  const statuses = (json as { cluster_statuses?: Array<{ name?: string; host_statuses?: HostStatus[] }> })?.cluster_statuses;
  if (!Array.isArray(statuses)) throw new Error('expected an object with cluster_statuses[]');
  const hosts: Host[] = [];
  for (const c of statuses) {
    for (const h of c.host_statuses ?? []) {
      const sa = h.address?.socket_address;
      const stat = (n: string) => Number(h.stats?.find((s) => s.name === n)?.value ?? 0);
      const hs = h.health_status ?? {};
      const flags = Object.keys(hs)
        .filter((k) => k !== 'eds_health_status' && hs[k] === true)
        .sort();
      const eds = hs.eds_health_status as string | undefined;
      if (!ROUTABLE_EDS.has(eds)) flags.push(`eds_${String(eds).toLowerCase()}`);
      const loc = h.locality;
      hosts.push({
        cluster: c.name ?? '',
        address: sa ? `${sa.address}:${sa.port_value ?? 0}` : '',
        priority: h.priority ?? 0,
        ...(loc && (loc.region || loc.zone || loc.sub_zone)
          ? { locality: [loc.region ?? '', loc.zone ?? '', loc.sub_zone ?? ''].join('/') }
          : {}),
        healthy: flags.length === 0,
        flags,
        rqTotal: stat('rq_total'),
        rqError: stat('rq_error'),
        rqActive: stat('rq_active'),
        cxActive: stat('cx_active'),
      });
    }
  }
  return hosts;
}
