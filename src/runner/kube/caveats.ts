/**
 * What the topology model has that real clusters cannot do as the local backend does. Each is either
 * a refusal -- `up` stops before anything is created, because the run would silently measure
 * something else -- or a caveat that the dry run prints and the manifest records. The dry run shows
 * refusals too (as caveats), so a plan can be read for any experiment.
 */
import path from 'node:path';
import { SpilloverError, type ProblemDetail } from '../../errors.ts';
import type { RunTiming } from '../../experiment/normalise.ts';
import type { Experiment } from '../../experiment/schema.ts';
import { hasNodeGroups } from './kube-model.ts';

/** Fault actions the cluster backends carry out (connect.ts); the others need the harness's own control plane. */
export const CLUSTER_FAULTS = ['kill', 'service-fault', 'drain', 'apply'] as const;

export interface Caveat {
  /** Field of the experiment it concerns. */
  path: string;
  text: string;
  /** `up` refuses: the run cannot do what the experiment asks. */
  refuse?: { found: string; fix: string };
}

function faultCaveats(spec: Experiment): Caveat[] {
  return spec.faults.flatMap((f, i) =>
    (CLUSTER_FAULTS as readonly string[]).includes(f.action)
      ? []
      : [
          {
            path: `faults[${i}].action`,
            text: `fault "${f.action}" at ${f.at} is not available on real clusters: it needs the harness's own control plane (--backend local)`,
            refuse: {
              found: f.action,
              fix: `use ${CLUSTER_FAULTS.join(', ')} on --backend kind/kube, or run this experiment with --backend local`,
            },
          },
        ],
  );
}

/** kind clusters on one Istio network would need routes between their pod ranges, which kind does not set up. */
function sharedNetworkCaveats(spec: Experiment, mode: 'kind' | 'kube'): Caveat[] {
  if (mode !== 'kind') return [];
  const byNetwork = new Map<string, string[]>();
  for (const [name, c] of Object.entries(spec.topology.clusters)) byNetwork.set(c.network, [...(byNetwork.get(c.network) ?? []), name]);
  return [...byNetwork.entries()]
    .filter(([, cs]) => cs.length > 1)
    .map(([net, cs]) => ({
      path: 'topology.clusters',
      text: `clusters ${cs.join(', ')} share network ${net}: Istio sends their traffic pod to pod, but kind clusters do not route each other's pod ranges`,
      refuse: {
        found: `${cs.join(', ')} on network ${net}`,
        fix: 'give each kind cluster a network of its own (--set topology.clusters.<c>.network=...), or use --backend kube on clusters with a flat network',
      },
    }));
}

function modelCaveats(spec: Experiment, mode: 'kind' | 'kube', installIstio: boolean, wanDelayMs: number): Caveat[] {
  const out: Caveat[] = [];
  if (!installIstio && spec.topology.discovery === 'multi-primary')
    out.push({
      path: 'topology.discovery',
      text: 'multi-primary on an existing installation: every istiod must already read every cluster (istioctl create-remote-secret); spillover creates no remote secrets there',
    });
  if (wanDelayMs > 0)
    out.push({
      path: 'topology.wanDelay',
      text: `wanDelay ${spec.topology.wanDelay} is not added on real clusters: their own network delay applies`,
    });
  if (spec.pushTiming)
    out.push({ path: 'pushTiming', text: "pushTiming is the local backend's: the clusters' own kubelet probes and istiod debounce apply" });
  if (spec.controlPlane)
    out.push({
      path: 'controlPlane',
      text: `controlPlane ${spec.controlPlane} is the local backend's: the clusters' istiod configures every proxy`,
    });
  if (spec.client.ingress)
    out.push({
      path: 'client.ingress',
      text: "a client outside the mesh calling the ingress gateway is the local backend's: on clusters the load runs in a pod with a sidecar and is not pointed at the gateway's Service",
      refuse: {
        found: `client.ingress ${JSON.stringify(spec.client.ingress)}`,
        fix: 'run it with --backend local, or drop client.ingress (the ingress gateway and its Gateway are still installed)',
      },
    });
  if (mode === 'kube') {
    for (const c of Object.keys(spec.topology.clusters).filter((n) => hasNodeGroups(spec, n)))
      out.push({
        path: `topology.clusters.${c}.nodes`,
        text: `${c}: pods are pinned by nodeSelector on topology.kubernetes.io/region|zone and topology.istio.io/subzone; the cluster needs nodes labelled with each locality`,
      });
  }
  return out;
}

export function caveatsOf(
  exp: { spec: Experiment; timing: Pick<RunTiming, 'wanDelayMs'> },
  mode: 'kind' | 'kube',
  installIstio = mode === 'kind',
): Caveat[] {
  const { spec } = exp;
  return [...faultCaveats(spec), ...sharedNetworkCaveats(spec, mode), ...modelCaveats(spec, mode, installIstio, exp.timing.wanDelayMs)];
}

/** Before anything is created: every refusal at once, exit code 2. */
export function refuseUnrunnable(caveats: Caveat[], file: string, mode: 'kind' | 'kube'): void {
  const problems: ProblemDetail[] = caveats
    .filter((c) => c.refuse)
    .map((c) => ({
      file: path.relative(process.cwd(), file),
      path: c.path,
      message: `--backend ${mode}: ${c.text}`,
      found: c.refuse!.found,
      fix: c.refuse!.fix,
    }));
  if (problems.length) throw new SpilloverError(problems, 2);
}

export const caveatLines = (caveats: Caveat[]) =>
  caveats.map((c) => `caveat (${c.path}): ${c.text}${c.refuse ? ' -- a run refuses this' : ''}`);
