/**
 * The real topology on loopback: four Envoys (client sidecar, A's sidecar, east-west gateway, B's
 * sidecar) and services A and B, configured from experiments/peak-load.yaml. Asserts from Envoy's own
 * telemetry (outlier event log, /clusters) that a failing A is ejected and B then serves, that the
 * gateway lets only clients of the run's CA through, and that nothing is left running afterwards.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { readExperiment } from '../../src/experiment/read-experiment.ts';
import type { BackendContext, Deployment } from '../../src/runner/backend.ts';
import { createLocalBackend } from '../../src/runner/backends/local.ts';
import { createCa } from '../../src/runner/ca.ts';
import { envoyFile } from '../../src/contracts/raw.ts';

function get(connectTo: string, host: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const [ip, port] = connectTo.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port: Number(port), path: '/work', headers: { host }, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readLines = (f: string) =>
  fs.existsSync(f)
    ? fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

describe('local backend: two clusters of real Envoy on loopback', function () {
  this.timeout(90_000);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-local-mesh-'));
  const backend = createLocalBackend();
  let dep: Deployment;
  let host: string;
  const pids: number[] = [];

  before(async () => {
    // Ejections last 60 s x 0.1; the outlier interval ticks every 100 ms.
    const experiment = readExperiment('experiments/peak-load.yaml', { timeScale: 0.1 });
    const ctx: BackendContext = {
      experiment,
      runDir,
      runId: `test-${process.pid}`,
      signal: new AbortController().signal,
      log: () => {},
      event: () => {},
    };
    dep = await backend.up(ctx);
    host = new URL(dep.entry.url).host;
    const state = fs
      .readdirSync(path.join(os.tmpdir(), `spillover-${os.userInfo().uid}`, 'runs'))
      .find((f) => f.startsWith(`test-${process.pid}`));
    if (state)
      pids.push(
        ...(
          JSON.parse(fs.readFileSync(path.join(os.tmpdir(), `spillover-${os.userInfo().uid}`, 'runs', state), 'utf8')) as {
            processes: Array<{ pid: number }>;
          }
        ).processes.map((p) => p.pid),
      );
  });

  after(async () => {
    await backend.down({ keep: false });
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), `process ${pid} still alive after down()`);
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('serves from A while A is healthy, through mTLS, with the request id kept end to end', async () => {
    const res = await get(dep.entry.connectTo!, host);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['x-spillover-service'], 'A');
  });

  it('ejects A on its 5xx (outlier event log and /clusters) and then B serves through the gateway', async () => {
    const aAddr = Object.entries(dep.topology.endpoints).find(([, e]) => e.service === 'A')![0];
    const gwAddr = Object.entries(dep.topology.endpoints).find(([, e]) => e.service !== 'A')![0];
    await dep.fault({ at: '0s', atMs: 0, action: 'service-fault', target: 'A', mode: 'error503', duration: '30s', durationMs: 30_000 });
    const first = await get(dep.entry.connectTo!, host);
    assert.equal(first.status, 503, 'A answers 503 once it is told to fail');

    const eject = await until('an EJECT of A in the client outlier log', () =>
      readLines(envoyFile(runDir, 'client', 'outlier.ndjson')).find((e) => e.action === 'EJECT' && e.upstream_url === aAddr),
    );
    assert.equal(eject.type, 'CONSECUTIVE_5XX');
    assert.equal(eject.enforced, true);

    const admin = dep.topology.envoys.client.admin!;
    const clusters = (await (await fetch(`http://${admin}/clusters?format=json`)).json()) as {
      cluster_statuses: Array<{
        name: string;
        host_statuses?: Array<{
          address: { socket_address: { address: string; port_value: number } };
          health_status: Record<string, unknown>;
        }>;
      }>;
    };
    const cl = clusters.cluster_statuses.find((c) => c.name === dep.topology.clientCluster)!;
    const aHost = cl.host_statuses!.find((h) => `${h.address.socket_address.address}:${h.address.socket_address.port_value}` === aAddr)!;
    assert.equal(aHost.health_status.failed_outlier_check, true, 'Envoy marks A failed_outlier_check');

    const served = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const r = await get(dep.entry.connectTo!, host);
      assert.equal(r.status, 200, `request ${i} after ejection: ${r.status} ${r.body}`);
      served.add(String(r.headers['x-spillover-service']));
    }
    assert.deepEqual([...served], ['B'], 'every request after the ejection is served by B');

    const access = readLines(envoyFile(runDir, 'client', 'access.ndjson'));
    assert.ok(
      access.some((l) => l.upstream === gwAddr && String(l.code) === '200'),
      'the client access log shows 200s from the gateway endpoint',
    );
    const prom = await (await fetch(`http://${admin}/stats/prometheus`)).text();
    assert.match(
      prom,
      /envoy_cluster_outlier_detection_ejections_enforced_total\{envoy_cluster_name="outbound\|80\|\|a\.istio\.svc\.cluster\.local"\} [1-9]/,
    );
  });

  it('the gateway refuses a plain-text client', async () => {
    const gw = Object.keys(dep.topology.endpoints).find((a) => dep.topology.endpoints[a].service !== 'A')!;
    const [ip, port] = gw.split(':');
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect({ host: ip, port: Number(port) }, () => s.write(`GET /work HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      s.setTimeout(3000, () => s.destroy());
    });
    assert.doesNotMatch(answer, /HTTP\/1\.1 200/, 'no HTTP answer for plain text');
  });

  it('the gateway path accepts a client of the run CA and refuses one of another CA', async () => {
    const gw = Object.keys(dep.topology.endpoints).find((a) => dep.topology.endpoints[a].service !== 'A')!;
    const [ip, port] = gw.split(':');
    const sni = `outbound_.80_._.${host}`;
    const handshake = (cert: string, key: string, ca: string) =>
      new Promise<string>((resolve) => {
        const s = tls.connect(
          {
            host: ip,
            port: Number(port),
            servername: sni,
            cert,
            key,
            ca,
            ALPNProtocols: ['istio-peer-exchange', 'istio'],
            checkServerIdentity: () => undefined,
          },
          () => {
            s.write(`GET /work HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
          },
        );
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('close', () => resolve(got));
        s.on('error', (e) => resolve(`error: ${e.message}`));
        s.setTimeout(3000, () => s.destroy());
      });
    const mine = path.join(runDir, 'certs', 'istio.client');
    const ok = await handshake(
      fs.readFileSync(path.join(mine, 'cert-chain.pem'), 'utf8'),
      fs.readFileSync(path.join(mine, 'key.pem'), 'utf8'),
      fs.readFileSync(path.join(runDir, 'certs', 'root-cert.pem'), 'utf8'),
    );
    assert.match(ok, /^HTTP\/1\.1 200/, `a client of the run CA gets through (got: ${ok.slice(0, 80)})`);

    const foreign = await createCa(path.join(runDir, 'foreign-ca'), { name: 'foreign' });
    const id = await foreign.issue({ namespace: 'istio', serviceAccount: 'client' });
    const bad = await handshake(
      fs.readFileSync(id.certChain, 'utf8'),
      fs.readFileSync(id.privateKey, 'utf8'),
      fs.readFileSync(path.join(runDir, 'certs', 'root-cert.pem'), 'utf8'),
    );
    assert.doesNotMatch(bad, /HTTP\/1\.1 200/, 'a client of another CA is refused');
  });
});
