/** When a local run needs the harness's control plane, and with which Kubernetes/istiod timing. */
import { parseDurationMs } from '../../util/duration.ts';
import type { Experiment } from '../../experiment/schema.ts';
import { DEFAULT_TIMING, type ReadinessTiming } from '../control-plane.ts';

/** Endpoint or config pushes during the run: otherwise every cluster stays STATIC, exactly as before. */
export const needsControlPlane = (spec: Experiment) =>
  spec.faults.some((f) => f.action === 'unready' || f.action === 'apply' || f.action === 'scale');

/** Set durations were scaled by the loader already; the defaults are scaled here with the same factor. */
export function timingOf(spec: Experiment, timeScale = 1): ReadinessTiming {
  const c = spec.pushTiming ?? {};
  return {
    periodMs: c.readinessPeriod ? parseDurationMs(c.readinessPeriod) : DEFAULT_TIMING.periodMs * timeScale,
    failureThreshold: c.failureThreshold ?? DEFAULT_TIMING.failureThreshold,
    successThreshold: c.successThreshold ?? DEFAULT_TIMING.successThreshold,
    debounceMs: c.debounce ? parseDurationMs(c.debounce) : DEFAULT_TIMING.debounceMs * timeScale,
  };
}
