/**
 * Phase 2, provision: the backend removes what killed runs left, then brings the mesh up. The
 * manifest gets the topology, the translation caveats and the versions of what runs.
 */
import type { Backend, BackendContext, Deployment } from '../runner/backend.ts';
import type { RunRecorder } from './recorder.ts';

export async function provision(backend: Backend, ctx: BackendContext, rec: RunRecorder): Promise<Deployment> {
  const stale = await backend.cleanupStale();
  if (stale.length) ctx.log(`removed leftovers of earlier runs: ${stale.join(', ')}`);
  ctx.log(`run ${ctx.runId}: bringing up the ${rec.manifest.backend} backend`);
  rec.event({ kind: 'phase', what: 'backend-up' });
  const tUp = Date.now();
  const deployment = await backend.up(ctx);
  ctx.log(`backend up in ${((Date.now() - tUp) / 1000).toFixed(1)}s`);
  rec.manifest.topology = deployment.topology;
  rec.manifest.warnings.push(...deployment.warnings);
  Object.assign(rec.manifest.versions, deployment.versions);
  rec.writeManifest();
  if (ctx.signal.aborted) throw ctx.signal.reason;
  return deployment;
}
