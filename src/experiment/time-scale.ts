/**
 * `--time-scale F` shortens a run while keeping its shape: every duration that places something on the
 * run's timeline is multiplied by F. Rates, service times, timeouts and WAN delay are left alone on
 * purpose: scaling them would change capacity and latency, i.e. the physics being measured.
 *
 * The scenario's own durations (stages, gracefulStop, startTime) are scaled by the load driver when it
 * reads the script, with the same factor.
 */
import { formatDurationMs, isDuration, parseDurationMs } from '../util/duration.ts';
import type { Experiment } from './schema.ts';

/** Outlier-detection fields that decide when hosts leave and return. */
const OD_FIELDS = ['interval', 'baseEjectionTime'] as const;

type Policy = [Record<string, unknown> | undefined, Array<string | number>];

/** Every traffic policy of every DestinationRule, with its path: top level, per port, per subset. */
function policiesOf(spec: Experiment): Policy[] {
  const out: Policy[] = [];
  spec.resources.forEach((r, i) => {
    if (r.kind !== 'DestinationRule') return;
    const specObj = r.spec as Record<string, unknown> | undefined;
    const tp = specObj?.trafficPolicy as { portLevelSettings?: Array<Record<string, unknown>> } | undefined;
    out.push([tp as Record<string, unknown> | undefined, ['resources', i, 'spec', 'trafficPolicy']]);
    tp?.portLevelSettings?.forEach((p, j) => out.push([p, ['resources', i, 'spec', 'trafficPolicy', 'portLevelSettings', j]]));
    (specObj?.subsets as Array<{ trafficPolicy?: Record<string, unknown> }> | undefined)?.forEach((s, j) =>
      out.push([s?.trafficPolicy, ['resources', i, 'spec', 'subsets', j, 'trafficPolicy']]),
    );
  });
  return out;
}

/**
 * Before scaling, what scaling would make: an outlier-detection period below 1 ms is refused by Istio's validation (and 0 by
 * Envoy's), so a short interval times a small factor must be an error that names both, not an Envoy
 * that exits during start-up.
 */
export function checkScaled(
  spec: Experiment,
  f: number,
): Array<{ path: Array<string | number>; message: string; expected?: string; found?: string; fix?: string }> {
  if (f === 1) return [];
  const out: ReturnType<typeof checkScaled> = [];
  for (const [policy, at] of policiesOf(spec)) {
    const od = policy?.outlierDetection as Record<string, unknown> | undefined;
    for (const k of OD_FIELDS) {
      const before = od?.[k];
      if (typeof before !== 'string' || !isDuration(before)) continue;
      const v = formatDurationMs(parseDurationMs(before) * f);
      if (parseDurationMs(v) >= 1) continue;
      out.push({
        path: [...at, 'outlierDetection', k],
        message: `--time-scale ${f} makes outlierDetection.${k} ${v} (from ${before}); Istio requires at least 1ms`,
        expected: `${k} x ${f} >= 1ms, i.e. ${k} >= ${formatDurationMs(1 / f)} in the file`,
        found: `${before} x ${f} = ${v}`,
        fix: `raise ${k} to at least ${formatDurationMs(Math.ceil(1 / f))}, or use a time scale of at least ${Math.min(1, Math.ceil((1 / parseDurationMs(before)) * 1000) / 1000)}`,
      });
    }
  }
  return out;
}

export function scaleExperiment(spec: Experiment, f: number): string[] {
  const changed: string[] = [];
  const scale = (holder: Record<string, unknown>, key: string, where: string) => {
    const v = holder[key];
    if (typeof v !== 'string' || !isDuration(v)) return;
    const next = formatDurationMs(parseDurationMs(v) * f);
    holder[key] = next;
    changed.push(`${where}: ${v} -> ${next}`);
  };
  spec.resources.forEach((r, i) => {
    if (r.kind !== 'DestinationRule') return;
    const specObj = r.spec as Record<string, unknown> | undefined;
    const policies: Array<[Record<string, unknown> | undefined, string]> = [
      [specObj?.trafficPolicy as Record<string, unknown>, `resources[${i}].spec.trafficPolicy`],
    ];
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
  const cp = spec.pushTiming as Record<string, unknown> | undefined;
  if (cp) for (const k of ['readinessPeriod', 'debounce']) scale(cp, k, `pushTiming.${k}`);
  spec.faults.forEach((fault, i) => {
    scale(fault as unknown as Record<string, unknown>, 'at', `faults[${i}].at`);
    scale(fault as unknown as Record<string, unknown>, 'duration', `faults[${i}].duration`);
  });
  return changed;
}
