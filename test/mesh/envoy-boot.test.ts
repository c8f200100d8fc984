/**
 * Config acceptance on real Envoy: boot the four proxies of a translated peak-load plan on loopback
 * with two tiny apps, and check from Envoy's own telemetry what the translation promises: A serves
 * first, request ids and app headers pass end to end, an A failure ejects A and B then serves through
 * the gateway over mTLS, stats carry the full cluster name, and the gateway refuses plaintext.
 * (The full topology with capacity models is the local backend's integration test.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { translate } from '../../src/mesh/translate.ts';
import { toYaml } from '../../src/util/yaml.ts';
import { Supervisor } from '../../src/process/processes.ts';
import { createCa } from '../../src/runner/ca.ts';
import type { MeshConfig, MeshPlan } from '../../src/mesh/plan.ts';
import { basePlan, peakLoadResources } from './plans.ts';
import { envoyBin, freePort, materialize } from './real-envoy.ts';

const CLIENT_IP = '127.0.1.241';
const A_IP = '127.0.1.242';
const GW_IP = '127.0.2.241';
const B_IP = '127.0.2.242';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function buildPlan(dir: string): Promise<MeshPlan> {
  const ports = async (ip: string, n: number) => Promise.all(Array.from({ length: n }, () => freePort(ip)));
  const [outbound, clientAdmin] = await ports(CLIENT_IP, 2);
  const [aApp, aInbound, aAdmin] = await ports(A_IP, 3);
  const [gwListener, gwAdmin] = await ports(GW_IP, 2);
  const [bApp, bInbound, bAdmin] = await ports(B_IP, 3);
  const resources = peakLoadResources();
  const ep = (resources[0] as any).spec.endpoints[0];
  ep.address = GW_IP;
  ep.ports.http = gwListener;
  const plan = basePlan(resources, { runDir: dir });
  plan.client.outbound = { ip: CLIENT_IP, port: outbound };
  plan.client.admin = { ip: CLIENT_IP, port: clientAdmin };
  const [a, b] = plan.workloads;
  a.app = { ip: A_IP, port: aApp };
  a.sidecar.inbound = { ip: A_IP, port: aInbound };
  a.sidecar.admin = { ip: A_IP, port: aAdmin };
  b.app = { ip: B_IP, port: bApp };
  b.sidecar.inbound = { ip: B_IP, port: bInbound };
  b.sidecar.admin = { ip: B_IP, port: bAdmin };
  plan.gateway!.listener = { ip: GW_IP, port: gwListener };
  plan.gateway!.admin = { ip: GW_IP, port: gwAdmin };
  return plan;
}

describe('mesh: translated bootstraps on real Envoy', function () {
  this.timeout(60_000);
  let dir: string;
  let plan: MeshPlan;
  let mesh: MeshConfig;
  let sup: Supervisor;
  const apps: http.Server[] = [];
  let aStatus = 200;

  before(async function () {
    const bin = await envoyBin();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-mesh-boot-'));
    plan = await buildPlan(dir);
    await materialize(plan, dir);
    mesh = translate(plan);
    const serve = (service: string, ip: string, port: number, status: () => number) =>
      new Promise<void>((resolve) => {
        const s = http.createServer((req, res) => {
          res.writeHead(status(), {
            'x-spillover-service': service,
            'x-spillover-instance': `${service.toLowerCase()}-0`,
            'x-seen-request-id': String(req.headers['x-request-id']),
          });
          res.end(service);
        });
        apps.push(s);
        s.listen(port, ip, resolve);
      });
    await serve('A', plan.workloads[0].app.ip, plan.workloads[0].app.port, () => aStatus);
    await serve('B', plan.workloads[1].app.ip, plan.workloads[1].app.port, () => 200);

    sup = new Supervisor(`mesh-boot-${process.pid}`);
    for (const [name, b] of Object.entries(mesh.bootstraps)) {
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, toYaml(b));
      sup.start(`envoy-${name}`, bin, ['-c', file, ...mesh.envoyArgs[name], '-l', 'warning'], { logFile: path.join(dir, `${name}.log`) });
    }
    for (const p of [plan.client, plan.gateway!, ...plan.workloads.map((w) => w.sidecar)]) {
      await until(`${p.name} /ready`, async () => {
        const r = await request(`http://${p.admin.ip}:${p.admin.port}/ready`);
        await r.body.text();
        return r.statusCode === 200 ? true : undefined;
      });
    }
  });

  after(async () => {
    await sup?.stopAll(2000);
    for (const s of apps) s.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = async (rid: string) => {
    const r = await request(`http://${plan.client.outbound.ip}:${plan.client.outbound.port}/work`, {
      headers: { host: mesh.authority, 'x-request-id': rid },
    });
    await r.body.text();
    return {
      status: r.statusCode,
      service: r.headers['x-spillover-service'],
      instance: r.headers['x-spillover-instance'],
      seenRid: r.headers['x-seen-request-id'],
    };
  };
  const admin = async (p: { admin: { ip: string; port: number } }, pathname: string) => {
    const r = await request(`http://${p.admin.ip}:${p.admin.port}${pathname}`);
    return r.body.text();
  };

  it('A (priority 0) serves first; request id and app headers pass end to end', async () => {
    const r = await call('rid-first');
    assert.equal(r.status, 200);
    assert.equal(r.service, 'A');
    assert.equal(r.instance, 'a-0');
    assert.equal(r.seenRid, 'rid-first');
    const line = await until('client access log line', async () =>
      fs
        .readFileSync(plan.client.files.accessLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((l) => l.rid === 'rid-first'),
    );
    assert.equal(line.cluster, mesh.clientCluster);
    assert.equal(line.upstream, `${plan.workloads[0].sidecar.inbound.ip}:${plan.workloads[0].sidecar.inbound.port}`);
    assert.deepEqual(Object.keys(line).sort(), [
      'attempts',
      'cluster',
      'code',
      'details',
      'duration',
      'flags',
      'method',
      'path',
      'rid',
      'start',
      'upstream',
    ]);
  });

  it('a 503 from A ejects A (outlier event log) and B then serves through the gateway over mTLS', async () => {
    aStatus = 503;
    const failed = await call('rid-fail');
    assert.equal(failed.status, 503);
    assert.equal(failed.service, 'A');
    const eject = await until('EJECT in the client outlier log', async () => {
      if (!fs.existsSync(plan.client.files.outlierLog)) return undefined;
      return fs
        .readFileSync(plan.client.files.outlierLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((e) => e.action === 'EJECT');
    });
    assert.equal(eject.cluster_name, mesh.clientCluster);
    assert.equal(eject.type, 'CONSECUTIVE_5XX');
    assert.equal(eject.enforced, true);
    let rid = '';
    const served = await until('a response from B', async () => {
      rid = `rid-b-${Date.now()}`;
      const r = await call(rid);
      return r.service === 'B' ? r : undefined;
    });
    assert.equal(served.status, 200);
    assert.equal(served.seenRid, rid);
    const gwLog = await until('gateway TCP access log line', async () => {
      const lines = fs.existsSync(plan.gateway!.files.accessLog)
        ? fs.readFileSync(plan.gateway!.files.accessLog, 'utf8').split('\n').filter(Boolean)
        : [];
      return lines.map((l) => JSON.parse(l)).find((l) => l.sni === 'outbound_.80_._.a.istio.svc.cluster.local');
    });
    assert.equal(gwLog.cluster, 'outbound_.80_._.a.istio.svc.cluster.local');
    assert.deepEqual(Object.keys(gwLog).sort(), [
      'bytes_received',
      'bytes_sent',
      'cluster',
      'duration',
      'flags',
      'sni',
      'start',
      'upstream',
    ]);
    // The gateway passed TLS through: B's sidecar, not the gateway, completed the handshakes.
    const b = plan.workloads[1].sidecar;
    const bStats = await admin(b, '/stats?filter=ssl.handshake$');
    assert.match(bStats, new RegExp(`listener\\.${b.inbound.ip.replaceAll('.', '\\.')}_${b.inbound.port}\\.ssl\\.handshake: [1-9]`));
  });

  it('Prometheus stats carry the full cluster name', async () => {
    const text = await admin(plan.client, '/stats/prometheus');
    assert.match(
      text,
      /envoy_cluster_outlier_detection_ejections_enforced_total\{envoy_cluster_name="outbound\|80\|\|a\.istio\.svc\.cluster\.local"\} [1-9]/,
    );
    assert.match(
      text,
      /envoy_cluster_upstream_rq\{envoy_response_code="503",envoy_cluster_name="outbound\|80\|\|a\.istio\.svc\.cluster\.local"\} [1-9]/,
    );
    assert.match(
      text,
      /envoy_cluster_upstream_rq_xx\{envoy_response_code_class="2",envoy_cluster_name="outbound\|80\|\|a\.istio\.svc\.cluster\.local"\} [1-9]/,
    );
    assert.match(
      text,
      /envoy_cluster_endpoint_rq_total\{envoy_cluster_name="outbound\|80\|\|a\.istio\.svc\.cluster\.local",envoy_endpoint_address="127\.0\.2\.241:\d+"\}/,
    );
    const a = await admin(plan.workloads[0].sidecar, '/stats/prometheus');
    assert.match(a, /envoy_cluster_upstream_rq_total\{envoy_cluster_name="inbound\|80\|\|"\} [1-9]/);
    const gw = await admin(plan.gateway!, '/stats/prometheus');
    assert.match(gw, /envoy_cluster_upstream_cx_total\{envoy_cluster_name="outbound_\.80_\._\.a\.istio\.svc\.cluster\.local"\} [1-9]/);
  });

  /** One HTTP request over TLS through the gateway with the mesh's SNI and ALPN, as a given identity. */
  const tlsProbe = (id: { certChain: string; privateKey: string; rootCert: string }) =>
    new Promise<string>((resolve) => {
      const s = tls.connect({
        host: plan.gateway!.listener.ip,
        port: plan.gateway!.listener.port,
        servername: 'outbound_.80_._.a.istio.svc.cluster.local',
        ALPNProtocols: ['istio-peer-exchange', 'istio'],
        cert: fs.readFileSync(id.certChain),
        key: fs.readFileSync(id.privateKey),
        ca: fs.readFileSync(id.rootCert),
        rejectUnauthorized: false,
      });
      let data = '';
      s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n'));
      s.on('data', (d) => (data += d));
      s.on('error', () => resolve('refused'));
      s.on('close', () => resolve(data.startsWith('HTTP/1.1 200') ? 'served' : 'refused'));
      s.setTimeout(10_000, () => {
        s.destroy();
        resolve('timeout');
      });
    });

  it('behind the gateway, a mesh certificate is served and one from another CA is refused', async () => {
    assert.equal(await tlsProbe(plan.client.identity), 'served');
    const foreign = await createCa(path.join(dir, 'foreign'), { name: 'foreign' });
    assert.equal(await tlsProbe(await foreign.issue({ namespace: 'istio', serviceAccount: 'client' })), 'refused');
  });

  it('the gateway refuses a plaintext client', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const s = net.connect(plan.gateway!.listener.port, plan.gateway!.listener.ip, () =>
        s.write('GET / HTTP/1.1\r\nhost: a.istio.svc.cluster.local\r\n\r\n'),
      );
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('close', () => resolve(data ? `answered: ${data.slice(0, 40)}` : 'closed'));
      s.on('error', () => resolve('closed'));
      s.setTimeout(10_000, () => {
        s.destroy();
        resolve('timeout');
      });
    });
    assert.equal(outcome, 'closed');
  });
});
