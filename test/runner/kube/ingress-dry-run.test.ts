/**
 * The ingress gateway in `--dry-run` of the kind and kube backends: test/fixtures/topology/ingress-mesh.yaml
 * (the ingress task's Gateway and VirtualService, bound to the gateway and the sidecars) renders the
 * istio-ingressgateway IstioOperator and its install, and applies the Gateway with the experiment's
 * resources; every file is diffed against test/golden/kind/topology/ingress-mesh/ (UPDATE_GOLDEN=1
 * rewrites it: review the diff). A client outside the mesh (client.ingress) is the local backend's
 * only, so `up` refuses it before anything runs or is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { readExperiment } from '../../../src/experiment/read-experiment.ts';
import { isSpilloverError } from '../../../src/errors.ts';
import { createKindBackend } from '../../../src/runner/backends/kind.ts';
import { createKubeBackend } from '../../../src/runner/backends/kube.ts';
import type { Backend, BackendContext } from '../../../src/runner/backend.ts';
import { checkObject, type KubeObject } from '../../../src/runner/kube/validate.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const GOLDEN = path.join(ROOT, 'test/golden/kind/topology/ingress-mesh');
const FIXTURE = path.join(ROOT, 'test/fixtures/topology/ingress-mesh.yaml');
const TASK = path.join(ROOT, 'experiments/istio-tasks/ingress.yaml');

const ctxFor = (file: string, runDir: string): BackendContext => ({
  experiment: readExperiment(file),
  runDir,
  runId: 'golden',
  signal: new AbortController().signal,
  log: () => undefined,
  event: () => undefined,
});
const backends: Record<string, () => Backend> = {
  kind: () => createKindBackend(),
  kube: () => createKubeBackend({ contexts: { cluster1: 'ctx-cluster1' }, installIstio: true }),
};
const objectsOf = (file: string) => parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as KubeObject);

function compareTree(actualDir: string, goldenDir: string, files: string[]) {
  if (process.env.UPDATE_GOLDEN) {
    fs.rmSync(goldenDir, { recursive: true, force: true });
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(goldenDir, f)), { recursive: true });
      fs.copyFileSync(path.join(actualDir, f), path.join(goldenDir, f));
    }
    return;
  }
  for (const f of files)
    assert.equal(
      fs.readFileSync(path.join(actualDir, f), 'utf8'),
      fs.readFileSync(path.join(goldenDir, f), 'utf8'),
      `${f} differs from the golden copy (UPDATE_GOLDEN=1 to accept)`,
    );
}

describe('kind/kube dry run of the ingress gateway (golden)', () => {
  for (const mode of ['kind', 'kube'])
    it(`--backend ${mode}: the istio-ingressgateway IstioOperator and install, the Gateway among the resources`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-ingress-dry-'));
      try {
        const plan = await backends[mode]().plan(ctxFor(FIXTURE, dir));
        fs.writeFileSync(path.join(dir, 'steps.txt'), plan.steps.join('\n') + '\n');
        const files = [...plan.files.filter((f) => f.startsWith('kube/cluster1/')), 'steps.txt'];
        compareTree(dir, path.join(GOLDEN, mode), files);
        const [op] = objectsOf(path.join(dir, 'kube/cluster1/13-ingress-gateway.yaml')) as any[];
        assert.deepEqual(op.spec.components.ingressGateways[0].label, { istio: 'ingressgateway', app: 'istio-ingressgateway' });
        assert.ok(plan.steps.some((s) => /install the ingress gateway: istioctl install .*13-ingress-gateway\.yaml/.test(s)));
        const resources = objectsOf(path.join(dir, 'kube/cluster1/30-federation.yaml'));
        const gw = resources.find((o) => o.kind === 'Gateway') as any;
        assert.deepEqual(gw?.spec.selector, { istio: 'ingressgateway' });
        for (const f of files.filter((x) => x.endsWith('.yaml')))
          for (const o of objectsOf(path.join(dir, f))) assert.deepEqual(checkObject(o, f), [], `${f}: ${o.kind} ${o.metadata.name}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

  it('up refuses a client outside the mesh (client.ingress) before any tool runs or any state is written', async () => {
    const calls: string[] = [];
    const b = createKindBackend({
      tools: { run: async (c) => (calls.push(c.cmd), { stdout: '', stderr: '', exitCode: 0 }) },
      preflight: async () => (calls.push('preflight'), []),
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-ingress-up-'));
    try {
      await assert.rejects(
        b.up(ctxFor(TASK, dir)),
        (e: unknown) => isSpilloverError(e) && e.exitCode === 2 && /client\.ingress[\s\S]*--backend local/.test(e.message),
      );
      assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
      assert.deepEqual(calls, []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
