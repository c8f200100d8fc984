/**
 * Which of src/mesh's Istio eras istiod's own generator can check. The helper is built from one
 * istio.io/istio pseudo-version (master, 1.32-dev: the Go module proxy serves no release-branch
 * versions), so it speaks for current Istio only. src/mesh's era semantics for older releases stay
 * its own (istio-version.ts); the newest of them changed in 1.24 (default retries without 503,
 * inbound retry), so eras from 1.24 on are compared and older ones are not.
 */
export const ORACLE_MIN_ERA = { major: 1, minor: 24 };

/** The Istio release the pinned istio.io/istio pseudo-version is (its VERSION file says 1.32-dev). */
export const ORACLE_ISTIO = '1.32-dev';

export function oracleComparable(istioVersion: string): { ok: boolean; why?: string } {
  const m = /^(\d+)\.(\d+)/.exec(istioVersion);
  if (!m) return { ok: false, why: `Istio version "${istioVersion}" is not x.y` };
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major > ORACLE_MIN_ERA.major || (major === ORACLE_MIN_ERA.major && minor >= ORACLE_MIN_ERA.minor)) return { ok: true };
  return {
    ok: false,
    why: `Istio ${istioVersion} semantics (src/mesh's era) predate ${ORACLE_MIN_ERA.major}.${ORACLE_MIN_ERA.minor}; istiod's generator here is current Istio and would report the era's deliberate differences`,
  };
}

/**
 * istiod feature flags that make the 1.32-dev generator behave like the plan's era where a release
 * flipped a default (Istio's own "compatibility profiles" set the same flags).
 */
export function compatibilityEnv(istioVersion: string): Record<string, string> {
  const minor = Number(/^\d+\.(\d+)/.exec(istioVersion)?.[1] ?? 0);
  const env: Record<string, string> = {};
  // 1.31 upgrade notes: unhealthy endpoints are sent by default, so every cluster gets panic threshold 0.
  if (minor < 31) env.PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS = 'false';
  return env;
}
