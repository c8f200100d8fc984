/**
 * DestinationRule outlierDetection -> cluster.outlier_detection and the panic threshold
 * (applyOutlierDetection), with the version history of consecutiveErrors and healthy_panic_threshold.
 * Outbound and gateway SNI-DNAT clusters only: Istio never applies outlier detection inbound.
 */
import type { Json } from './resources.ts';
import type { TranslateContext } from './context.ts';
import { consecutiveErrorsMode, hasLocalOriginSplit, hasSplitConsecutiveFields, panicThresholdAlwaysSet } from './istio-version.ts';
import { toEnvoyDuration } from '../util/duration.ts';

export interface OdSource {
  /** "DestinationRule a (file resources[1])" for messages. */
  label: string;
  /** Field path of the policy holding outlierDetection, e.g. "trafficPolicy". */
  path: string;
}

export function applyOutlierDetection(cluster: Json, od: Json | undefined, ctx: TranslateContext, src: OdSource) {
  if (!od) return;
  const v = ctx.version;
  const out: Json = {};
  const field = (f: string) => `${src.path}.outlierDetection.${f}`;
  const noEffect = (f: string, why: string, fix: string) =>
    ctx.warnings.push(`${src.label}: ${field(f)} has no effect in Istio ${v.text} (${why}); ${fix}`);

  if (od.consecutiveErrors !== undefined) {
    const mode = consecutiveErrorsMode(v);
    const n = wrapped(od.consecutiveErrors);
    if (mode === '5xx') out.consecutive_5xx = n;
    else if (mode === 'gateway') {
      // istio/api#617 "Only listen to gateway errors": 500s stop counting, 502/503/504 and local failures eject.
      out.consecutive_gateway_failure = n;
      out.enforcing_consecutive_gateway_failure = 100;
      out.enforcing_consecutive_5xx = 0;
    } else {
      noEffect(
        'consecutiveErrors',
        'ignored since 1.7; Envoy then uses its defaults: 5 consecutive 5xx eject, gateway failures are not enforced',
        'use consecutive5xxErrors or consecutiveGatewayErrors',
      );
    }
  }

  // Since 1.7 Istio always turns success-rate ejection off (13e83df7707).
  if (v.minor >= 7) out.enforcing_success_rate = 0;

  for (const [f, envoyField, enforcing] of [
    ['consecutive5xxErrors', 'consecutive_5xx', 'enforcing_consecutive_5xx'],
    ['consecutiveGatewayErrors', 'consecutive_gateway_failure', 'enforcing_consecutive_gateway_failure'],
  ] as const) {
    if (od[f] === undefined) continue;
    if (!hasSplitConsecutiveFields(v)) {
      noEffect(f, 'added in 1.5', "use consecutiveErrors in this release, or raise the experiment's istio version");
      continue;
    }
    const n = wrapped(od[f]);
    out[envoyField] = n;
    out[enforcing] = n > 0 ? 100 : 0;
  }

  if (od.interval) out.interval = toEnvoyDuration(od.interval);
  if (od.baseEjectionTime) out.base_ejection_time = toEnvoyDuration(od.baseEjectionTime);
  if (od.maxEjectionPercent > 0) out.max_ejection_percent = od.maxEjectionPercent;

  if (od.splitExternalLocalOriginErrors || od.consecutiveLocalOriginFailures !== undefined) {
    if (!hasLocalOriginSplit(v)) {
      for (const f of ['splitExternalLocalOriginErrors', 'consecutiveLocalOriginFailures'])
        if (od[f] !== undefined) noEffect(f, 'added in 1.7', "remove it or raise the experiment's istio version");
    } else if (od.splitExternalLocalOriginErrors) {
      out.split_external_local_origin_errors = true;
      out.enforcing_local_origin_success_rate = 0;
      const n = wrapped(od.consecutiveLocalOriginFailures ?? 0);
      if (n > 0) {
        out.consecutive_local_origin_failure = n;
        out.enforcing_consecutive_local_origin_failure = 100;
      }
    }
  }
  if (od.outlierDetectionHttpErrorCodes !== undefined) {
    ctx.warnings.push(
      `${src.label}: ${field('outlierDetectionHttpErrorCodes')} is not modelled by this harness (Istio 1.31+ maps it to an HttpProtocolOptions error_matcher); only 5xx and gateway errors count`,
    );
  }
  cluster.outlier_detection = out;

  const minHealth = Number(od.minHealthPercent ?? 0);
  if (panicThresholdAlwaysSet(v) || minHealth > 0) {
    cluster.common_lb_config = { ...(cluster.common_lb_config ?? {}), healthy_panic_threshold: { value: minHealth } };
  }
}

/** UInt32Value fields may be written as plain numbers or {value: n}. */
const wrapped = (x: Json): number => (typeof x === 'object' && x !== null ? Number(x.value ?? 0) : Number(x));
