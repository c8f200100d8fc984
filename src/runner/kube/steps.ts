/**
 * What a real-cluster run does, as data: an ordered list of steps that `plan` (--dry-run) writes out
 * and `up` executes, so the golden-tested dry run is exactly what a live run would do.
 *
 * Paths inside command arguments are written `{run}/...` (the run directory) or `{repo}/...` (this
 * checkout) and resolved when executed; the dry run prints them as "$RUN_DIR"/"$REPO".
 */
import type { ResolvedExperiment } from '../../experiment/read-experiment.ts';
import { kindConfigs } from './kind-config.ts';
import { runLabels } from './names.ts';
import { federationResources } from './federation.ts';
import { kindSteps } from './steps-kind.ts';
import { istioSteps } from './steps-istio.ts';
import { federationSteps, k6Steps, workloadSteps } from './steps-workloads.ts';
import type { Step, StepsInput } from './step-types.ts';

export { TIMEOUTS, type ClusterRef, type Step, type StepsInput, type Files } from './step-types.ts';

export function buildSteps(input: StepsInput): { steps: Step[]; kindConfigs: Record<string, unknown> } {
  const spec = input.exp.spec;
  const useK6 = spec.load.engine === 'k6' && Boolean(input.k6InCluster);
  const steps: Step[] = [
    ...(input.mode === 'kind' ? kindSteps(input, useK6) : []),
    ...(input.installIstio ? istioSteps(input) : []),
    ...workloadSteps(input),
    ...federationSteps(input),
    ...(useK6 ? k6Steps(input) : []),
  ];
  return { steps, kindConfigs: input.mode === 'kind' ? kindConfigs(spec) : {} };
}

/** The federation objects as the dry run shows them (placeholders kept) and `up` applies them. */
export const federationObjects = (exp: ResolvedExperiment, runId: string, addresses: Record<string, string>, leaveUnknown: boolean) =>
  federationResources(exp.spec, addresses, runLabels(runId), { file: exp.file, leaveUnknown });
