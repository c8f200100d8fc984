/**
 * `load.engine: k6` on a cluster backend: k6 runs paused inside cluster-1 (in the mesh, like the
 * study's clients). At the run's t0 it is resumed through its REST API, its `--out json` samples are
 * streamed to raw/k6.json, and they become raw results through the same importer as `spillover import`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpilloverError } from '../../errors.ts';
import type { LoadEngine } from '../../load/engine.ts';
import { importK6 } from '../../load/k6-import.ts';
import type { KubeClient } from './kube-client.ts';
import { K6_API_PORT } from './load-manifests.ts';
import type { PortForwarder } from './port-forward.ts';
import type { ClusterRef } from './steps.ts';

export interface K6InClusterDeps {
  ref: ClusterRef;
  pod: { namespace: string; pod?: { name: string } };
  forwarder: PortForwarder;
  client: KubeClient;
  /** The backend's teardown list: the log follower is stopped with the deployment. */
  onStop(stop: () => void): void;
  signal: AbortSignal;
}

export function k6InClusterEngine({ ref, pod: p, forwarder, client, onStop, signal }: K6InClusterDeps): LoadEngine {
  return {
    name: 'k6-in-cluster',
    async run({ runDir, t0Epoch }) {
      const file = path.join(runDir, 'raw', 'k6.json');
      const api = await forwarder.forward(
        { name: 'k6-api', context: ref.context, kubeconfig: ref.kubeconfig, namespace: p.namespace, pod: p.pod!.name, port: K6_API_PORT },
        signal,
      );
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const fd = fs.openSync(file, 'a');
      const follow = await client.followLog(p.namespace, p.pod!.name, 'k6', (line) => {
        if (line.startsWith('{')) fs.writeSync(fd, line + '\n');
      });
      onStop(() => follow.stop());
      const wait = t0Epoch - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const res = await fetch(`${api.baseUrl}/v1/status`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { type: 'status', id: 'default', attributes: { paused: false } } }),
      });
      if (!res.ok) {
        throw new SpilloverError(
          {
            message: `k6 did not start: its REST API answered ${res.status}`,
            fix: `see kubectl --context ${ref.context} -n ${p.namespace} logs ${p.pod!.name} -c k6`,
          },
          1,
        );
      }
      await follow.ended;
      fs.closeSync(fd);
      return importK6(file, runDir, { t0Epoch });
    },
    close: async () => undefined,
  };
}
