/**
 * The figures that `--repeat`, `compare` and `sweep` summarise, taken from each run's summary.json.
 *
 * Event times are null when the event did not happen. For comparison such a run counts as +Infinity
 * ("later than any time"): an ejection that stops happening after a config change is the largest
 * possible change, not a missing value. The same holds for the load at first ejection (no load
 * tried was enough to eject A).
 *
 * `minAbs` is the smallest difference worth calling a change even when it is significant: event
 * times are only as precise as the scrape interval (250 ms by default), ratios below a point are
 * noise at the request counts we run.
 */
import type { Summary } from '../analysis/summary.ts';

export type FigureKind = 'time' | 'ratio' | 'rate' | 'latency';

/** Dotted paths to the numeric leaves of T, so a key figure names a field the compiler can check. */
type NumberPaths<T, P extends string = ''> = {
  [K in keyof T & string]: NonNullable<T[K]> extends number
    ? `${P}${K}`
    : NonNullable<T[K]> extends readonly unknown[]
      ? never
      : NonNullable<T[K]> extends object
        ? NumberPaths<NonNullable<T[K]>, `${P}${K}.`>
        : never;
}[keyof T & string];

export type SummaryNumberPath = NumberPaths<Summary>;

export interface KeyFigure {
  /** Dotted path in summary.json, checked against the Summary type. */
  field: SummaryNumberPath;
  label: string;
  unit: string;
  kind: FigureKind;
  /** null means "never happened": compared as +Infinity. */
  nullIsNever: boolean;
  minAbs: number;
  /** Whether a significant change fails `compare` (figures that are noisy by nature only inform). */
  gate: boolean;
  /**
   * Where the figure has a better direction (latency down, success up), a change that way is reported
   * as an improvement and fails nothing. Event times have none: earlier or later failover is a change
   * of behaviour either way.
   */
  better?: 'lower' | 'higher';
}

const time = (field: SummaryNumberPath, label: string): KeyFigure => ({
  field,
  label,
  unit: 's',
  kind: 'time',
  nullIsNever: true,
  minAbs: 0.25,
  gate: true,
});
const latency = (field: SummaryNumberPath, label: string, gate: boolean): KeyFigure => ({
  field,
  label,
  unit: 'ms',
  kind: 'latency',
  nullIsNever: false,
  minAbs: 1,
  gate,
  better: 'lower',
});

export const KEY_FIGURES: readonly KeyFigure[] = [
  time('events.firstOverflowS', 'first circuit-breaker overflow'),
  time('events.firstEjectionS', 'first ejection of A'),
  time('events.redirectOnsetS', 'redirect to B begins'),
  time('events.redirectEndS', 'redirect to B ends'),
  time('events.noHealthyUpstreamS', 'no healthy upstream'),
  time('events.recoveryS', 'A serves again'),
  {
    field: 'loadAtFirstEjectionRps',
    label: 'load at first ejection',
    unit: 'req/s',
    kind: 'rate',
    nullIsNever: true,
    minAbs: 5,
    gate: true,
  },
  {
    field: 'successRatio',
    label: 'success ratio',
    unit: '',
    kind: 'ratio',
    nullIsNever: false,
    minAbs: 0.01,
    gate: true,
    better: 'higher',
  },
  { field: 'redirectedFraction', label: 'redirected fraction', unit: '', kind: 'ratio', nullIsNever: false, minAbs: 0.01, gate: true },
  latency('latencyMs.p50', 'latency p50', true),
  latency('latencyMs.p95', 'latency p95', true),
  latency('latencyMs.p99', 'latency p99', true),
  // The single slowest request of a run is one sample; it moves by chance, so it only informs.
  latency('latencyMs.max', 'latency max', false),
];

export const figureByField = (field: string): KeyFigure | undefined => KEY_FIGURES.find((f) => f.field === field);
