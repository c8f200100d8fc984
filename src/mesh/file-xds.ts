/**
 * The same bootstrap with its clusters delivered over xDS the way istiod delivers them -- CDS, and
 * EDS for every cluster with endpoints -- but from files (Envoy's path_config_source): the harness
 * writes a new DiscoveryResponse next to the old one and renames it into place, Envoy sees the move
 * in the watched directory and applies it. Listeners stay static; they name clusters, which Envoy
 * resolves when a request arrives.
 *
 * Chosen over a gRPC ADS server because it needs no server and no dependency, and Envoy applies a
 * renamed file within milliseconds (measured in test/runner/control-plane.test.ts).
 */
import type { Json } from './resources.ts';

export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const CLA_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

/** File name of a cluster's EDS resource: `outbound|80|v1|a.ns.svc.cluster.local` -> `eds-outbound_80_v1_a.ns.svc.cluster.local.json`. */
export const edsFileName = (cluster: string) => `eds-${cluster.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
export const CDS_FILE = 'cds.json';

const source = (dir: string, file: string): Json => ({
  path_config_source: { path: `${dir}/${file}`, watched_directory: { path: dir } },
  resource_api_version: 'V3',
});

export interface FileXds {
  bootstrap: Json;
  /** File name (in `dir`) -> DiscoveryResponse. */
  files: Record<string, Json>;
}

/** Every static cluster of `bootstrap` moves to CDS in `dir`; its load_assignment to an EDS file. */
export function toFileXds(bootstrap: Json, dir: string, version: string): FileXds {
  const b: Json = structuredClone(bootstrap);
  const files: Record<string, Json> = {};
  const clusters: Json[] = [];
  for (const c of b.static_resources.clusters as Json[]) {
    const cluster: Json = { ...c };
    if (cluster.load_assignment) {
      const name = edsFileName(cluster.name);
      files[name] = { version_info: version, resources: [{ '@type': CLA_TYPE, ...cluster.load_assignment }] };
      delete cluster.load_assignment;
      cluster.type = 'EDS';
      cluster.eds_cluster_config = { eds_config: source(dir, name) };
    }
    clusters.push({ '@type': CLUSTER_TYPE, ...cluster });
  }
  files[CDS_FILE] = { version_info: version, resources: clusters };
  b.static_resources.clusters = [];
  b.dynamic_resources = { cds_config: source(dir, CDS_FILE) };
  return { bootstrap: b, files };
}
