/**
 * What one real-cluster run created, on disk while it runs: kind clusters and containers, objects on
 * existing clusters, where Istio was installed. A killed run's file is how `cleanup` (teardown.ts)
 * finds its leftovers; the owner's pid and start time tell a live run from a dead one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sameProcessAlive, stateDir } from '../../process/processes.ts';
import { ensureTrustedDir } from '../../process/state-trust.ts';
import type { ClusterRef } from './step-types.ts';

export interface KubeState {
  runId: string;
  mode: 'kind' | 'kube';
  ownerPid: number;
  ownerStartTicks: string | null;
  kept?: boolean;
  clusters: ClusterRef[];
  /** kube: objects this run created, per cluster context, in creation order. */
  created: Array<{ context: string; apiVersion: string; kind: string; name: string; namespace?: string }>;
  istioInstalled: string[];
  dockerContainers: string[];
}

// Next to the process supervisor's state files but in a folder of their own: those are read as its own.
const kubeStateDir = () => path.join(stateDir(), 'kube');
export const stateFileOf = (runId: string) => path.join(kubeStateDir(), `kube-${runId}.json`);

export function liveStates(): KubeState[] {
  let files: string[] = [];
  // They name clusters and containers to delete: read only from a folder that is this user's alone.
  if (fs.existsSync(kubeStateDir())) ensureTrustedDir(kubeStateDir(), 'kube state directory', 'SPILLOVER_STATE_DIR');
  try {
    files = fs.readdirSync(kubeStateDir()).filter((f) => f.startsWith('kube-') && f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    try {
      return [JSON.parse(fs.readFileSync(path.join(kubeStateDir(), f), 'utf8')) as KubeState];
    } catch {
      return [];
    }
  });
}

export const ownerAlive = (s: KubeState) => sameProcessAlive(s.ownerPid, s.ownerStartTicks);

export function saveState(state: KubeState | undefined): void {
  if (!state) return;
  ensureTrustedDir(kubeStateDir(), 'kube state directory', 'SPILLOVER_STATE_DIR');
  fs.writeFileSync(stateFileOf(state.runId), JSON.stringify(state, null, 1));
}

export const removeStateFile = (runId: string) => fs.rmSync(stateFileOf(runId), { force: true });
