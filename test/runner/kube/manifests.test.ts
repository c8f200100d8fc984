import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import fc from 'fast-check';
import { readExperiment } from '../../../src/experiment/read-experiment.ts';
import { isSpilloverError } from '../../../src/errors.ts';
import { clusterRanges, kindConfigs } from '../../../src/runner/kube/kind-config.ts';
import { federationResources, gatewaysReferenced } from '../../../src/runner/kube/federation.ts';
import { classify } from '../../../src/runner/kube/proxy-log.ts';
import { compact, kubeTopology, lbPriority } from '../../../src/runner/kube/topology.ts';
import { checkObject } from '../../../src/runner/kube/validate.ts';
import { kindClusterName, labelValue, runPrefix } from '../../../src/runner/kube/names.ts';
import { FIXTURES } from './fake-api-server.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const exp = () => readExperiment(path.join(ROOT, 'test/fixtures/kube/peak-load.yaml'));

describe('kind configs', () => {
  it('kind-config/*.yaml are what --backend kind generates for experiments/peak-load.yaml', () => {
    const configs = kindConfigs(readExperiment(path.join(ROOT, 'experiments/peak-load.yaml')).spec);
    for (const [name, cfg] of Object.entries(configs)) {
      assert.deepEqual(
        parse(fs.readFileSync(path.join(ROOT, 'kind-config', `${name}.yaml`), 'utf8')),
        cfg,
        `kind-config/${name}.yaml is out of date`,
      );
    }
  });

  it('pod and service ranges of different clusters never overlap; nodes carry the locality', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), (i, j) => {
        fc.pre(i !== j);
        const a = clusterRanges(i);
        const b = clusterRanges(j);
        return a.podSubnet !== b.podSubnet && a.serviceSubnet !== b.serviceSubnet;
      }),
    );
    const c = kindConfigs(exp().spec)['cluster-2'];
    assert.deepEqual(c.nodes[0].labels, { 'topology.kubernetes.io/region': 'us-west1', 'topology.kubernetes.io/zone': 'us-west1-b' });
  });
});

describe('names', () => {
  it('run prefixes are valid kind names and keep the unique tail of long run ids', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }).filter((s) => /[A-Za-z0-9]/.test(s)),
        (id) => {
          const n = kindClusterName(id, 'cluster-1');
          return /^spillover-[a-z0-9-]*cluster-1$/.test(n) && runPrefix(id).length <= 'spillover-'.length + 24;
        },
      ),
    );
    assert.equal(runPrefix('20261125-203000-ab12'), 'spillover-20261125-203000-ab12');
    assert.match(labelValue('x'.repeat(100)), /^x{63}$/);
  });
});

describe('federation resources', () => {
  it('finds the referenced gateways and fills their addresses, adding the run labels', () => {
    const e = exp();
    assert.deepEqual(gatewaysReferenced(e.spec.resources), ['cluster-2']);
    const objs = federationResources(e.spec, { 'cluster-2': '172.18.0.5' }, { 'spillover.dev/run': 'r1' });
    const se = objs.find((o) => o.kind === 'ServiceEntry') as unknown as {
      spec: { endpoints: Array<{ address: string }> };
      metadata: { labels: Record<string, string> };
    };
    assert.equal(se.spec.endpoints[0].address, '172.18.0.5');
    assert.equal(se.metadata.labels['spillover.dev/run'], 'r1');
    assert.ok(JSON.stringify(e.spec.resources).includes('{{gateway.cluster-2}}'), 'the experiment itself is not modified');
  });

  it('a missing address or an unknown cluster is a SpilloverError with the field path', () => {
    const e = exp();
    assert.throws(
      () => federationResources(e.spec, {}, {}),
      (err: unknown) =>
        isSpilloverError(err) &&
        /resources\[0\]\.spec\.endpoints\[0\]\.address/.test(err.message) &&
        /no east-west gateway address for cluster-2/.test(err.message),
    );
    const bad = structuredClone(e.spec);
    (bad.resources[0] as { spec: { endpoints: Array<{ address: string }> } }).spec.endpoints[0].address = '{{gateway.cluster-3}}';
    assert.throws(
      () => federationResources(bad, { 'cluster-2': '1.2.3.4' }, {}),
      (err: unknown) => isSpilloverError(err) && /expected: \{\{gateway\.cluster-1\}\} or \{\{gateway\.cluster-2\}\}/.test(err.message),
    );
  });
});

describe('proxy log split', () => {
  it('tells access-log lines, outlier events and agent text apart', () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'proxy-stdout.log'), 'utf8').trim().split('\n');
    assert.deepEqual(lines.map(classify), ['other', 'access', 'outlier', 'access', 'other']);
    assert.equal(classify('{"half": '), 'other');
  });
});

describe('topology', () => {
  it('priorities follow istiod: same zone 0 < other zone < other region, compacted', () => {
    assert.equal(lbPriority('r/z/s', 'r/z/s'), 0);
    assert.equal(lbPriority('r/z/s', 'r/z/t'), 1);
    assert.equal(lbPriority('r/z', 'r/y'), 2);
    assert.equal(lbPriority('r/z', 'q/z'), 3);
    assert.deepEqual(compact([0, 3]), [0, 1]);
    assert.deepEqual(compact([3, 3]), [0, 0]);
  });

  it('A (client locality) is priority 0, the gateway endpoint in the other region 1', () => {
    const t = kubeTopology({
      spec: exp().spec,
      admin: { client: '127.0.0.1:1', 'a-sidecar': '127.0.0.1:2', gateway: '127.0.0.1:3', 'b-sidecar': '127.0.0.1:4' },
      localPodIp: '10.10.0.9',
      appPort: 8080,
      gatewayAddress: '172.18.0.5',
      gatewayLocality: 'us-west1/us-west1-b',
    });
    assert.equal(t.clientCluster, 'outbound|80||a.istio.svc.cluster.local');
    assert.deepEqual(t.endpoints['10.10.0.9:8080'], { service: 'A', locality: 'us-east1/us-east1-b', priority: 0 });
    assert.deepEqual(t.endpoints['172.18.0.5:15443'], { service: 'B', locality: 'us-west1/us-west1-b', priority: 1 });
    assert.deepEqual(Object.fromEntries(Object.entries(t.envoys).map(([k, v]) => [k, v.role])), {
      client: 'client',
      'a-sidecar': 'a-sidecar',
      gateway: 'gateway',
      'b-sidecar': 'b-sidecar',
    });
  });
});

describe('schema validation', () => {
  const dep = () => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'a', namespace: 'istio' },
    spec: { selector: { matchLabels: { app: 'a' } }, template: { spec: { containers: [{ name: 's', image: 'i' }] } } },
  });
  it('accepts a valid object and reports a wrong type with file and field path', () => {
    assert.deepEqual(checkObject(dep(), 'f.yaml'), []);
    const bad = dep();
    (bad.spec.template.spec.containers[0] as { image: unknown }).image = 3;
    const p = checkObject(bad, 'f.yaml');
    assert.equal(p.length, 1);
    assert.equal(p[0].file, 'f.yaml');
    assert.equal(p[0].path, 'spec.template.spec.containers.0.image');
  });
  it('checks Istio enums (a ServiceEntry resolution that does not exist)', () => {
    const se = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'a' },
      spec: { hosts: ['a'], resolution: 'STATIK' },
    };
    assert.equal(checkObject(se, 'f').length > 0, true);
    se.spec.resolution = 'STATIC';
    assert.deepEqual(checkObject(se, 'f'), []);
  });
  it('an unknown kind and a TestRun without parallelism are problems', () => {
    assert.match(checkObject({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } }, 'f')[0].message, /no schema known/);
    const tr = {
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'k6' },
      spec: { script: { configMap: { name: 'c', file: 'f.js' } } },
    };
    assert.equal(checkObject(tr, 'f')[0].path, 'spec.parallelism');
  });
});
