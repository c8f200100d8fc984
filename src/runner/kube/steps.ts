/**
 * What a real-cluster run does, as data: an ordered list of steps that `plan` (--dry-run) writes out
 * and `up` executes, so the golden-tested dry run is exactly what a live run would do.
 *
 * Paths inside command arguments are written `{run}/...` (the run directory) or `{repo}/...` (this
 * checkout) and resolved when executed; the dry run prints them as "$RUN_DIR"/"$REPO".
 */
import type { ResolvedExperiment } from '../../experiment/read-experiment.ts';
import type { ToolCall } from './tools.ts';
import type { KubeObject } from './validate.ts';
import { kindConfigs } from './kind-config.ts';
import { cloudProviderContainer, DOCKER_RUN_LABEL, labelValue, LOAD_NAMESPACE, CLIENT_NAME, runLabels, serviceOfHost } from './names.ts';
import { cacertsSecret, type ClusterCa } from './cacerts.ts';
import { controlPlane, crossNetworkGateway, eastWestGateway, EASTWEST, ISTIO_NS, istioSystemNamespace } from './istio-manifests.ts';
import { clientWorkload, serviceWorkloads } from './workloads.ts';
import { federationResources, gatewaysReferenced } from './federation.ts';
import { k6Job, k6TestRun, scriptConfigMap } from './load-manifests.ts';
import { K6_IMAGE, PINS, SERVICE_IMAGE } from './versions.ts';

export interface ClusterRef {
  /** The experiment's name for it (cluster-1). */
  name: string;
  /** kubeconfig context. */
  context: string;
  /** kind cluster name, when the kind backend creates it. */
  kindName?: string;
  /**
   * kubeconfig file holding the context ({run}/... for kind: a run-local file, so creating clusters
   * never changes the user's current kubectl context); undefined means $KUBECONFIG / ~/.kube/config.
   */
  kubeconfig?: string;
}

export type Step =
  | { kind: 'tool'; title: string; call: ToolCall; stdinFile?: string; group?: string }
  | { kind: 'apply'; title: string; cluster: string; file: string; objects: KubeObject[]; group?: string }
  /** A manifest written for a tool (istioctl's IstioOperator files), validated but not applied. */
  | { kind: 'write'; title: string; cluster: string; file: string; objects: KubeObject[]; group?: string }
  | { kind: 'rollout'; title: string; cluster: string; namespace: string; name: string; group?: string }
  | { kind: 'gateway-address'; title: string; cluster: string; namespace: string; service: string; group?: string }
  /** Fill `{{gateway.X}}` from the addresses found, validate, apply. */
  | { kind: 'federate'; title: string; cluster: string; file: string; gateways: string[]; group?: string };

export interface StepsInput {
  exp: ResolvedExperiment;
  runId: string;
  mode: 'kind' | 'kube';
  clusters: ClusterRef[];
  installIstio: boolean;
  /** Plug-in CA per cluster: real certificates in `up`, placeholders in `plan`. */
  cas: Record<string, ClusterCa>;
  /** The scenario script text (for the k6 ConfigMap). */
  script: string;
  /**
   * Run k6 inside the client's cluster (Job / TestRun) when the engine is k6. Off: k6 (or the
   * embedded driver) runs on the host through the port-forward to the client relay.
   */
  k6InCluster?: boolean;
  /** k6 runner pods; >1 uses k6-operator's TestRun (the operator must be installed). */
  k6Parallelism?: number;
  /** Images the workloads run; on existing clusters, tags the nodes can pull (see docs/real-clusters.md). */
  images?: { service?: string; k6?: string };
}

export interface Files {
  /** Path relative to the run directory -> text. */
  [file: string]: string;
}

/** Kubernetes-side timeouts, generous for a cold workstation pulling Istio images. */
export const TIMEOUTS = { rolloutMs: 300_000, gatewayMs: 300_000, podMs: 300_000 } as const;

export function buildSteps(input: StepsInput): { steps: Step[]; kindConfigs: Record<string, unknown> } {
  const { exp, runId, mode, clusters } = input;
  const spec = exp.spec;
  const labels = runLabels(runId);
  const ctx = (c: string) => clusters.find((x) => x.name === c)!.context;
  const kcArgs = (c: string) => {
    const f = clusters.find((x) => x.name === c)!.kubeconfig;
    return f ? ['--kubeconfig', f] : [];
  };
  const steps: Step[] = [];
  const useK6 = spec.load.engine === 'k6' && Boolean(input.k6InCluster);
  const configs = mode === 'kind' ? kindConfigs(spec) : {};

  if (mode === 'kind') {
    for (const c of clusters) {
      steps.push({
        kind: 'tool',
        group: 'create',
        title: `create kind cluster ${c.kindName} for ${c.name}`,
        call: {
          cmd: 'kind',
          args: [
            'create',
            'cluster',
            '--name',
            c.kindName!,
            '--config',
            `{run}/kube/kind/${c.name}.yaml`,
            '--wait',
            '120s',
            ...kcArgs(c.name),
          ],
        },
      });
    }
    steps.push({
      kind: 'tool',
      title: 'LoadBalancer addresses for kind: cloud-provider-kind on the kind docker network',
      call: {
        cmd: 'docker',
        args: [
          'run',
          '-d',
          '--name',
          cloudProviderContainer(runId),
          '--label',
          `${DOCKER_RUN_LABEL}=${labelValue(runId)}`,
          '--network',
          'kind',
          '-v',
          '/var/run/docker.sock:/var/run/docker.sock',
          PINS.cloudProviderKindImage,
        ],
      },
    });
    steps.push({
      kind: 'tool',
      title: 'build the service image from src/workload (deploy/service/Dockerfile)',
      call: { cmd: 'docker', args: ['build', '-t', SERVICE_IMAGE, '-f', '{repo}/deploy/service/Dockerfile', '{repo}'] },
    });
    if (useK6)
      steps.push({
        kind: 'tool',
        title: 'build k6 with xk6 (deploy/k6/Dockerfile)',
        call: { cmd: 'docker', args: ['build', '-t', K6_IMAGE, '--build-arg', `K6_VERSION=${PINS.k6}`, '{repo}/deploy/k6'] },
      });
    for (const c of clusters) {
      steps.push({
        kind: 'tool',
        group: 'load-images',
        title: `load the service image into ${c.kindName}`,
        call: { cmd: 'kind', args: ['load', 'docker-image', SERVICE_IMAGE, '--name', c.kindName!] },
      });
    }
    if (useK6) {
      const c = clusters.find((x) => x.name === spec.client.cluster)!;
      steps.push({
        kind: 'tool',
        title: `load the k6 image into ${c.kindName}`,
        call: { cmd: 'kind', args: ['load', 'docker-image', K6_IMAGE, '--name', c.kindName!] },
      });
    }
  }

  if (input.installIstio) {
    for (const c of clusters) {
      const network = spec.topology.clusters[c.name].network;
      steps.push({
        kind: 'apply',
        group: 'istio-ns',
        cluster: c.name,
        file: `kube/${c.name}/00-istio-system.yaml`,
        title: `${c.name}: namespace istio-system (network ${network}) and the plug-in CA secret cacerts`,
        objects: [istioSystemNamespace(network, labels), cacertsSecret(input.cas[c.name], labels)],
      });
    }
    for (const c of clusters) {
      steps.push({
        kind: 'write',
        cluster: c.name,
        file: `kube/${c.name}/10-istio-control-plane.yaml`,
        title: `${c.name}: IstioOperator for istiod (input of istioctl)`,
        objects: [controlPlane(spec, c.name, labels)],
      });
      steps.push({
        kind: 'write',
        cluster: c.name,
        file: `kube/${c.name}/11-eastwest-gateway.yaml`,
        title: `${c.name}: IstioOperator for the east-west gateway (input of istioctl)`,
        objects: [eastWestGateway(spec, c.name, labels)],
      });
    }
    for (const c of clusters) {
      steps.push({
        kind: 'tool',
        group: 'istiod',
        title: `${c.name}: install istiod ${PINS.istio}`,
        call: {
          cmd: 'istioctl',
          args: ['install', '--context', ctx(c.name), '-y', '-f', `{run}/kube/${c.name}/10-istio-control-plane.yaml`, ...kcArgs(c.name)],
        },
      });
    }
    for (const c of clusters) {
      steps.push({
        kind: 'tool',
        group: 'eastwest',
        title: `${c.name}: install the east-west gateway`,
        call: {
          cmd: 'istioctl',
          args: ['install', '--context', ctx(c.name), '-y', '-f', `{run}/kube/${c.name}/11-eastwest-gateway.yaml`, ...kcArgs(c.name)],
        },
      });
    }
    for (const c of clusters) {
      steps.push({
        kind: 'apply',
        group: 'expose',
        cluster: c.name,
        file: `kube/${c.name}/12-cross-network-gateway.yaml`,
        title: `${c.name}: AUTO_PASSTHROUGH Gateway on ${spec.gateway!.port} (expose-services)`,
        objects: [crossNetworkGateway(spec, labels)],
      });
    }
  }

  const serviceImage = input.images?.service ?? SERVICE_IMAGE;
  const k6Image = input.images?.k6 ?? K6_IMAGE;
  const workloads = serviceWorkloads(spec, labels, serviceImage);
  for (const c of clusters) {
    const objs = workloads.filter((w) => w.cluster === c.name).flatMap((w) => w.objects);
    if (c.name === spec.client.cluster) objs.push(...clientWorkload(spec, labels, serviceImage));
    steps.push({
      kind: 'apply',
      group: 'workloads',
      cluster: c.name,
      file: `kube/${c.name}/20-workloads.yaml`,
      title: `${c.name}: workloads ${workloads
        .filter((w) => w.cluster === c.name)
        .map((w) => w.service)
        .join(', ')}${c.name === spec.client.cluster ? ' and the load client' : ''}`,
      objects: dedupe(objs),
    });
  }
  for (const w of workloads) {
    const { name, namespace } = serviceOfHost(spec.services[w.service].host);
    steps.push({
      kind: 'rollout',
      group: 'rollout',
      cluster: w.cluster,
      namespace,
      name,
      title: `${w.cluster}: wait for ${w.service} (Deployment ${namespace}/${name})`,
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

  const gateways = gatewaysReferenced(spec.resources);
  for (const g of gateways) {
    steps.push({
      kind: 'gateway-address',
      cluster: g,
      namespace: ISTIO_NS,
      service: EASTWEST.name,
      title: `${g}: wait for the east-west gateway's LoadBalancer address ({{gateway.${g}}})`,
    });
  }
  steps.push({
    kind: 'federate',
    gateways,
    cluster: spec.client.cluster,
    file: `kube/${spec.client.cluster}/30-federation.yaml`,
    title: `${spec.client.cluster}: the experiment's Istio resources, gateway addresses filled in`,
  });

  if (useK6) {
    const parallel = input.k6Parallelism ?? 1;
    const load = [
      scriptConfigMap(exp, input.script, labels),
      parallel > 1 ? k6TestRun(exp, parallel, labels, k6Image) : k6Job(exp, labels, k6Image),
    ];
    steps.push({
      kind: 'apply',
      cluster: spec.client.cluster,
      file: `kube/${spec.client.cluster}/40-k6.yaml`,
      title: `${spec.client.cluster}: k6 ${parallel > 1 ? `TestRun (parallelism ${parallel}, needs k6-operator)` : 'Job'}, started paused`,
      objects: load,
    });
  }
  return { steps, kindConfigs: configs };
}

/** The federation objects as the dry run shows them (placeholders kept) and `up` applies them. */
export const federationObjects = (exp: ResolvedExperiment, runId: string, addresses: Record<string, string>, leaveUnknown: boolean) =>
  federationResources(exp.spec, addresses, runLabels(runId), { file: exp.file, leaveUnknown });

function dedupe(objs: KubeObject[]): KubeObject[] {
  const seen = new Set<string>();
  return objs.filter((o) => {
    const k = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
