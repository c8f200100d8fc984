/**
 * The workloads' part of the plan: each cluster's deployments (and the load client in the client's),
 * pinned to their locality's node where the cluster has node groups; wait for them; the east-west
 * gateway addresses the resources name; the experiment's Istio resources in every cluster whose
 * istiod needs them; k6 in the client's cluster.
 */
import { LOAD_NAMESPACE, CLIENT_NAME, runLabels, serviceOfHost } from './names.ts';
import { EASTWEST, ISTIO_NS } from './istio-manifests.ts';
import { clientWorkload, namespace, serviceWorkloads, type PodPlacement } from './workloads.ts';
import { gatewaysReferenced } from './federation.ts';
import { k6Job, k6TestRun, scriptConfigMap } from './load-manifests.ts';
import { nodeSelectorFor, resourceClusters } from './kube-model.ts';
import { K6_IMAGE, SERVICE_IMAGE } from './versions.ts';
import type { KubeObject } from './validate.ts';
import type { Step, StepsInput } from './step-types.ts';

function dedupe(objs: KubeObject[]): KubeObject[] {
  const seen = new Set<string>();
  return objs.filter((o) => {
    const k = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const resourceNamespaces = (resources: Array<Record<string, unknown>>) => [
  ...new Set(resources.map((r) => (r.metadata as { namespace?: string } | undefined)?.namespace).filter((n): n is string => Boolean(n))),
];

export function workloadSteps(input: StepsInput): Step[] {
  const spec = input.exp.spec;
  const labels = runLabels(input.runId);
  const image = input.images?.service ?? SERVICE_IMAGE;
  const place: PodPlacement = (cluster, node, locality) => nodeSelectorFor(spec, input.mode, cluster, node, locality);
  const workloads = serviceWorkloads(spec, labels, image, place);
  const steps: Step[] = [];
  for (const c of input.clusters) {
    const mine = workloads.filter((w) => w.cluster === c.name);
    const objs = mine.flatMap((w) => w.objects);
    const isClient = c.name === spec.client.cluster;
    if (isClient) objs.push(...clientWorkload(spec, labels, image, place));
    // A primary with none of the resources' workloads still needs their namespaces to hold them.
    if (resourceClusters(spec).includes(c.name)) objs.push(...resourceNamespaces(spec.resources).map((ns) => namespace(ns, labels)));
    if (!objs.length) continue;
    steps.push({
      kind: 'apply',
      group: 'workloads',
      cluster: c.name,
      file: `kube/${c.name}/20-workloads.yaml`,
      title:
        mine.length || isClient
          ? `${c.name}: workloads ${[mine.map((w) => w.service).join(', '), isClient ? 'the load client' : ''].filter(Boolean).join(' and ')}`
          : `${c.name}: the namespaces of the experiment's resources`,
      objects: dedupe(objs),
    });
  }
  for (const w of workloads) {
    const { namespace } = serviceOfHost(spec.services[w.service].host);
    steps.push({
      kind: 'rollout',
      group: 'rollout',
      cluster: w.cluster,
      namespace,
      name: w.deployment,
      title: `${w.cluster}: wait for ${w.service} (Deployment ${namespace}/${w.deployment})`,
    });
  }
  steps.push({
    kind: 'rollout',
    group: 'rollout',
    cluster: spec.client.cluster,
    namespace: LOAD_NAMESPACE,
    name: CLIENT_NAME,
    title: `${spec.client.cluster}: wait for the load client`,
  });
  return steps;
}

export function federationSteps(input: StepsInput): Step[] {
  const spec = input.exp.spec;
  const gateways = gatewaysReferenced(spec.resources);
  const steps: Step[] = gateways.map((g) => ({
    kind: 'gateway-address',
    cluster: g,
    namespace: ISTIO_NS,
    service: EASTWEST.name,
    title: `${g}: wait for the east-west gateway's LoadBalancer address ({{gateway.${g}}})`,
  }));
  if (!spec.resources.length) return steps;
  for (const c of resourceClusters(spec))
    steps.push({
      kind: 'federate',
      gateways,
      cluster: c,
      file: `kube/${c}/30-federation.yaml`,
      title: `${c}: the experiment's Istio resources, gateway addresses filled in`,
    });
  return steps;
}

export function k6Steps(input: StepsInput): Step[] {
  const spec = input.exp.spec;
  const labels = runLabels(input.runId);
  const k6Image = input.images?.k6 ?? K6_IMAGE;
  const parallel = input.k6Parallelism ?? 1;
  const load = [
    scriptConfigMap(input.exp, input.script, labels),
    parallel > 1 ? k6TestRun(input.exp, parallel, labels, k6Image) : k6Job(input.exp, labels, k6Image),
  ];
  return [
    {
      kind: 'apply',
      cluster: spec.client.cluster,
      file: `kube/${spec.client.cluster}/40-k6.yaml`,
      title: `${spec.client.cluster}: k6 ${parallel > 1 ? `TestRun (parallelism ${parallel}, needs k6-operator)` : 'Job'}, started paused`,
      objects: load,
    },
  ];
}
