import path from 'node:path';
import { SpilloverError } from '../../errors.ts';
import type { BackendContext } from '../backend.ts';

/**
 * The cluster backends render the study's two-cluster shape (one gateway:, federated); the general
 * topology (N clusters, replicas, node localities) runs on the local backend only so far.
 */
export function requireStudyShape(ctx: BackendContext, mode: string) {
  const spec = ctx.experiment.spec;
  const pods = Object.values(spec.services);
  if (spec.gateway && Object.keys(spec.topology.clusters).length === 2 && !spec.topology.discovery && pods.every((s) => s.replicas === 1))
    return;
  throw new SpilloverError({
    file: path.relative(process.cwd(), ctx.experiment.file),
    path: 'topology',
    message: `--backend ${mode} renders the study's two-cluster topology only (two clusters, one service each, one replica, a gateway: and no topology.discovery)`,
    found: `${Object.keys(spec.topology.clusters).length} clusters, ${spec.gateway ? 'a' : 'no'} gateway:, replicas ${pods.map((s) => s.replicas).join('/')}${spec.topology.discovery ? `, discovery ${spec.topology.discovery}` : ''}`,
    fix: 'run this experiment on the local backend (--backend local)',
  });
}
