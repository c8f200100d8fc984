/**
 * Teardown: delete exactly what one run created (kind clusters and containers it started; on existing
 * clusters the objects it created, newest first, and Istio only where it installed it into an
 * istio-system it created), and find what killed runs left behind.
 */
import type * as k8s from '@kubernetes/client-node';
import { isSpilloverError } from '../../errors.ts';
import { cleanupStaleProcesses } from '../../process/processes.ts';
import { ISTIO_NS } from './istio-manifests.ts';
import { KubeClient, kubeConfigFor } from './kube-client.ts';
import { DOCKER_RUN_LABEL, KIND_PREFIX } from './names.ts';
import { liveStates, ownerAlive, removeStateFile, type KubeState } from './kube-state.ts';
import type { ClusterRef } from './step-types.ts';
import type { Tools } from './tools.ts';

async function removeKindRun(s: KubeState, tools: Tools): Promise<string[]> {
  const removed: string[] = [];
  await Promise.all(
    s.clusters.map(async (c) => {
      const r = await tools.run(
        { cmd: 'kind', args: ['delete', 'cluster', '--name', c.kindName!, ...(c.kubeconfig ? ['--kubeconfig', c.kubeconfig] : [])] },
        { allowFail: true },
      );
      if (r.exitCode === 0) removed.push(`kind cluster ${c.kindName}`);
    }),
  );
  for (const name of s.dockerContainers) {
    const r = await tools.run({ cmd: 'docker', args: ['rm', '-f', name] }, { allowFail: true });
    if (r.exitCode === 0) removed.push(`docker container ${name}`);
  }
  return removed;
}

/** Delete what one run created. Returns a line per thing removed. */
export async function removeRun(
  s: KubeState,
  tools: Tools,
  clientOf: ((ref: ClusterRef) => KubeClient) | undefined,
  kubeConfig?: (context: string) => k8s.KubeConfig,
): Promise<string[]> {
  if (s.mode === 'kind') return removeKindRun(s, tools);
  const removed: string[] = [];
  const byContext = (context: string) => {
    const ref = s.clusters.find((c) => c.context === context) ?? { name: context, context };
    return clientOf ? clientOf(ref) : new KubeClient(kubeConfig ? kubeConfig(context) : kubeConfigFor(context, ref.kubeconfig), ref.name);
  };
  // Reverse order: workloads before their namespaces, Istio config before istio-system.
  for (const o of [...s.created].reverse()) {
    try {
      if (
        await byContext(o.context).delete({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace: o.namespace } })
      ) {
        removed.push(`${o.context}: ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`);
      }
    } catch (e) {
      removed.push(`${o.context}: could not delete ${o.kind} ${o.name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Istio itself only where this run installed it into an istio-system it created.
  for (const context of s.istioInstalled) {
    if (s.created.some((o) => o.context === context && o.kind === 'Namespace' && o.name === ISTIO_NS)) {
      const f = s.clusters.find((c) => c.context === context)?.kubeconfig;
      await tools.run(
        { cmd: 'istioctl', args: ['uninstall', '--context', context, '--purge', '-y', ...(f ? ['--kubeconfig', f] : [])] },
        { allowFail: true },
      );
      removed.push(`${context}: Istio (istioctl uninstall --purge)`);
    }
  }
  return removed;
}

const lines = (stdout: string) =>
  stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** kind clusters and docker containers of runs that left no state file (killed between create and the first save). */
async function removeUnclaimedKind(claimed: KubeState[], tools: Tools): Promise<string[]> {
  const removed: string[] = [];
  const claimedClusters = new Set(claimed.flatMap((s) => s.clusters.map((c) => c.kindName)));
  const { stdout, exitCode } = await tools.run({ cmd: 'kind', args: ['get', 'clusters'] }, { allowFail: true });
  if (exitCode === 0) {
    for (const name of lines(stdout).filter((l) => l.startsWith(KIND_PREFIX) && !claimedClusters.has(l))) {
      await tools.run({ cmd: 'kind', args: ['delete', 'cluster', '--name', name] }, { allowFail: true });
      removed.push(`kind cluster ${name}`);
    }
  }
  const claimedContainers = new Set(claimed.flatMap((s) => s.dockerContainers));
  const ps = await tools.run(
    { cmd: 'docker', args: ['ps', '-a', '--filter', `label=${DOCKER_RUN_LABEL}`, '--format', '{{.Names}}'] },
    { allowFail: true },
  );
  for (const name of lines(ps.stdout).filter((l) => !claimedContainers.has(l))) {
    await tools.run({ cmd: 'docker', args: ['rm', '-f', name] }, { allowFail: true });
    removed.push(`docker container ${name}`);
  }
  return removed;
}

/** Leftovers of dead runs of this mode (a kept run or one whose owner lives is left alone). */
export async function cleanupStale(
  mode: 'kind' | 'kube',
  tools: Tools,
  kubeConfig?: (context: string) => k8s.KubeConfig,
): Promise<string[]> {
  const removed = cleanupStaleProcesses();
  const states = liveStates();
  const claimed = states.filter((s) => s.kept || ownerAlive(s));
  try {
    for (const s of states) {
      if (claimed.includes(s) || s.mode !== mode) continue;
      removed.push(...(await removeRun(s, tools, undefined, kubeConfig)));
      removeStateFile(s.runId);
    }
    if (mode === 'kind') removed.push(...(await removeUnclaimedKind(claimed, tools)));
  } catch (e) {
    // Without kind or docker there is nothing of ours to find; `up`'s preflight says what is missing.
    if (!isSpilloverError(e) || !/is not installed/.test(e.message)) throw e;
  }
  return removed;
}
