/**
 * `--control-plane istiod`: istiod's recorded xDS (test/fixtures/oracle/peak-load-xds.json) turned into
 * static bootstraps must keep istiod's traffic settings, lose every SDS/EDS/RDS reference, bind where
 * the local backend sends traffic, and be accepted by the real Envoy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { translate } from '../../src/mesh/translate.ts';
import { toYaml } from '../../src/util/yaml.ts';
import { istiodMeshConfig } from '../../src/oracle/istiod-bootstrap.ts';
import { basePlan, peakLoadResources } from '../mesh/plans.ts';
import { envoyBin, materialize } from '../mesh/real-envoy.ts';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/oracle/peak-load-xds.json');

describe('oracle: istiod xDS as static bootstraps', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-istiod-boot-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps istiod's clusters and routes, binds the listeners here, and Envoy accepts every bootstrap", async () => {
    const plan = basePlan(peakLoadResources(), { runDir: dir });
    await materialize(plan, dir);
    const x = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
    const mesh = istiodMeshConfig(plan, translate(plan), x.istiod, x.istio);
    const text = JSON.stringify(mesh.bootstraps);
    assert.doesNotMatch(text, /sds_config|"ads"|"rds"|"EDS"|ORIGINAL_DST/);
    assert.match(mesh.warnings[0], /istiod's own/);

    const client = mesh.bootstraps.client as any;
    const cluster = client.static_resources.clusters.find((c: any) => c.name === 'outbound|80||a.istio.svc.cluster.local');
    const istiodCluster = x.istiod.client.clusters.find((c: any) => c.name === cluster.name);
    assert.deepEqual(cluster.outlier_detection, istiodCluster.outlier_detection);
    assert.deepEqual(cluster.circuit_breakers, istiodCluster.circuit_breakers);
    const eps = cluster.load_assignment.endpoints.map((g: any) => [
      g.priority ?? 0,
      g.lb_endpoints.map((e: any) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`),
    ]);
    assert.deepEqual(eps, [
      [0, ['127.0.1.10:15006']],
      [1, ['127.0.2.3:15443']],
    ]);
    const [listener] = client.static_resources.listeners;
    assert.deepEqual(listener.address.socket_address, { address: '127.0.1.2', port_value: 15001 });
    const hcm = listener.filter_chains[0].filters[0].typed_config;
    assert.equal(hcm.route_config.name, '80');
    assert.ok(hcm.route_config.virtual_hosts.some((v: any) => v.name === 'a.istio.svc.cluster.local:80'));

    const a = mesh.bootstraps['a-sidecar'] as any;
    assert.deepEqual(
      a.static_resources.listeners.map((l: any) => l.name),
      ['127.0.1.10_15006'],
    );
    assert.deepEqual(
      a.static_resources.clusters.find((c: any) => c.name === 'inbound|8080||').load_assignment.endpoints[0].lb_endpoints[0].endpoint
        .address.socket_address,
      { address: '127.0.1.10', port_value: 8080 },
    );

    const bin = await envoyBin();
    for (const [name, b] of Object.entries(mesh.bootstraps)) {
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, toYaml(b));
      const r = await execa(bin, ['--mode', 'validate', '-c', file, '--disable-hot-restart', '-l', 'error'], { reject: false, all: true });
      assert.equal(r.exitCode, 0, `Envoy rejected ${name}:\n${r.all}`);
    }
  });
});
