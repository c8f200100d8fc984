/**
 * Names and labels of everything the real-cluster backends create. Every name carries the run prefix
 * `spillover-<runId>` and every object the two labels below, so that the leftovers of a killed run can
 * be found again -- and so that teardown can prove it deletes only what the harness created.
 */
import { SpilloverError } from '../../errors.ts';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'spillover' } as const;
export const RUN_LABEL = 'spillover.dev/run';
/** Docker label on the containers the harness starts next to kind (cloud-provider-kind). */
export const DOCKER_RUN_LABEL = 'dev.spillover.run';

export const runLabels = (runId: string): Record<string, string> => ({ ...MANAGED_BY, [RUN_LABEL]: labelValue(runId) });

/** Selector for one run's objects, or for every run's when runId is omitted. */
export const runSelector = (runId?: string) => `app.kubernetes.io/managed-by=spillover${runId ? `,${RUN_LABEL}=${labelValue(runId)}` : ''}`;

/** Label values: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(runId: string): string {
  const v = runId
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (!v)
    throw new SpilloverError({
      path: 'runId',
      message: 'the run id has no usable characters for a Kubernetes label',
      found: JSON.stringify(runId),
      fix: 'use a run id made of letters, digits and "-"',
    });
  return v;
}

/**
 * kind cluster names become docker container names (`<name>-control-plane`) and kubeconfig contexts
 * (`kind-<name>`); kind rejects upper case and long names make unreadable hostnames, so the run id is
 * shortened to its tail, which is where run ids keep their unique part (time stamp, counter).
 */
export function runPrefix(runId: string): string {
  const id = runId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return `spillover-${id.length > 24 ? id.slice(-24).replace(/^-/, '') : id}`;
}

export const kindClusterName = (runId: string, cluster: string) => `${runPrefix(runId)}-${cluster}`;
export const kindContext = (clusterName: string) => `kind-${clusterName}`;
export const cloudProviderContainer = (runId: string) => `${runPrefix(runId)}-cloud-provider-kind`;

/** Prefix every kind cluster of any spillover run starts with: what stale cleanup looks for. */
export const KIND_PREFIX = 'spillover-';

/** `a.istio.svc.cluster.local` -> { name: 'a', namespace: 'istio' }. */
export function serviceOfHost(host: string): { name: string; namespace: string } {
  const [name, namespace] = host.split('.');
  return { name, namespace };
}

/** Namespace of the load client and k6 (in the mesh, apart from the services under test). */
export const LOAD_NAMESPACE = 'spillover-load';
export const CLIENT_NAME = 'client';
export const K6_NAME = 'k6';
