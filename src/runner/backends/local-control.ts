/** When a local run needs the harness's control plane, and with which Kubernetes/istiod timing. */
import type { RunTiming } from '../../experiment/normalise.ts';
import type { Experiment } from '../../experiment/schema.ts';
import type { ReadinessTiming } from '../control-plane.ts';

/** Endpoint or config pushes during the run: otherwise every cluster stays STATIC, exactly as before. */
export const needsControlPlane = (spec: Experiment) =>
  spec.faults.some((f) => f.action === 'unready' || f.action === 'apply' || f.action === 'scale');

/** The loader resolved the push timing (set values scaled, defaults scaled with the same factor). */
export function timingOf(timing: Pick<RunTiming, 'push'>): ReadinessTiming {
  const p = timing.push;
  return {
    periodMs: p.readinessPeriodMs,
    failureThreshold: p.failureThreshold,
    successThreshold: p.successThreshold,
    debounceMs: p.debounceMs,
  };
}
