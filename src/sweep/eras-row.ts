/** One row of the eras table: an Istio release, its runs, its diagnosis and the Envoy it ran. */
import type { Summary } from '../contracts/summary.ts';
import type { Era } from './eras-model.ts';
import type { EraEnvoy } from './eras-envoy.ts';

export interface EraRow {
  istio: string;
  era: Era;
  summaries: Summary[];
  /** Pitfall ids the diagnosis finds in this era's configuration. */
  findings: string[];
  /** The same findings' titles, in the same order. */
  findingTitles: string[];
  /** The Envoy chosen for this era and why. */
  envoy: EraEnvoy;
  /** The Envoy versions its runs actually ran (each run's manifest, from `envoy --version`). */
  envoyUsed: string[];
}

/** The Envoy a row ran, in words ("1.36.4", or "not run"). */
export const envoyRan = (r: EraRow) => (r.envoyUsed.length ? r.envoyUsed.join(', ') : 'not run');
