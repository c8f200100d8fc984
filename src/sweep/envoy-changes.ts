/**
 * Envoy behaviour changes that bear on the eras' key outcomes (overflow, ejection, redirect, success),
 * by the Envoy minor that introduced them, so a difference between two eras that ran on different
 * Envoys can name the Envoy change behind it. Only what was checked is listed: the sources are
 * ../shared/facts/envoy-semantics.md (from Envoy's source and issues) and Envoy's changelogs; of
 * the minors the eras can run (1.36-1.40, the served wheels), only changelogs/1.37.0.yaml was read
 * in full -- 1.38-1.40 may hold changes not listed here.
 */
export interface EnvoyChange {
  /** Envoy minor that first behaves this way. */
  envoy: string;
  what: string;
  /** Whether it can move overflow / ejection / redirect outcomes of these experiments. */
  outcomes: boolean;
  source: string;
}

export const ENVOY_CHANGES: EnvoyChange[] = [
  {
    envoy: '1.26',
    what: 'circuit-breaker overflow (503 UO) is no longer charged to the host by outlier detection',
    outcomes: true,
    source: 'envoy#25487 (router skips outlier accounting on Overflow resets)',
  },
  {
    envoy: '1.27',
    what: 'max_ejection_percent no longer ejects at least one host regardless of the percentage',
    outcomes: true,
    source: 'envoy#27624, envoy#27909',
  },
  {
    envoy: '1.31',
    what: 'always_eject_one_host (opt-in) restores ejecting one host below max_ejection_percent',
    outcomes: false,
    source: 'envoy#34796, changelogs/1.31.0.yaml',
  },
  {
    envoy: '1.37',
    what: 'HTTP/2 resets carry INTERNAL_ERROR instead of NO_ERROR, and upstream protocol errors are no longer propagated downstream; no outlier-detection or circuit-breaker change in this changelog',
    outcomes: false,
    source: 'changelogs/1.37.0.yaml (behavior_changes, area http)',
  },
  {
    envoy: '1.39',
    what: 'tls_inspector rejects TLS versions outside 1.0-1.3',
    outcomes: false,
    source: 'changelogs/1.39.0.yaml',
  },
];

const minor = (v: string) => Number(v.split('.')[1]);

/** The listed changes between two Envoy versions (either order): introduced after the older, up to the newer. */
export function envoyChangesBetween(a: string, b: string): EnvoyChange[] {
  const [lo, hi] = [minor(a), minor(b)].sort((x, y) => x - y);
  return ENVOY_CHANGES.filter((c) => minor(c.envoy) > lo && minor(c.envoy) <= hi);
}
