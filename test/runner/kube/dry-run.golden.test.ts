/**
 * `--dry-run --backend kind` writes every command, kind config and manifest the run would apply; the
 * whole `kube/` folder is diffed against test/golden/kind/ (UPDATE_GOLDEN=1 rewrites it: review the
 * diff). Every manifest in it must validate against the Kubernetes / Istio schemas.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { readExperiment } from '../../../src/experiment/read-experiment.ts';
import { createKindBackend } from '../../../src/runner/backends/kind.ts';
import { createKubeBackend } from '../../../src/runner/backends/kube.ts';
import type { Backend, BackendContext } from '../../../src/runner/backend.ts';
import { checkObject, type KubeObject } from '../../../src/runner/kube/validate.ts';
import { matchGoldenTree } from '../../golden-file.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const GOLDEN = path.join(ROOT, 'test/golden/kind');

function ctxFor(runDir: string, set: string[] = []): BackendContext {
  return {
    experiment: readExperiment(path.join(ROOT, 'test/fixtures/kube/peak-load.yaml'), { set }),
    runDir,
    runId: 'golden',
    signal: new AbortController().signal,
    log: () => undefined,
    event: () => undefined,
  };
}

async function planInto(b: Backend, set: string[] = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-dry-'));
  const plan = await b.plan(ctxFor(dir, set));
  return { dir, plan };
}

const compareTree = matchGoldenTree;

const yamlFiles = (dir: string, files: string[]) => files.filter((f) => f.endsWith('.yaml') && !f.startsWith('kube/kind/'));
const objectsOf = (file: string) => parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as KubeObject);

describe('kind backend dry run (golden)', () => {
  it('writes the kind configs, every manifest and commands.sh exactly as the golden copy', async () => {
    const { dir, plan } = await planInto(createKindBackend());
    compareTree(dir, path.join(GOLDEN, 'embedded'), plan.files);
    fs.writeFileSync(path.join(dir, 'steps.txt'), plan.steps.join('\n') + '\n');
    compareTree(dir, path.join(GOLDEN, 'embedded-steps'), ['steps.txt']);
  });

  it('commands.sh is valid bash', async () => {
    const { dir } = await planInto(createKindBackend());
    const r = spawnSync('bash', ['-n', path.join(dir, 'kube/commands.sh')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('with load.engine=k6 in the cluster adds the script ConfigMap and the paused k6 Job', async () => {
    const host = await planInto(createKindBackend(), ['load.engine=k6']);
    assert.ok(!host.plan.files.some((f) => f.endsWith('40-k6.yaml')), 'k6 on the host needs nothing in the cluster');
    const { dir, plan } = await planInto(createKindBackend({ k6InCluster: true }), ['load.engine=k6']);
    const k6Files = plan.files.filter((f) => f.endsWith('40-k6.yaml') || f.endsWith('commands.sh'));
    compareTree(dir, path.join(GOLDEN, 'k6'), k6Files);
  });

  it('with k6 parallelism > 1 uses a k6-operator TestRun instead of the Job', async () => {
    const { dir, plan } = await planInto(createKindBackend({ k6InCluster: true, k6Parallelism: 3 }), ['load.engine=k6']);
    const objs = objectsOf(
      path.join(
        dir,
        plan.files.find((f) => f.endsWith('40-k6.yaml'))!,
      ),
    );
    assert.deepEqual(
      objs.map((o) => o.kind),
      ['ConfigMap', 'TestRun'],
    );
    assert.equal((objs[1] as unknown as { spec: { parallelism: number } }).spec.parallelism, 3);
  });

  it('every manifest it writes validates against the Kubernetes / Istio schemas', async () => {
    for (const set of [[], ['load.engine=k6']]) {
      const { dir, plan } = await planInto(createKindBackend({ k6InCluster: true, k6Parallelism: set.length ? 2 : 1 }), set);
      const files = yamlFiles(dir, plan.files);
      assert.ok(files.length >= 10);
      for (const f of files)
        for (const o of objectsOf(path.join(dir, f))) assert.deepEqual(checkObject(o, f), [], `${f}: ${o.kind} ${o.metadata.name}`);
    }
  });

  it('labels every object with managed-by and the run id, and names kind clusters with the run prefix', async () => {
    const { dir, plan } = await planInto(createKindBackend());
    for (const f of yamlFiles(dir, plan.files)) {
      for (const o of objectsOf(path.join(dir, f))) {
        assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'spillover', `${f} ${o.kind}`);
        assert.equal(o.metadata.labels?.['spillover.dev/run'], 'golden', `${f} ${o.kind}`);
      }
    }
    const creates = plan.steps.filter((s) => s.includes('kind create cluster'));
    assert.equal(creates.length, 2);
    for (const s of creates) assert.match(s, /--name spillover-golden-cluster-[12] /);
  });

  it('the kube backend refuses the same context twice', () => {
    assert.throws(
      () => createKubeBackend({ context1: 'one', context2: 'one', installIstio: false }),
      /the two clusters must be different contexts/,
    );
  });

  it('the kube backend uses the given contexts, runs no kind or docker, and installs Istio only when asked', async () => {
    const without = await planInto(createKubeBackend({ context1: 'east', context2: 'west', installIstio: false }));
    assert.ok(!without.plan.steps.some((s) => /kind |docker |istioctl /.test(s)));
    assert.ok(without.plan.steps.some((s) => s.includes('to east (')));
    assert.ok(without.plan.steps.some((s) => s.includes('Service istio-system/istio-eastwestgateway')));
    const withIstio = await planInto(createKubeBackend({ context1: 'east', context2: 'west', installIstio: true }));
    assert.deepEqual(
      withIstio.plan.steps.filter((s) => s.includes('istioctl install')).map((s) => /--context (\S+)/.exec(s)![1]),
      ['east', 'west', 'east', 'west'],
    );
  });
});
