/**
 * JSON access logs. The keys are a contract with the analysis (it joins on `rid` with the load
 * driver's records and reads `flags`/`upstream` to tell overflow from ejection from failover): change
 * them only together with src/analysis.
 */
import type { Json } from './resources.ts';

export const HTTP_ACCESS_LOG_FORMAT = {
  start: '%START_TIME(%s.%3f)%',
  rid: '%REQ(X-REQUEST-ID)%',
  code: '%RESPONSE_CODE%',
  flags: '%RESPONSE_FLAGS%',
  upstream: '%UPSTREAM_HOST%',
  cluster: '%UPSTREAM_CLUSTER%',
  attempts: '%UPSTREAM_REQUEST_ATTEMPT_COUNT%',
  duration: '%DURATION%',
  details: '%RESPONSE_CODE_DETAILS%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(:PATH)%',
} as const;

export const TCP_ACCESS_LOG_FORMAT = {
  start: '%START_TIME(%s.%3f)%',
  upstream: '%UPSTREAM_HOST%',
  cluster: '%UPSTREAM_CLUSTER%',
  duration: '%DURATION%',
  sni: '%REQUESTED_SERVER_NAME%',
  flags: '%RESPONSE_FLAGS%',
  bytes_sent: '%BYTES_SENT%',
  bytes_received: '%BYTES_RECEIVED%',
} as const;

export function fileAccessLog(path: string, format: Record<string, string>): Json {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path,
      log_format: { json_format: { ...format } },
    },
  };
}
