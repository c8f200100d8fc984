import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startCapture } from '../../../src/runner/capture.ts';
import type { ClustersRecord, ScrapeRecord } from '../../../src/contracts/raw.ts';
import { SpilloverError } from '../../../src/errors.ts';

const CLUSTERS = {
  cluster_statuses: [
    {
      name: 'svc',
      host_statuses: [
        { address: { socket_address: { address: '127.0.1.10', port_value: 8080 } }, health_status: { eds_health_status: 'HEALTHY' } },
      ],
    },
  ],
};

async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void>; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const readNdjson = <T>(f: string): T[] =>
  fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

describe('capture/startCapture', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-capture-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('scrapes Envoy stats and /clusters, and records a stalled service as gaps without stalling the others', async () => {
    const seen: string[] = [];
    const envoy = await serve((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/stats/prometheus'))
        res.end('# TYPE envoy_cluster_upstream_rq_total counter\nenvoy_cluster_upstream_rq_total{envoy_cluster_name="svc"} 3\n');
      else if (req.url === '/clusters?format=json') res.end(JSON.stringify(CLUSTERS));
      else res.writeHead(404).end();
    });
    const stalled = await serve(() => {
      /* never answers */
    });
    try {
      const cap = startCapture({
        runDir: dir,
        t0Epoch: Date.now(),
        statsIntervalMs: 250,
        targets: [
          { name: 'client', kind: 'envoy', baseUrl: envoy.url },
          { name: 'a', kind: 'service', baseUrl: stalled.url },
        ],
      });
      // Wait for ticks, not for wall time: on a busy machine 1.4 s may hold fewer than four ticks.
      const count = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);
      for (let waited = 0; waited < 15_000; waited += 100) {
        if (count(path.join(dir, 'raw/scrapes/client.ndjson')) >= 4 && count(path.join(dir, 'raw/scrapes/a.ndjson')) >= 4) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const stats = await cap.stop();
      const scrapes = readNdjson<ScrapeRecord>(path.join(dir, 'raw/scrapes/client.ndjson'));
      const clusters = readNdjson<ClustersRecord>(path.join(dir, 'raw/clusters/client.ndjson'));
      const gaps = readNdjson<ScrapeRecord>(path.join(dir, 'raw/scrapes/a.ndjson'));
      const okScrapes = scrapes.filter((s) => s.ok);
      // The timer keeps its pace for every target (a record per tick, ok or gap) whatever the stalled one does.
      assert.ok(
        scrapes.length >= 4 && okScrapes.length >= 1 && scrapes.every((s) => s.target === 'client'),
        JSON.stringify(scrapes.map((s) => s.error ?? 'ok')),
      );
      assert.deepEqual(okScrapes[0].samples, [['envoy_cluster_upstream_rq_total', { envoy_cluster_name: 'svc' }, 3]]);
      assert.equal(clusters.find((c) => c.ok)?.hosts?.[0].address, '127.0.1.10:8080');
      // The stalled target costs only its own samples: every record is a gap, and there are records.
      assert.ok(gaps.length >= 4 && gaps.every((g) => !g.ok && typeof g.error === 'string'));
      for (const recs of [scrapes, gaps]) for (let i = 1; i < recs.length; i++) assert.ok(recs[i].t >= recs[i - 1].t);
      assert.ok(seen.some((u) => u.startsWith('/stats/prometheus?usedonly&filter=')));
      assert.equal(stats.perStream['scrapes/a'].failures, gaps.length);
      assert.equal(stats.failures, gaps.length);
    } finally {
      await envoy.close();
      await stalled.close();
    }
  });

  it('records an endpoint error as a gap with the HTTP status', async () => {
    const broken = await serve((_req, res) => res.writeHead(503).end('no'));
    try {
      const cap = startCapture({
        runDir: dir,
        t0Epoch: Date.now(),
        statsIntervalMs: 50,
        targets: [{ name: 'b', kind: 'service', baseUrl: broken.url }],
      });
      await new Promise((r) => setTimeout(r, 120));
      await cap.stop();
      const recs = readNdjson<ScrapeRecord>(path.join(dir, 'raw/scrapes/b.ndjson'));
      assert.ok(recs.length >= 1);
      assert.match(recs[0].error ?? '', /HTTP 503/);
    } finally {
      await broken.close();
    }
  });

  it('refuses non-loopback targets', () => {
    assert.throws(
      () =>
        startCapture({
          runDir: dir,
          t0Epoch: 0,
          statsIntervalMs: 250,
          targets: [{ name: 'x', kind: 'envoy', baseUrl: 'http://10.0.0.1:15000' }],
        }),
      SpilloverError,
    );
  });
});
