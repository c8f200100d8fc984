/**
 * `--time-scale F` shortens a run while keeping its shape: every duration that places something on the
 * run's timeline is multiplied by F. Rates, service times, timeouts and WAN delay are left alone on
 * purpose: scaling them would change capacity and latency, i.e. the physics being measured.
 *
 * The one place the scale is applied, to the experiment (scaleExperiment, by the loader) and to its
 * scenario (scaleScenarioDurations, by the scenario readers of src/load for `run` and for
 * `spillover load --time-scale` alike), and the one range check all three entries share.
 */
import { SpilloverError } from '../errors.ts';
import { formatDurationMs, isDuration, parseDurationMs } from '../util/duration.ts';
import type { Experiment } from './schema.ts';

/** 0 < F <= 1; `where` names the flag or file the factor came from. */
export function checkTimeScale(f: number, where: { file: string; path?: string }): void {
  if (f > 0 && f <= 1) return;
  throw new SpilloverError({
    ...where,
    message: 'time scale out of range: it must be in (0, 1]',
    expected: 'a number with 0 < F <= 1, such as 0.1',
    found: String(f),
    fix: 'use e.g. --time-scale 0.1 for a run ten times shorter',
  });
}

/** Outlier-detection fields that decide when hosts leave and return. */
const OD_FIELDS = ['interval', 'baseEjectionTime'] as const;

/** One scalable duration string: its holder, key and path (for problems and the manifest). */
interface DurationSlot {
  holder: Record<string, unknown>;
  key: string;
  path: Array<string | number>;
}

/** Every outlier-detection duration of every DestinationRule's traffic policy: top level, per port, per subset. */
function outlierSlots(spec: Experiment): DurationSlot[] {
  const out: DurationSlot[] = [];
  const add = (policy: Record<string, unknown> | undefined, at: Array<string | number>) => {
    const od = policy?.outlierDetection as Record<string, unknown> | undefined;
    if (od) for (const key of OD_FIELDS) out.push({ holder: od, key, path: [...at, 'outlierDetection', key] });
  };
  spec.resources.forEach((r, i) => {
    if (r.kind !== 'DestinationRule') return;
    const specObj = r.spec as Record<string, unknown> | undefined;
    const tp = specObj?.trafficPolicy as { portLevelSettings?: Array<Record<string, unknown>> } | undefined;
    add(tp as Record<string, unknown> | undefined, ['resources', i, 'spec', 'trafficPolicy']);
    tp?.portLevelSettings?.forEach((p, j) => add(p, ['resources', i, 'spec', 'trafficPolicy', 'portLevelSettings', j]));
    (specObj?.subsets as Array<{ trafficPolicy?: Record<string, unknown> }> | undefined)?.forEach((s, j) =>
      add(s?.trafficPolicy, ['resources', i, 'spec', 'subsets', j, 'trafficPolicy']),
    );
  });
  return out;
}

/** The harness's own timeline: push timing and every fault's `at` and `duration`. */
function harnessSlots(spec: Experiment): DurationSlot[] {
  const out: DurationSlot[] = [];
  const cp = spec.pushTiming as Record<string, unknown> | undefined;
  if (cp) for (const key of ['readinessPeriod', 'debounce']) out.push({ holder: cp, key, path: ['pushTiming', key] });
  spec.faults.forEach((fault, i) => {
    for (const key of ['at', 'duration']) out.push({ holder: fault as unknown as Record<string, unknown>, key, path: ['faults', i, key] });
  });
  return out;
}

const textOf = (p: Array<string | number>) => p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');
const durationAt = (s: DurationSlot) => {
  const v = s.holder[s.key];
  return typeof v === 'string' && isDuration(v) ? v : undefined;
};

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
  for (const slot of outlierSlots(spec)) {
    const before = durationAt(slot);
    if (before === undefined) continue;
    const k = slot.key;
    const v = formatDurationMs(parseDurationMs(before) * f);
    if (parseDurationMs(v) >= 1) continue;
    out.push({
      path: slot.path,
      message: `--time-scale ${f} makes outlierDetection.${k} ${v} (from ${before}); Istio requires at least 1ms`,
      expected: `${k} x ${f} >= 1ms, i.e. ${k} >= ${formatDurationMs(1 / f)} in the file`,
      found: `${before} x ${f} = ${v}`,
      fix: `raise ${k} to at least ${formatDurationMs(Math.ceil(1 / f))}, or use a time scale of at least ${Math.min(1, Math.ceil((1 / parseDurationMs(before)) * 1000) / 1000)}`,
    });
  }
  return out;
}

/**
 * Multiplies the experiment's timeline durations by F, in place, as text: the resolved experiment is
 * the record of what ran, and the outlier fields are Istio's YAML (src/mesh translates them). The
 * loader then parses the scaled text once (normalise.ts). Returns "path: before -> after" per change.
 */
export function scaleExperiment(spec: Experiment, f: number): string[] {
  const changed: string[] = [];
  for (const slot of [...outlierSlots(spec), ...harnessSlots(spec)]) {
    const v = durationAt(slot);
    if (v === undefined) continue;
    const next = formatDurationMs(parseDurationMs(v) * f);
    slot.holder[slot.key] = next;
    changed.push(`${textOf(slot.path)}: ${v} -> ${next}`);
  }
  return changed;
}

/** The duration fields of a k6 scenario (seconds) that F scales; a new executor's durations go here. */
export const SCENARIO_DURATION_KEYS = ['startTime', 'gracefulStop', 'duration', 'gracefulRampDown', 'maxDuration'] as const;

type ScenarioDurations = { [K in (typeof SCENARIO_DURATION_KEYS)[number]]?: number } & {
  stages?: ReadonlyArray<{ duration: number }>;
};

/** A scenario with every duration it has multiplied by F (rates and targets stay); pure. */
export function scaleScenarioDurations<S extends ScenarioDurations>(s: S, f: number): S {
  if (f === 1) return s;
  const out: Record<string, unknown> = { ...s };
  for (const k of SCENARIO_DURATION_KEYS) if (typeof s[k] === 'number') out[k] = s[k] * f;
  if (s.stages) out.stages = s.stages.map((st) => ({ ...st, duration: st.duration * f }));
  return out as S;
}
