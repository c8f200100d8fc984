/** What every part of the translation needs: the plan, the Istio release, the resources, and a place for warnings. */
import type { MeshPlan } from './plan.ts';
import type { IstioVersion } from './istio-version.ts';
import type { Resources, Json } from './resources.ts';

export interface TranslateContext {
  plan: MeshPlan;
  version: IstioVersion;
  resources: Resources;
  /** Collected in order; duplicates are dropped by translate(). */
  warnings: string[];
}

/**
 * The traffic policy that applies to one port: a matching portLevelSettings entry replaces the
 * top-level policy outright, fields left out are not inherited (GetPortLevelTrafficPolicy).
 */
export function trafficPolicyForPort(dr: Json | undefined, port: number): { policy: Json | undefined; path: string } {
  const tp = dr?.spec?.trafficPolicy;
  const levels: Json[] = tp?.portLevelSettings ?? [];
  const i = levels.findIndex((p) => p?.port?.number === port);
  if (i >= 0) return { policy: levels[i], path: `trafficPolicy.portLevelSettings[${i}]` };
  return { policy: tp, path: 'trafficPolicy' };
}
