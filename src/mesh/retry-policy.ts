/**
 * Route retry policy and timeout: Istio's default outbound policy for the release, or the
 * VirtualService's `retries` / `timeout` converted the way route/retry/retry.go ConvertPolicy does.
 */
import type { Json } from './resources.ts';
import type { TranslateContext } from './context.ts';
import { defaultOutboundRetry, hasRetryIgnorePreviousHosts, hasRetryRemoteLocalities } from './istio-version.ts';
import { toEnvoyDuration } from '../util/duration.ts';

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
