/**
 * What the real-cluster backends install, pinned. Recorded in the run manifest; change a pin only
 * together with a run of docs/real-clusters.md's checklist on a real cluster.
 */
export const PINS = {
  /** istioctl must be this version: the IstioOperator values below are written for it. */
  istio: '1.29.0',
  /** LoadBalancer addresses for kind (kubernetes-sigs/cloud-provider-kind), run as a container on the kind network. */
  cloudProviderKindImage: 'registry.k8s.io/cloud-provider-kind/cloud-controller-manager:v0.10.0',
  /** k6 built with xk6 by deploy/k6/Dockerfile. */
  k6: 'v1.7.1',
  /** The service image's Node base, the same major the harness runs on. */
  nodeImage: 'node:20-bookworm-slim',
} as const;

export const MESH_ID = 'spillover';
/** Image tags the backends build and `kind load` (never pushed anywhere). */
export const SERVICE_IMAGE = 'spillover/service:dev';
export const K6_IMAGE = `spillover/k6:${PINS.k6}`;
