/** The aggregate of a repeat set: the type that aggregate.ts computes and the repeat figures read. */
import type { Description } from '../analysis/stats/describe.ts';

export interface FigureAggregate {
  field: string;
  label: string;
  unit: string;
  /** One entry per run, in run order; null where the event did not happen or the field is absent. */
  values: Array<number | null>;
  /** Runs with a number for this figure. */
  happened: number;
  /** Description of the numbers; null when no run had one. */
  stats: Description | null;
}

export interface AggregateSummary {
  experiment: string;
  n: number;
  runIds: string[];
  figures: FigureAggregate[];
}
