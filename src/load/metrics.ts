/**
 * Live Prometheus view of a run, on loopback only, with names k6's Prometheus remote-write output
 * uses (facts §3.5: counters `k6_<metric>_total`, gauges `k6_<metric>`) and a native
 * `k6_http_req_duration_seconds` histogram so windowed percentiles can be taken with rate().
 * prom-client renders the exposition format; nothing here formats it by hand.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class LoadMetrics {
  readonly registry = new Registry();
  readonly httpReqs = new Counter({
    name: 'k6_http_reqs_total',
    help: 'HTTP requests completed',
    labelNames: ['scenario', 'status'],
    registers: [this.registry],
  });
  readonly httpReqFailed = new Counter({
    name: 'k6_http_req_failed_total',
    help: 'HTTP requests with a status outside 200-399 or no response',
    labelNames: ['scenario'],
    registers: [this.registry],
  });
  readonly iterations = new Counter({
    name: 'k6_iterations_total',
    help: 'Iterations completed',
    labelNames: ['scenario'],
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'k6_dropped_iterations_total',
    help: 'Iterations dropped for want of a free VU',
    labelNames: ['scenario'],
    registers: [this.registry],
  });
  readonly vus = new Gauge({ name: 'k6_vus', help: 'VUs busy running an iteration', labelNames: ['scenario'], registers: [this.registry] });
  readonly vusMax = new Gauge({ name: 'k6_vus_max', help: 'VUs allocated', labelNames: ['scenario'], registers: [this.registry] });
  readonly targetRate = new Gauge({
    name: 'k6_target_iterations_per_second',
    help: 'Iterations the schedule called for in the last second',
    labelNames: ['scenario'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'k6_http_req_duration_seconds',
    help: 'HTTP request duration from send to end (k6 http_req_duration)',
    labelNames: ['scenario'],
    registers: [this.registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  readonly durationIntended = new Histogram({
    name: 'spillover_http_req_duration_from_intended_seconds',
    help: 'HTTP request duration from the scheduled start (free of coordinated omission)',
    labelNames: ['scenario'],
    registers: [this.registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });

  private server?: http.Server;

  /** Listen on 127.0.0.1:`port` (0 = ephemeral); resolves with the bound port. */
  async listen(port: number): Promise<number> {
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
        this.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
          (e: Error) => res.writeHead(500).end(e.message),
        );
      } else res.writeHead(404).end('not found: try /metrics\n');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
