/**
 * The experiment's own Istio resources (the study's ServiceEntry and DestinationRule), applied in the
 * client's cluster with `{{gateway.<cluster>}}` replaced by that cluster's east-west gateway address.
 */
import { SpilloverError } from '../../errors.ts';
import type { Experiment } from '../../experiment/schema.ts';
import type { KubeObject } from './validate.ts';

const PLACEHOLDER = /\{\{\s*gateway\.([a-z0-9-]+)\s*\}\}/g;

/** Clusters whose gateway address the resources need. */
export function gatewaysReferenced(resources: unknown[]): string[] {
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) found.add(m[1]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(resources);
  return [...found].sort();
}

/**
 * Copy of the resources with placeholders filled and our labels added. `addresses` missing a cluster
 * leaves its placeholder in place when `leaveUnknown` (the dry run, which cannot know the address).
 */
export function federationResources(
  spec: Experiment,
  addresses: Record<string, string>,
  labels: Record<string, string>,
  opts: { file?: string; leaveUnknown?: boolean } = {},
): KubeObject[] {
  const clusters = Object.keys(spec.topology.clusters);
  const fill = (v: unknown, where: string): unknown => {
    if (typeof v === 'string') {
      return v.replace(PLACEHOLDER, (whole, cluster: string) => {
        if (!clusters.includes(cluster)) {
          throw new SpilloverError({
            file: opts.file,
            path: where,
            message: `unknown cluster in ${whole}`,
            expected: clusters.map((c) => `{{gateway.${c}}}`).join(' or '),
            found: whole,
            fix: 'name a cluster from topology.clusters',
          });
        }
        if (addresses[cluster] !== undefined) return addresses[cluster];
        if (opts.leaveUnknown) return whole;
        throw new SpilloverError(
          {
            file: opts.file,
            path: where,
            message: `no east-west gateway address for ${cluster}`,
            fix: `the gateway Service in ${cluster} has no LoadBalancer address yet; see docs/real-clusters.md (LoadBalancer addresses)`,
          },
          1,
        );
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => fill(x, `${where}[${i}]`));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, `${where}.${k}`)]));
    return v;
  };
  return spec.resources.map((r, i) => {
    const o = fill(structuredClone(r), `resources[${i}]`) as KubeObject;
    o.metadata = { ...o.metadata, labels: { ...(o.metadata?.labels ?? {}), ...labels } };
    return o;
  });
}
