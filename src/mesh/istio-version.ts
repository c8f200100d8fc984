/**
 * Which Istio release's translation semantics apply. Istio changed several mappings over time
 * (consecutiveErrors, default retries, LB policy, panic threshold, default circuit breakers, ALPN,
 * the east-west gateway's filter chains); every such decision asks this module, so the history lives
 * in one place with the commits that changed it (see ../shared/facts/istio-translation.md).
 */
import { SpilloverError } from '../errors.ts';

/** The newest release whose semantics we model; the default when an experiment names none. */
export const CURRENT_ISTIO = '1.29';

export interface IstioVersion {
  major: number;
  minor: number;
  /** Patch level when given ("1.9.5"); undefined means "the .0 release's behaviour is not assumed". */
  patch?: number;
  text: string;
}

export function parseIstioVersion(text: string | undefined, where?: { file?: string; path?: string }): IstioVersion {
  const v = (text ?? CURRENT_ISTIO).trim();
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m || Number(m[1]) !== 1 || Number(m[2]) < 0) {
    throw new SpilloverError({
      file: where?.file,
      path: where?.path ?? 'istio',
      message: 'not an Istio release this harness knows',
      expected: `"1.x" or "1.x.y" (1.0 to ${CURRENT_ISTIO})`,
      found: JSON.stringify(text),
      fix: `write e.g. istio: "${CURRENT_ISTIO}" or istio: "1.6"`,
    });
  }
  return { major: 1, minor: Number(m[2]), patch: m[3] === undefined ? undefined : Number(m[3]), text: v };
}

const atLeast = (v: IstioVersion, minor: number, patch = 0) => v.minor > minor || (v.minor === minor && (v.patch ?? 0) >= patch);

/** How `outlierDetection.consecutiveErrors` maps (removed by a291ab60276 in 1.7). */
export function consecutiveErrorsMode(v: IstioVersion): '5xx' | 'gateway' | 'ignored' {
  if (v.minor === 0) return '5xx';
  if (v.minor <= 6) return 'gateway';
  return 'ignored';
}

/** LEAST_REQUEST became Istio's default LB in 1.14. */
export const defaultLbPolicy = (v: IstioVersion) => (atLeast(v, 14) ? 'LEAST_REQUEST' : 'ROUND_ROBIN');

/** 1.1–1.2 only set the panic threshold when minHealthPercent > 0 (Envoy's 50% applied otherwise). */
export const panicThresholdAlwaysSet = (v: IstioVersion) => atLeast(v, 3);

/** 1.4 (636b8f0a845) disabled circuit breaking by default; 1.1–1.3 only raised max_retries to 1024. */
export function defaultCircuitBreakers(v: IstioVersion): Record<string, unknown> {
  if (!atLeast(v, 4)) return { max_retries: 1024 };
  const max = 4294967295;
  return { max_connections: max, max_pending_requests: max, max_requests: max, max_retries: max, track_remaining: false };
}

/** Istio <= 1.6 wrote the old top-level Cluster.max_requests_per_connection. */
export const maxRequestsPerConnectionInProtocolOptions = (v: IstioVersion) => atLeast(v, 7);

/** Default outbound retry policy when no VirtualService sets retries (route/retry/retry.go history). */
export function defaultOutboundRetry(v: IstioVersion): Record<string, unknown> | undefined {
  if (v.minor === 0) return undefined;
  const on = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled'];
  if (!atLeast(v, 6)) on.push('resource-exhausted');
  on.push('retriable-status-codes');
  const policy: Record<string, unknown> = {
    num_retries: 2,
    retry_on: on.join(','),
    retry_host_predicate: [previousHostsPredicate()],
    host_selection_retry_max_attempts: atLeast(v, 2) ? 5 : 3,
  };
  // 65aaaf4f8c5 (1.24) dropped 503 behind a flag the 1.21-1.23 compatibility profiles turned off.
  if (!atLeast(v, 24)) policy.retriable_status_codes = [503];
  return policy;
}

/** 1.24 (8d42c6f37fb) added a default inbound retry for resets before the request was sent. */
export const defaultInboundRetry = (v: IstioVersion): Record<string, unknown> | undefined =>
  atLeast(v, 24) ? { num_retries: 2, retry_on: 'reset-before-request' } : undefined;

export const previousHostsPredicate = () => ({
  name: 'envoy.retry_host_predicates.previous_hosts',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
});

/** `retryRemoteLocalities` exists since 1.6; `retryIgnorePreviousHosts` since 1.26. */
export const hasRetryRemoteLocalities = (v: IstioVersion) => atLeast(v, 6);
export const hasRetryIgnorePreviousHosts = (v: IstioVersion) => atLeast(v, 26);

/** ALPN Istio puts on ISTIO_MUTUAL clusters: metadata-exchange ALPN since 1.5 (ALPNInMeshWithMxc). */
export function istioMutualAlpn(v: IstioVersion, h2: boolean): string[] {
  const base = atLeast(v, 5) ? ['istio-peer-exchange', 'istio'] : ['istio'];
  return h2 ? [...base, 'h2'] : base;
}

/**
 * AUTO_PASSTHROUGH got one filter chain per service with an ALPN match in the May-2021 security
 * releases (5c089b95310: 1.8.6, 1.9.5, then 1.10+); before, one chain ran sni_cluster + tcp_proxy.
 */
export function autoPassthroughPerServiceChains(v: IstioVersion): boolean {
  if (atLeast(v, 10)) return true;
  if (v.minor === 9) return atLeast(v, 9, 5);
  if (v.minor === 8) return atLeast(v, 8, 6);
  return false;
}

/** Mesh default `localityLbSetting.enabled: true` (code since 1.6, rendered by Helm in 1.3-1.5). */
export const localityLbOnByDefault = (v: IstioVersion) => atLeast(v, 3);

/** `splitExternalLocalOriginErrors` / `consecutiveLocalOriginFailures` exist since 1.7. */
export const hasLocalOriginSplit = (v: IstioVersion) => atLeast(v, 7);
/** `consecutive5xxErrors` / `consecutiveGatewayErrors` exist since 1.5 (istio/api b5c356968). */
export const hasSplitConsecutiveFields = (v: IstioVersion) => atLeast(v, 5);

/**
 * Virtual host domains without `:port` variants (the route config sets ignore_port_in_host_matching)
 * and with the trailing-dot FQDN: what istiod 1.32-dev generates (`spillover mesh diff`). The
 * release that changed it was not pinned down, so src/mesh applies it from 1.24, the oldest era the
 * oracle checks (src/oracle/era.ts); older eras keep the port-suffixed domains.
 */
export const portlessVirtualHosts = (v: IstioVersion) => atLeast(v, 24);

/** 1.31: PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS defaults to true (upgrade notes), so panic threshold 0 everywhere. */
export const sendsUnhealthyEndpoints = (v: IstioVersion) => atLeast(v, 31);

export { atLeast };

/** DISABLE_SHADOW_HOST_SUFFIX (default true) from 1.28: mirrored requests keep their Host; before, Envoy appends `-shadow`. */
export const disablesShadowHostSuffix = (v: IstioVersion) => atLeast(v, 28);
