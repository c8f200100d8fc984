/**
 * The plan of a real-cluster run: which cluster is which context, the step list for them, and the
 * files of the dry run (kind configs, every manifest, commands.sh with the caveats on top). `plan`
 * and `up` build it the same way, so the dry run is what `up` does.
 */
import { SpilloverError } from '../../errors.ts';
import type { BackendContext } from '../backend.ts';
import type { ClusterCa } from './cacerts.ts';
import { caveatLines, caveatsOf } from './caveats.ts';
import { kindClusterName, kindContext } from './names.ts';
import { commandsSh, describeStep, manifestYaml } from './render.ts';
import { buildSteps, federationObjects } from './steps.ts';
import type { ClusterRef, Step } from './step-types.ts';
import { validateAll, type KubeObject } from './validate.ts';
import { PINS } from './versions.ts';

export interface PlanOptions {
  mode: 'kind' | 'kube';
  /** kube: the context of each experiment cluster, by name (or `#<i>`), or in topology order. */
  contexts?: Record<string, string> | string[];
  installIstio: boolean;
  k6InCluster?: boolean;
  k6Parallelism?: number;
  images?: { service?: string; k6?: string };
  kubeconfigFile?: string;
}

/**
 * kind writes each cluster's context here, not into the user's kubeconfig (creating clusters would
 * switch the user's current context), one file per cluster so the parallel creates never share one.
 */
const kindKubeconfig = (cluster: string) => `{run}/kube/kubeconfig-${cluster}`;

function kubeContexts(opts: PlanOptions, names: string[]): string[] {
  const given = opts.contexts ?? [];
  const ctxs = names.map((n, i) => (Array.isArray(given) ? given[i] : (given[n] ?? given[`#${i}`])));
  const missing = names.filter((_, i) => !ctxs[i]);
  if (missing.length)
    throw new SpilloverError({
      file: '--context',
      message: `the kube backend needs a kubeconfig context for every cluster of the experiment; none for ${missing.join(', ')}`,
      expected: names.map((n) => `--context ${n}=<ctx>`).join(' '),
      found: Array.isArray(given)
        ? `${given.length} contexts`
        : Object.keys(given)
            .filter((k) => !k.startsWith('#'))
            .join(', ') || 'none',
      fix: "name each cluster's context (kubectl config get-contexts); --context-1/--context-2 cover two clusters",
    });
  const dup = ctxs.find((c, i) => ctxs.indexOf(c) !== i);
  if (dup)
    throw new SpilloverError({
      file: '--context',
      message: `two clusters of the experiment would be the same context ${dup}`,
      found: names.map((n, i) => `${n}=${ctxs[i]}`).join(' '),
      fix: 'give every experiment cluster a cluster of its own (one Service name in one cluster would replace the other)',
    });
  return ctxs;
}

export function clusterRefs(opts: PlanOptions, ctx: BackendContext): ClusterRef[] {
  const names = Object.keys(ctx.experiment.spec.topology.clusters);
  if (opts.mode === 'kind')
    return names.map((n) => ({
      name: n,
      kindName: kindClusterName(ctx.runId, n),
      context: kindContext(kindClusterName(ctx.runId, n)),
      kubeconfig: kindKubeconfig(n),
    }));
  const ctxs = kubeContexts(opts, names);
  return names.map((n, i) => ({ name: n, context: ctxs[i], kubeconfig: opts.kubeconfigFile }));
}

export type BuiltPlan = ReturnType<typeof buildPlan>;

export function buildPlan(opts: PlanOptions, ctx: BackendContext, cas: Record<string, ClusterCa>, script: string) {
  const refs = clusterRefs(opts, ctx);
  const installIstio = opts.mode === 'kind' || opts.installIstio;
  const built = buildSteps({
    exp: ctx.experiment,
    runId: ctx.runId,
    mode: opts.mode,
    clusters: refs,
    installIstio,
    cas,
    script,
    k6InCluster: opts.k6InCluster,
    k6Parallelism: opts.k6Parallelism,
    images: opts.images,
  });
  return { refs, ...built, caveats: caveatsOf(ctx.experiment, opts.mode, installIstio) };
}

/** Every manifest, the federation rules included, checked before the first cluster is created. */
export function validatePlan(ctx: BackendContext, steps: Step[]): void {
  validateAll([
    ...steps.flatMap((s) => (s.kind === 'apply' || s.kind === 'write' ? s.objects.map((obj) => ({ obj, where: s.file })) : [])),
    ...federationObjects(ctx.experiment, ctx.runId, {}, true).map((obj) => ({ obj, where: 'federation' })),
    // A resource a fault applies mid-run is checked now, not when its time comes.
    ...ctx.experiment.spec.faults.flatMap((f, i) =>
      f.action === 'apply' ? [{ obj: f.resource as unknown as KubeObject, where: `faults[${i}].resource` }] : [],
    ),
  ]);
}

/** Files of the dry run; `up` writes the same (the CA secret with placeholders, never keys). */
export function renderPlan(mode: string, ctx: BackendContext, built: BuiltPlan): { files: Record<string, string>; lines: string[] } {
  const files: Record<string, string> = {};
  for (const [name, cfg] of Object.entries(built.kindConfigs)) files[`kube/kind/${name}.yaml`] = manifestYaml([cfg as KubeObject]);
  for (const s of built.steps) {
    if (s.kind === 'apply' || s.kind === 'write') files[s.file] = manifestYaml(s.objects);
    if (s.kind === 'federate') files[s.file] = manifestYaml(federationObjects(ctx.experiment, ctx.runId, {}, true));
  }
  const contextOf = (c: string) => built.refs.find((r) => r.name === c)!.context;
  const kubeconfigOf = (c: string) => built.refs.find((r) => r.name === c)!.kubeconfig;
  const caveats = caveatLines(built.caveats);
  files['kube/commands.sh'] = commandsSh(built.steps, contextOf, kubeconfigOf, [
    `What \`spillover run --backend ${mode}\` does for run ${ctx.runId}, in order (generated by --dry-run).`,
    'Kubernetes objects are applied by spillover itself through the API (server-side apply);',
    'the kubectl lines are the equivalents. Istio ' + PINS.istio + ' (istioctl must match).',
    ...caveats,
  ]);
  return { files, lines: [...caveats, ...built.steps.map((s) => describeStep(s, contextOf))] };
}
