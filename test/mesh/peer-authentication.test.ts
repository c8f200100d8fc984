/**
 * PeerAuthentication on real Envoy (issue 11): sidecars are PERMISSIVE by default, like Istio's (mTLS
 * and plain text both served on the inbound listener); with `mtls.mode: STRICT` plain text to a
 * sidecar's inbound is refused while mTLS from the mesh still works.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { translate } from '../../src/mesh/translate.ts';
import { toYaml } from '../../src/util/yaml.ts';
import { Supervisor } from '../../src/process/processes.ts';
import type { MeshConfig, MeshPlan } from '../../src/mesh/plan.ts';
import { basePlan, peakLoadResources } from './plans.ts';
import { envoyBin, freePort, materialize } from './real-envoy.ts';

const STRICT = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace: 'istio' },
  spec: { mtls: { mode: 'STRICT' } },
};

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The four proxies of a translated plan and two tiny apps, on addresses of this file's own. */
async function boot(extra: Array<Record<string, unknown>>, base: number) {
  const ip = (c: number, h: number) => `127.0.${c}.${base + h}`;
  const port = (i: string) => freePort(i);
  const resources = [...peakLoadResources(), ...extra];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-pa-'));
  const plan: MeshPlan = basePlan(resources, { runDir: dir });
  const gw = ip(2, 0);
  const gwPort = await port(gw);
  const ep = (resources[0] as any).spec.endpoints[0];
  ep.address = gw;
  ep.ports.http = gwPort;
  plan.client.outbound = { ip: ip(1, 0), port: await port(ip(1, 0)) };
  plan.client.admin = { ip: ip(1, 0), port: await port(ip(1, 0)) };
  const [a, b] = plan.workloads;
  for (const [w, i] of [
    [a, ip(1, 1)],
    [b, ip(2, 1)],
  ] as const) {
    w.app = { ip: i, port: await port(i) };
    w.sidecar.inbound = { ip: i, port: await port(i) };
    w.sidecar.admin = { ip: i, port: await port(i) };
  }
  plan.gateway!.listener = { ip: gw, port: gwPort };
  plan.gateway!.admin = { ip: gw, port: await port(gw) };
  await materialize(plan, dir);
  const mesh: MeshConfig = translate(plan);
  const apps: http.Server[] = [];
  for (const [name, w] of [
    ['A', a],
    ['B', b],
  ] as const) {
    const s = http.createServer((_q, res) => {
      res.writeHead(200, { 'x-spillover-service': name });
      res.end(name);
    });
    apps.push(s);
    await new Promise<void>((r) => s.listen(w.app.port, w.app.ip, r));
  }
  const sup = new Supervisor(`pa-${process.pid}-${base}`);
  const bin = await envoyBin();
  for (const [name, bs] of Object.entries(mesh.bootstraps)) {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, toYaml(bs));
    sup.start(`envoy-${name}`, bin, ['-c', file, ...mesh.envoyArgs[name], '-l', 'warning'], { logFile: path.join(dir, `${name}.log`) });
  }
  for (const p of [plan.client, plan.gateway!, ...plan.workloads.map((w) => w.sidecar)]) {
    await until(`${p.name} /ready`, async () => {
      const r = await request(`http://${p.admin.ip}:${p.admin.port}/ready`);
      await r.body.text();
      return r.statusCode === 200 ? true : undefined;
    });
  }
  return {
    plan,
    mesh,
    /** Through the client sidecar: mTLS from the mesh to A's sidecar. */
    viaMesh: async () => {
      const r = await request(`http://${plan.client.outbound.ip}:${plan.client.outbound.port}/work`, { headers: { host: mesh.authority } });
      const body = await r.body.text();
      return `${r.statusCode} ${body}`;
    },
    /** Plain HTTP straight to A's sidecar inbound, as a workload outside the mesh would send it. */
    plainToSidecar: () =>
      new Promise<string>((resolve) => {
        const s = net.connect(a.sidecar.inbound.port, a.sidecar.inbound.ip, () =>
          s.write(`GET /work HTTP/1.1\r\nhost: ${mesh.authority}\r\nconnection: close\r\n\r\n`),
        );
        let data = '';
        s.on('data', (d) => (data += d));
        s.on('close', () => resolve(data ? `answered ${data.slice(0, 12)}` : 'refused'));
        s.on('error', () => resolve('refused'));
        s.setTimeout(10_000, () => {
          s.destroy();
          resolve('timeout');
        });
      }),
    close: async () => {
      await sup.stopAll(2000);
      for (const s of apps) s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('mesh: PeerAuthentication on real Envoy', function () {
  this.timeout(90_000);

  it('default (no PeerAuthentication) is PERMISSIVE like Istio: plain text to a sidecar is served, and so is mTLS', async () => {
    const m = await boot([], 221);
    try {
      assert.equal(await m.plainToSidecar(), 'answered HTTP/1.1 200');
      assert.equal(await m.viaMesh(), '200 A');
    } finally {
      await m.close();
    }
  });

  it('mtls.mode STRICT: plain text to the sidecar is refused, mTLS from the mesh still works', async () => {
    const m = await boot([STRICT], 226);
    try {
      const chains = (m.mesh.bootstraps['a-sidecar'] as any).static_resources.listeners.find(
        (l: any) => l.name === 'virtualInbound',
      ).filter_chains;
      assert.deepEqual(
        chains.map((c: any) => c.filter_chain_match.transport_protocol),
        ['tls'],
      );
      assert.equal(await m.plainToSidecar(), 'refused');
      assert.equal(await m.viaMesh(), '200 A');
    } finally {
      await m.close();
    }
  });
});
