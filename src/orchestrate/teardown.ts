/**
 * Phase 4, teardown: runs whatever happened before it (success, error, Ctrl-C, SIGTERM). Timers and
 * the crash watch stop, the load engine and the capture close, the backend comes down (or stays up
 * with --keep after a good run), and the manifest records the end.
 */
import type { LoadEngine } from '../load/engine.ts';
import type { Backend, Deployment } from '../runner/backend.ts';
import type { Measuring } from './measure.ts';
import type { RunRecorder } from './recorder.ts';

export async function teardown(
  backend: Backend,
  deployment: Deployment | undefined,
  engine: LoadEngine,
  m: Measuring,
  rec: RunRecorder,
  keep: boolean,
  say: (msg: string) => void,
): Promise<void> {
  clearInterval(m.crashWatch);
  for (const t of m.timers) clearTimeout(t);
  await engine.close();
  if (m.capture) await m.capture.stop().catch(() => undefined);
  const keepUp = keep && rec.manifest.outcome === 'ok';
  if (deployment && keepUp) say(`--keep: the deployment stays up.\n${deployment.describe()}`);
  rec.event({ kind: 'phase', what: 'backend-down' });
  await backend.down({ keep: keepUp });
  rec.close();
}
