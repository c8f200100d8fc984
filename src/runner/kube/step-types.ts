/**
 * The step list's vocabulary: which clusters a run talks to and the kinds of step `plan` writes out
 * and `up` executes (execute-steps.ts), in order; steps of one `group` run in parallel.
 */
import type { ResolvedExperiment } from '../../experiment/read-experiment.ts';
import type { ToolCall } from './tools.ts';
import type { KubeObject } from './validate.ts';
import type { ClusterCa } from './cacerts.ts';

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
  | { kind: 'federate'; title: string; cluster: string; file: string; gateways: string[]; group?: string }
  /** multi-primary: istioctl create-remote-secret for `from` (its stdout, credentials, is never written), applied to `cluster`. */
  | { kind: 'remote-secret'; title: string; from: string; cluster: string; call: ToolCall; group?: string };

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
