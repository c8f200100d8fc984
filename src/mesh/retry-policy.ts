/**
 * Route retry policy and timeout: Istio's default outbound policy for the release, or the
 * VirtualService's `retries` / `timeout` converted the way route/retry/retry.go ConvertPolicy does.
 */
import type { Json } from './resources.ts';
import type { TranslateContext } from './context.ts';
import { defaultOutboundRetry, hasRetryIgnorePreviousHosts, hasRetryRemoteLocalities } from './istio-version.ts';
import { toEnvoyDuration } from '../util/duration.ts';

export interface RouteTraffic {
  retry_policy?: Json;
  /** Istio's route timeout; "0s" disables Envoy's 15 s default. */
  timeout: string;
  /** Route name: "default" without a VirtualService, else the VirtualService route's name (if any). */
  name?: string;
}

export function outboundRouteTraffic(host: string, ctx: TranslateContext): RouteTraffic {
  const vs = ctx.resources.virtualServiceFor(host);
  if (!vs) return { retry_policy: defaultOutboundRetry(ctx.version), timeout: '0s', name: 'default' };
  const label = ctx.resources.describe(vs);
  const routes: Json[] = vs.spec.http ?? [];
  if (routes.length > 1) {
    ctx.warnings.push(
      `${label}: only spec.http[0] (its retries and timeout) is modelled; the other ${routes.length - 1} http routes are ignored`,
    );
  }
  const r = routes[0] ?? {};
  return {
    retry_policy: r.retries ? convertRetries(r.retries, ctx, `${label}: spec.http[0].retries`) : defaultOutboundRetry(ctx.version),
    timeout: r.timeout ? toEnvoyDuration(r.timeout) : '0s',
    name: typeof r.name === 'string' && r.name ? r.name : undefined,
  };
}

export function convertRetries(retries: Json, ctx: TranslateContext, where: string): Json | undefined {
  if (!(retries.attempts > 0)) return undefined;
  const policy: Json = { ...(defaultOutboundRetry(ctx.version) ?? {}) };
  policy.num_retries = retries.attempts;
  if (retries.retryOn) {
    const on: string[] = [];
    const codes: number[] = [];
    for (const t of String(retries.retryOn)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (/^\d+$/.test(t)) codes.push(Number(t));
      else on.push(t);
    }
    if (codes.length && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
    policy.retry_on = on.join(',');
    if (codes.length) policy.retriable_status_codes = codes;
    else delete policy.retriable_status_codes;
  }
  if (retries.perTryTimeout) policy.per_try_timeout = toEnvoyDuration(retries.perTryTimeout);
  if (retries.backoff) policy.retry_back_off = { base_interval: toEnvoyDuration(retries.backoff) };
  if (retries.retryRemoteLocalities) {
    if (hasRetryRemoteLocalities(ctx.version)) {
      policy.retry_priority = {
        name: 'envoy.retry_priorities.previous_priorities',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
          update_frequency: 2,
        },
      };
    } else {
      ctx.warnings.push(
        `${where}.retryRemoteLocalities has no effect in Istio ${ctx.version.text} (added in 1.6); raise the experiment's istio version or remove it`,
      );
    }
  }
  if (retries.retryIgnorePreviousHosts === false) {
    if (hasRetryIgnorePreviousHosts(ctx.version)) delete policy.retry_host_predicate;
    else
      ctx.warnings.push(
        `${where}.retryIgnorePreviousHosts has no effect in Istio ${ctx.version.text} (added in 1.26); raise the experiment's istio version or remove it`,
      );
  }
  return policy;
}
