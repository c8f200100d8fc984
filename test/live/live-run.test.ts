/**
 * A real time-scaled peak-load run watched live: the JSON event lines (--events) equal the report's
 * events.csv, the run's /metrics passes promtool, and a real Prometheus server (Debian package
 * `prometheus`, started through processes.ts) scrapes it and returns the ejection series through its
 * HTTP query API.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { request } from 'undici';
import { LiveSession } from '../../src/live/live-session.ts';
import { Supervisor } from '../../src/process/processes.ts';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { RunManifest } from '../../src/contracts/raw.ts';
import { promtoolAvailable, promtoolCheck } from '../runner/capture/promtool.ts';

const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';
const prometheusAvailable = () => spawnSync(PROMETHEUS, ['--version']).status === 0;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function getJson(url: string): Promise<any> {
  const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  const body = await res.body.text();
  return { status: res.statusCode, body: res.statusCode === 200 ? JSON.parse(body) : body };
}

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

describe('live: events and metrics of a real run (peak-load, time scale 0.1)', function () {
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-live-test-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("prints the report's events as they happen, and Prometheus scrapes the ejection", async function () {
    if (!prometheusAvailable()) this.skip(); // scripts/ensure-test-deps.sh installs it
    const lines: string[] = [];
    const json = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) });
    let metricsPort = 0;
    const session = new LiveSession({ json, metricsPort: 0, onMetricsPort: (p) => (metricsPort = p) });
    await session.open();
    assert.ok(metricsPort > 0, 'the chosen port is reported');

    const promPort = await freePort();
    const cfg = path.join(tmp, 'prometheus.yml');
    fs.writeFileSync(
      cfg,
      `global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\nscrape_configs:\n  - job_name: spillover\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
    );
    const sup = new Supervisor(`live-test-prometheus-${process.pid}`);
    const midRun: string[] = [];
    try {
      sup.start(
        'prometheus',
        PROMETHEUS,
        [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(tmp, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`],
        { logFile: path.join(tmp, 'prometheus.log') },
      );
      const base = `http://127.0.0.1:${promPort}`;
      await until('Prometheus ready', 60_000, async () => ((await request(`${base}/-/ready`)).statusCode === 200 ? true : undefined));

      const sampler = setInterval(() => {
        request(`http://127.0.0.1:${metricsPort}/metrics`)
          .then((r) => r.body.text())
          .then(
            (t) => midRun.push(t),
            () => undefined,
          );
      }, 1000);
      const res = await runExperiment({
        experimentFile: 'experiments/peak-load.yaml',
        timeScale: 0.1,
        outDir: tmp,
        quiet: true,
        metricsPort: 0,
        observer: session,
      }).finally(() => clearInterval(sampler));
      assert.equal(res.exitCode, 0);

      // Live JSON lines == the report's events (time, kind, subject, source, cause).
      const csv = parse(fs.readFileSync(path.join(res.runDir, 'events.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
      const fromCsv = csv.map((r) => [Number(r.t_s), r.kind, r.envoy, r.host, r.service, r.source, r.cause].join(' ')).sort();
      const live = lines.map((l) => JSON.parse(l));
      assert.deepEqual(live.map((e) => [e.t, e.kind, e.envoy, e.host, e.service, e.source, e.cause].join(' ')).sort(), fromCsv);
      const ej = live.find((e) => e.kind === 'eject');
      assert.ok(ej, 'the ejection was printed live');
      assert.ok(ej.liveAt < 12, `printed while the load ran (at ${ej.liveAt} s)`);

      // The exposition (mesh + driver) passes promtool, mid-run and after.
      if (promtoolAvailable()) {
        const during = midRun.find(
          (t) => t.includes('k6_http_reqs_total') && t.includes('spillover_mesh_requests_served_total{service="A"'),
        );
        assert.ok(during, "one /metrics during the load had both the driver's and the mesh's series");
        for (const t of [during, await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text()]) {
          const chk = promtoolCheck(t);
          assert.ok(chk.ok, chk.output);
        }
      }

      // Prometheus has the ejection series, with the Envoy and host that ejected.
      const manifest = JSON.parse(fs.readFileSync(path.join(res.runDir, 'manifest.json'), 'utf8')) as RunManifest;
      const aAddr = Object.entries(manifest.topology!.endpoints).find(([, e]) => e.service === 'A')![0];
      const q = encodeURIComponent('spillover_mesh_ejections_total');
      const result = await until('the ejection series in Prometheus', 30_000, async () => {
        const r = await getJson(`${base}/api/v1/query?query=${q}`);
        const series = (r.body?.data?.result ?? []) as Array<{ metric: Record<string, string>; value: [number, string] }>;
        return series.find((s) => s.metric.host === aAddr && Number(s.value[1]) >= 1) ? series : undefined;
      });
      const s = result.find((x) => x.metric.host === aAddr)!;
      assert.equal(s.metric.envoy, 'client');
      assert.equal(s.metric.service, 'A');
      assert.equal(s.metric.job, 'spillover');
      const phase = await getJson(
        `${base}/api/v1/query?query=${encodeURIComponent('max_over_time(spillover_run_phase{phase="load"}[5m])')}`,
      );
      assert.equal(phase.body.data.result[0]?.value[1], '1', 'the load phase was scraped');
    } finally {
      await sup.stopAll();
      await session.close();
    }
  });
});
