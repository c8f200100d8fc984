/**
 * The differences between src/mesh's configuration and istiod's that are deliberate, each with its
 * reason. `spillover mesh diff` excuses exactly these and fails on anything else. Keep the list short:
 * an entry matches by proxy role and path, never "anything under a cluster".
 */
import type { MeshPlan } from '../mesh/plan.ts';
import type { Difference } from './differ.ts';

export interface KnownDifference {
  id: string;
  reason: string;
  matches(d: Difference, plan: MeshPlan): boolean;
}

const at = (re: RegExp) => (d: Difference) => re.test(d.path);

export const KNOWN_DIFFERENCES: KnownDifference[] = [];

export { at };
