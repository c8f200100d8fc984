/**
 * Blocked ejections: outlier detection decided to eject a host but `max_ejection_percent` refused,
 * counted only in `outlier_detection.ejections_overflow` (no outlier-log line, the host stays in;
 * envoy-semantics §2.4). The percentage is (ejected + 1) / hosts: with two hosts one ejection is
 * 50 %, so the default of 10 % refuses every ejection. Envoy used to eject one host regardless; that
 * rule was removed by envoy#27624/#27909 (merged May-June 2023, so from Envoy 1.27 by merge date)
 * and came back only as the opt-in `always_eject_one_host` (envoy#34796, Envoy 1.31), which Istio
 * does not set.
 */
import type { ScrapeRecord, TopologyManifest } from '../contracts/raw.ts';
import { clusterSeriesKey, clusterValue, statAcrossClusters } from './cluster-name.ts';
import type { ConfigFacts } from './config-facts.ts';
import { rises } from './breakers.ts';

export const ENVOY_DEFAULT_MAX_EJECTION_PERCENT = 10;

export interface BlockedEjections {
  envoy: string;
  firstS: number;
  prevS: number | null;
  /** ejections_overflow at the last scrape. */
  total: number;
  /** Hosts in the cluster when known (the client's endpoints), else null. */
  hosts: number | null;
  maxEjectionPercent: number;
  /** True when the DestinationRule left maxEjectionPercent unset (Envoy's default applied). */
  defaulted: boolean;
  cause: string;
}

export function maxEjectionPercentOf(f: ConfigFacts): { value: number; defaulted: boolean } {
  const v = Number(f.outlierDetection?.maxEjectionPercent);
  return Number.isFinite(v) && v > 0 ? { value: v, defaulted: false } : { value: ENVOY_DEFAULT_MAX_EJECTION_PERCENT, defaulted: true };
}

export function blockedEjections(
  topology: TopologyManifest | undefined,
  config: ConfigFacts,
  scrapes: Record<string, ScrapeRecord[]>,
): BlockedEjections[] {
  const out: BlockedEjections[] = [];
  const roles = topology?.envoys ?? {};
  const { value, defaulted } = maxEjectionPercentOf(config);
  for (const envoy of Object.keys(scrapes).sort()) {
    const isClient = roles[envoy]?.role === 'client' && topology?.clientCluster;
    const r = rises(scrapes[envoy], (s) =>
      isClient
        ? clusterValue(s, clusterSeriesKey(topology!.clientCluster, 'outlier_detection_ejections_overflow'))
        : statAcrossClusters(s, 'outlier_detection_ejections_overflow'),
    );
    if (!r) continue;
    const hosts = isClient ? Object.keys(topology?.endpoints ?? {}).length || null : null;
    const setting = defaulted ? `maxEjectionPercent unset, so Envoy's default ${value} % applies` : `maxEjectionPercent=${value}`;
    const arithmetic = hosts ? `; ejecting 1 of ${hosts} hosts would be ${Math.round(100 / hosts)} % > ${value} %` : '';
    out.push({
      envoy,
      firstS: r.t,
      prevS: Number.isFinite(r.prevT) ? r.prevT : null,
      total: r.last,
      hosts,
      maxEjectionPercent: value,
      defaulted,
      cause: `${setting}${arithmetic} (Envoy no longer ejects one host regardless since envoy#27909; always_eject_one_host is not set by Istio)`,
    });
  }
  return out;
}
