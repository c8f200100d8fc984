/**
 * `--time-scale F` shortens a run while keeping its shape: every duration that places something on the
 * run's timeline is multiplied by F. Rates, service times, timeouts and WAN delay are left alone on
 * purpose: scaling them would change capacity and latency, i.e. the physics being measured.
 *
 * The scenario's own durations (stages, gracefulStop, startTime) are scaled by the load driver when it
 * reads the script, with the same factor.
 */
import { formatDuration, isDuration, parseDuration } from './duration.ts';
import type { Experiment } from './schema.ts';

/** Outlier-detection fields that decide when hosts leave and return. */
const OD_FIELDS = ['interval', 'baseEjectionTime'] as const;

export function scaleExperiment(spec: Experiment, f: number): string[] {
  const changed: string[] = [];
  const scale = (holder: Record<string, unknown>, key: string, where: string) => {
    const v = holder[key];
    if (typeof v !== 'string' || !isDuration(v)) return;
    const next = formatDuration(parseDuration(v) * f);
    holder[key] = next;
    changed.push(`${where}: ${v} -> ${next}`);
  };
  spec.resources.forEach((r, i) => {
    if (r.kind !== 'DestinationRule') return;
    const specObj = r.spec as Record<string, unknown> | undefined;
    const policies: Array<[Record<string, unknown> | undefined, string]> = [[specObj?.trafficPolicy as Record<string, unknown>, `resources[${i}].spec.trafficPolicy`]];
    const tp = specObj?.trafficPolicy as { portLevelSettings?: Array<Record<string, unknown>> } | undefined;
    tp?.portLevelSettings?.forEach((p, j) => policies.push([p, `resources[${i}].spec.trafficPolicy.portLevelSettings[${j}]`]));
    (specObj?.subsets as Array<{ trafficPolicy?: Record<string, unknown> }> | undefined)?.forEach((s, j) =>
      policies.push([s.trafficPolicy, `resources[${i}].spec.subsets[${j}].trafficPolicy`]),
    );
    for (const [policy, where] of policies) {
      const od = policy?.outlierDetection as Record<string, unknown> | undefined;
      if (od) for (const k of OD_FIELDS) scale(od, k, `${where}.outlierDetection.${k}`);
    }
  });
  const cp = spec.controlPlane as Record<string, unknown> | undefined;
  if (cp) for (const k of ['readinessPeriod', 'debounce']) scale(cp, k, `controlPlane.${k}`);
  spec.faults.forEach((fault, i) => {
    scale(fault as unknown as Record<string, unknown>, 'at', `faults[${i}].at`);
    scale(fault as unknown as Record<string, unknown>, 'duration', `faults[${i}].duration`);
  });
  return changed;
}
