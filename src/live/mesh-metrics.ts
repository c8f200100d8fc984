/**
 * The mesh's state as Prometheus series, next to the driver's k6-style ones on the run's /metrics
 * (loopback only). Names and labels are stable; they are documented in docs/live.md:
 *
 *   spillover_mesh_ejections_total{envoy,host,service}              outlier ejections (the live events')
 *   spillover_mesh_host_ejected{envoy,host,service}                 1 while the host is ejected
 *   spillover_mesh_circuit_breaker_overflows_total{envoy,limit}     Envoy's overflow counters; limit =
 *       pending_or_requests | connections | retries | connection_pools
 *   spillover_mesh_requests_served_total{service,locality}          who served the driver's requests
 *   spillover_mesh_events_total{kind}                               live events by kind
 *   spillover_run_phase{phase}                                      1 for the phase the run is in
 *
 * The driver runs on a thread of its own with its own registry and /metrics on an ephemeral port;
 * this server answers on the user's port with both, so one scrape job sees the whole run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { request } from 'undici';
import { statAcrossClusters } from '../analysis/cluster-name.ts';
import type { Sample } from '../contracts/telemetry.ts';
import type { RequestRecord, RunEvent, ScrapeRecord, TopologyManifest } from '../contracts/raw.ts';
import type { LiveEvent } from './event-feed.ts';

/**
 * Envoy counter → the circuit-breaker limit it counts. Envoy has no separate counter for max_requests:
 * its overflow counts in upstream_rq_pending_overflow too, hence one label for both (DestinationRule
 * http1MaxPendingRequests / http2MaxRequests). upstream_cx_overflow rises even when no request fails
 * (the pool still opens its first connection).
 */
export const OVERFLOW_LIMITS: Record<string, string> = {
  upstream_rq_pending_overflow: 'pending_or_requests',
  upstream_cx_overflow: 'connections',
  upstream_rq_retry_overflow: 'retries',
  upstream_cx_pool_overflow: 'connection_pools',
};

/** The DestinationRule settings behind each limit label, for the live line. */
export const LIMIT_SETTINGS: Record<string, string> = {
  pending_or_requests: 'http1MaxPendingRequests / http2MaxRequests',
  connections: 'maxConnections',
  retries: 'maxRetries',
  connection_pools: 'maxConnectionPools',
};

/** Overflow counters of one Envoy scrape, summed over its clusters, by limit label. */
export function overflowCounters(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stat, limit] of Object.entries(OVERFLOW_LIMITS)) {
    const v = statAcrossClusters(samples, stat);
    if (v !== undefined) out[limit] = v;
  }
  return out;
}

export const PHASES = ['backend-up', 'load', 'load-done', 'backend-down'];

export class MeshMetrics {
  readonly registry = new Registry();
  private readonly ejections = new Counter({
    name: 'spillover_mesh_ejections_total',
    help: 'Hosts ejected by outlier detection, per Envoy that ejected them',
    labelNames: ['envoy', 'host', 'service'],
    registers: [this.registry],
  });
  private readonly ejected = new Gauge({
    name: 'spillover_mesh_host_ejected',
    help: '1 while the host is ejected by this Envoy, 0 after it returned',
    labelNames: ['envoy', 'host', 'service'],
    registers: [this.registry],
  });
  private readonly overflows = new Counter({
    name: 'spillover_mesh_circuit_breaker_overflows_total',
    help: 'Requests or connections refused by a circuit-breaker limit (Envoy overflow counters summed over clusters)',
    labelNames: ['envoy', 'limit'],
    registers: [this.registry],
  });
  private readonly served = new Counter({
    name: 'spillover_mesh_requests_served_total',
    help: 'Driver requests by the service that answered them (none: no service answered) and its locality',
    labelNames: ['service', 'locality'],
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: 'spillover_mesh_events_total',
    help: 'Live events detected so far, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly phase = new Gauge({
    name: 'spillover_run_phase',
    help: '1 for the phase the run is in, 0 for the others',
    labelNames: ['phase'],
    registers: [this.registry],
  });
  private readonly lastCounter = new Map<string, number>();
  private localityOf = new Map<string, string>();
  private envoys = new Set<string>();
  private server?: http.Server;
  private driverPort?: number;

  constructor() {
    for (const p of PHASES) this.phase.set({ phase: p }, 0);
  }

  /** A new run starts (also each repetition of --repeat): its topology names Envoys and localities. */
  reset(topology: TopologyManifest | undefined): void {
    this.lastCounter.clear();
    this.envoys = new Set(Object.keys(topology?.envoys ?? {}));
    this.localityOf = new Map();
    for (const ep of Object.values(topology?.endpoints ?? {}))
      if (!this.localityOf.has(ep.service)) this.localityOf.set(ep.service, ep.locality);
    for (const envoy of this.envoys) for (const limit of Object.values(OVERFLOW_LIMITS)) this.overflows.inc({ envoy, limit }, 0);
    this.driverPort = undefined;
  }

  driverMetricsAt(port: number): void {
    this.driverPort = port;
  }

  onScrape(r: ScrapeRecord): void {
    if (!r.ok || !r.samples || !this.envoys.has(r.target)) return;
    for (const [limit, v] of Object.entries(overflowCounters(r.samples))) {
      const k = `${r.target}|${limit}`;
      const prev = this.lastCounter.get(k) ?? 0;
      // Envoy's counters only grow; a restarted Envoy starts again from 0 and is counted from there.
      if (v > prev) this.overflows.inc({ envoy: r.target, limit }, v - prev);
      this.lastCounter.set(k, v);
    }
  }

  onRequest(r: RequestRecord): void {
    const service = r.service || 'none';
    this.served.inc({ service, locality: this.localityOf.get(service) ?? '' });
  }

  onRunEvent(e: RunEvent): void {
    if (e.kind !== 'phase' || !PHASES.includes(e.what)) return;
    for (const p of PHASES) this.phase.set({ phase: p }, p === e.what ? 1 : 0);
  }

  onEvent(e: LiveEvent): void {
    this.events.inc({ kind: e.kind });
    const labels = { envoy: e.envoy, host: e.host, service: e.service };
    if (e.kind === 'eject') {
      this.ejections.inc(labels);
      this.ejected.set(labels, 1);
    } else if (e.kind === 'uneject') this.ejected.set(labels, 0);
  }

  /** Both registries' text: the mesh's, then the driver thread's (when its endpoint is up). */
  async text(): Promise<string> {
    let driver = '';
    if (this.driverPort !== undefined) {
      try {
        const res = await request(`http://127.0.0.1:${this.driverPort}/metrics`, { headersTimeout: 2000, bodyTimeout: 2000 });
        const body = await res.body.text();
        if (res.statusCode === 200) driver = body;
      } catch {
        // The driver has finished (its endpoint closes with the load): the mesh series stay.
      }
    }
    const mesh = await this.registry.metrics();
    return driver ? `${mesh.replace(/\n*$/, '\n')}${driver}` : mesh;
  }

  async listen(port: number): Promise<number> {
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
        this.text().then(
          (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
          (e: Error) => res.writeHead(500).end(e.message),
        );
      } else res.writeHead(404).end('not found: try /metrics\n');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
