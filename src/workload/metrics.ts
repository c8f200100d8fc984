/**
 * The service's own Prometheus metrics, in a registry per instance so that several services can
 * live in one process (tests) without clashing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Outcome = 'served' | 'rejected' | 'fault';

export function createServiceMetrics(
  service: string,
  instance: string,
  state: { inFlight(): number; queued(): number; stalled(): number },
) {
  const registry = new Registry();
  registry.setDefaultLabels({ service, instance });
  // Process memory and event-loop lag: the bench reads the topology's footprint from here.
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges nodejs_active_{handles,requests,resources}_total, which promtool's
  // lint rejects (a _total suffix is for counters). The same counts stay, per type, in the gauges
  // nodejs_active_handles / _requests / _resources, so these three are dropped, not renamed.
  for (const n of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`nodejs_active_${n}_total`);
  const requests = new Counter({
    name: 'spillover_service_requests_total',
    help: 'Requests answered by the service, by outcome (served, rejected = queue full, fault = injected).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const o of ['served', 'rejected', 'fault'] as const) requests.labels(o).inc(0);
  // Gauges read the model at scrape time, so the request path does no metric bookkeeping for them.
  new Gauge({
    name: 'spillover_service_in_flight',
    help: 'Requests holding a concurrency slot.',
    registers: [registry],
    collect() {
      this.set(state.inFlight());
    },
  });
  new Gauge({
    name: 'spillover_service_queue_depth',
    help: 'Requests waiting for a slot.',
    registers: [registry],
    collect() {
      this.set(state.queued());
    },
  });
  new Gauge({
    name: 'spillover_service_stalled',
    help: 'Requests held by an injected stall fault.',
    registers: [registry],
    collect() {
      this.set(state.stalled());
    },
  });
  const serviceTime = new Histogram({
    name: 'spillover_service_time_seconds',
    help: 'Sampled service time of served requests (excludes queueing).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Registered on the first mirrored request only, so a run without a mirror exposes exactly what it did before.
  let shadow: Counter | undefined;
  const countShadow = () => {
    shadow ??= new Counter({
      name: 'spillover_service_shadow_requests_total',
      help: "Requests that were an Envoy mirror's shadow copy (x-envoy-internal: true or a -shadow Host); their answers never reach a client.",
      registers: [registry],
    });
    shadow.inc();
  };
  return { registry, requests, serviceTime, countShadow };
}

/**
 * Envoy sends a mirror's shadow copy through its async client, which marks it `x-envoy-internal: true`
 * and `x-forwarded-for: 192.0.2.2` (the async client's placeholder downstream address), and appends
 * `-shadow` to the Host unless disable_shadow_host_suffix_append (istiod's default from 1.28). The
 * receiving sidecar drops x-envoy-internal (that address is not internal) but keeps the XFF, so the
 * app sees the XFF entry (measured with Envoy 1.40, notes/h14route.md). The load and the sidecars
 * (use_remote_address: false) never add either to primary requests.
 */
export const ENVOY_ASYNC_CLIENT_XFF = '192.0.2.2';

export function isShadowRequest(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['x-envoy-internal'] === 'true' || String(headers.host ?? '').endsWith('-shadow')) return true;
  const xff = headers['x-forwarded-for'];
  return typeof xff === 'string' && xff.split(',').some((a) => a.trim() === ENVOY_ASYNC_CLIENT_XFF);
}
