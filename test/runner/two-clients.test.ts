/**
 * Several clients, each with its own scenario (issue 14): the `clients:` form is read and refused
 * as the rest of an experiment is, and a time-scaled run of experiments/two-clients.yaml records and
 * reports each client's traffic on its own, both clients on the same clock.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSpilloverError, type ProblemDetail } from '../../src/errors.ts';
import { parseExperiment, readExperiment } from '../../src/experiment/read-experiment.ts';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { Summary } from '../../src/contracts/summary.ts';
import { translate } from '../../src/mesh/translate.ts';
import { localMeshPlan, plannedIdentity } from '../../src/runner/backends/local-plan.ts';
import { podAddressesForSlot } from '../../src/runner/backends/local-pods.ts';

const ROOT = path.join(import.meta.dirname, '../..');
const EXAMPLE = path.join(ROOT, 'experiments/two-clients.yaml');
const text = fs.readFileSync(EXAMPLE, 'utf8');

function problemsOf(yaml: string): ProblemDetail[] {
  try {
    parseExperiment(yaml, 'two.yaml', EXAMPLE);
  } catch (e) {
    if (isSpilloverError(e)) return e.problems;
    throw e;
  }
  assert.fail('the experiment was accepted');
}

describe('clients: several callers, each with its own scenario', () => {
  it('reads both clients; client: and load: hold the first one, as code serving one client reads them', () => {
    const exp = readExperiment(EXAMPLE);
    assert.deepEqual(Object.keys(exp.spec.clients ?? {}), ['ramp', 'steady']);
    assert.equal(exp.spec.client.cluster, 'cluster-1');
    assert.equal(exp.spec.load.scenario, '../scenarios/peak-load.js');
    assert.equal(exp.clientScenarios?.steady, path.join(ROOT, 'scenarios/steady.js'));
    assert.deepEqual(
      exp.topology?.clients.map((c) => `${c.name}:${c.envoy}@${c.cluster}/${c.locality}`),
      ['ramp:client-ramp@cluster-1/us-east1/us-east1-b', 'steady:client-steady@cluster-2/us-west1/us-west1-b'],
    );
  });

  it('today\'s client: + load: is one client named "client" with the Envoy "client"', () => {
    const exp = readExperiment(path.join(ROOT, 'experiments/peak-load.yaml'));
    assert.equal(exp.spec.clients, undefined);
    assert.equal(exp.clientScenarios, undefined);
    assert.deepEqual(
      exp.topology?.clients.map((c) => c.envoy),
      ['client'],
    );
  });

  it('refuses clients: beside client: and load:, naming both and how to fix it', () => {
    const [p] = problemsOf(`${text}\nclient: { cluster: cluster-1 }\nload: { scenario: ../scenarios/peak-load.js }\n`);
    assert.equal(p.path, 'client');
    assert.match(p.message, /both forms/);
    assert.match(p.found ?? '', /ramp, steady/);
    assert.match(p.fix ?? '', /clients\.<name>\.load/);
  });

  it('refuses an unknown cluster or node group of a client, with did-you-mean', () => {
    const [c] = problemsOf(text.replace('    cluster: cluster-2\n    load:', '    cluster: cluster-3\n    load:'));
    assert.equal(c.path, 'clients.steady.cluster');
    assert.equal(c.found, '"cluster-3"');
    assert.match(c.fix ?? '', /did you mean "cluster-[12]"\?/);
    const [n] = problemsOf(text.replace('    cluster: cluster-2\n    load:', '    cluster: cluster-2\n    node: west\n    load:'));
    assert.equal(n.path, 'clients.steady.node');
    assert.match(n.fix ?? '', /topology\.clusters\.cluster-2\.nodes\.west/);
  });

  it('refuses a client named twice, and one whose Envoy name another process has', () => {
    const dup = problemsOf(text.replace('  steady:\n    cluster: cluster-2', '  ramp:\n    cluster: cluster-2'));
    assert.match(dup[0].message, /unique|duplicate/i);
    const clash = problemsOf(text.replace('  steady:\n', '  b-sidecar-x:\n').replace('  B:\n', '  client-b-sidecar-x:\n'));
    assert.ok(
      clash.some((p) => p.path === 'clients.b-sidecar-x' && /client-b-sidecar-x/.test(p.message)),
      JSON.stringify(clash),
    );
  });

  it("blames a missing scenario on that client's load.scenario", () => {
    const [p] = problemsOf(text.replace('../scenarios/steady.js', '../scenarios/stedy.js'));
    assert.equal(p.path, 'clients.steady.load.scenario');
    assert.match(p.fix ?? '', /steady\.js/);
  });

  it('the kind backend refuses several clients before anything starts (exit 2, no run directory)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-two-clients-kind-'));
    try {
      await assert.rejects(
        runExperiment({ experimentFile: EXAMPLE, outDir: out, quiet: true, dryRun: true, backend: 'kind' }),
        (e: unknown) => isSpilloverError(e) && e.exitCode === 2 && /renders one load client/.test(e.problems[0].message),
      );
      assert.deepEqual(fs.readdirSync(out), []);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("clients: each sidecar's configuration", () => {
  const planOf = async () => {
    const exp = readExperiment(EXAMPLE);
    const topo = exp.topology!;
    const { plan } = await localMeshPlan({
      spec: exp.spec,
      timing: exp.timing,
      topo,
      ips: podAddressesForSlot(topo, 0, 8),
      runDir: '/run/spillover',
      sourceFile: 'experiments/two-clients.yaml',
      identity: plannedIdentity('/run/spillover/certs'),
    });
    return plan;
  };
  const endpointsOf = (b: any) =>
    b.static_resources.clusters
      .find((c: any) => c.name === 'outbound|80||a.istio.svc.cluster.local')
      .load_assignment.endpoints.flatMap((g: any) => g.lb_endpoints.map((e: any) => `${e.endpoint.address.socket_address.address}`));

  it("each client gets its own cluster's view: cluster-1's caller A and the gateway, cluster-2's caller B alone", async () => {
    const mesh = translate(await planOf());
    assert.deepEqual(endpointsOf(mesh.bootstraps['client-ramp']), ['127.0.1.2', '127.0.2.1']);
    assert.deepEqual(endpointsOf(mesh.bootstraps['client-steady']), ['127.0.2.2']);
    assert.equal(mesh.otherClients?.['client-steady']?.authority, 'a.istio.svc.cluster.local');
  });

  it("a Service whose every pod is out of the endpoints keeps its host for the other cluster's caller (no endpoints)", async () => {
    const plan = await planOf();
    const mesh = translate({ ...plan, workloads: plan.workloads.map((w) => (w.service === 'B' ? { ...w, notReady: true } : w)) });
    assert.deepEqual(endpointsOf(mesh.bootstraps['client-steady']), []);
    assert.deepEqual(endpointsOf(mesh.bootstraps['client-ramp']), ['127.0.1.2', '127.0.2.1']);
  });
});

describe('two clients end to end on the local backend (time-scaled)', function () {
  this.timeout(180_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-two-clients-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("records each client's requests on its own, from its own sidecar, and reports them separately", async () => {
    const res = await runExperiment({ experimentFile: EXAMPLE, timeScale: 0.1, outDir: out, quiet: true });
    const s = res.summary as Summary;
    const lines = (f: string) =>
      fs
        .readFileSync(path.join(res.runDir, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ramp = lines('raw/requests.ndjson');
    const steady = lines('clients/steady/raw/requests.ndjson');
    // Each client's own scenario, in its own file.
    assert.ok(ramp.length > 0 && ramp.every((r) => r.scenario === 'peak'));
    assert.ok(steady.length > 0 && steady.every((r) => r.scenario === 'steady'));
    // The steady caller's schedule, time-scaled: 20/s for 120 s x 0.1 = 240 iterations, each sent or dropped.
    const dropped = lines('clients/steady/raw/load.ndjson').reduce((n, t) => n + Number(t.dropped), 0);
    assert.equal(steady.length + dropped, 240);
    // Same clock: both schedules start at scenario time zero (the ramp's first arrival is due at 1/20 s).
    assert.equal(Math.min(...steady.map((r) => Number(r.intended))), 0);
    assert.equal(Math.min(...ramp.map((r) => Number(r.intended))), 0.05);
    // Per client in summary.json, aggregate over both.
    assert.ok(s.clients);
    assert.equal(s.clients.ramp.requests.total, ramp.length);
    assert.equal(s.clients.steady.requests.total, steady.length);
    assert.equal(s.requests.total, ramp.length + steady.length);
    assert.equal(s.clients.steady.envoy, 'client-steady');
    // cluster-2's caller has only B in its cluster's endpoints: every answer is B's.
    assert.equal(s.clients.steady.servedBy.A, 0);
    const servedOk = steady.filter((r) => Number(r.status) > 0 && Number(r.status) < 400).length;
    assert.deepEqual(s.clients.steady.byInstance, servedOk ? { 'b-0': servedOk } : {});
    assert.deepEqual(s.clients.steady.byLocality, servedOk ? { 'us-west1/us-west1-b': servedOk } : {});
    const okRamp = ramp.filter((r) => Number(r.status) > 0 && Number(r.status) < 400).length;
    assert.equal(s.clients.ramp.successRatio, Math.round((okRamp / ramp.length) * 1000) / 1000);
    // Each client's sidecar is its own Envoy, scraped and listed in the manifest.
    for (const e of ['client-ramp', 'client-steady']) assert.ok(fs.existsSync(path.join(res.runDir, `raw/scrapes/${e}.ndjson`)), e);
    assert.deepEqual(Object.keys(res.manifest.topology?.clients ?? {}), ['ramp', 'steady']);
    const csv = fs.readFileSync(path.join(res.runDir, 'requests.csv'), 'utf8').trim().split('\n');
    assert.match(csv[0], /,client$/);
    assert.equal(csv.filter((l) => l.endsWith(',steady')).length, steady.length);
    assert.equal(csv.filter((l) => l.endsWith(',ramp')).length, ramp.length);
    const md = fs.readFileSync(path.join(res.runDir, 'report.md'), 'utf8');
    assert.match(md, /## Clients/);
    assert.match(md, new RegExp(`\\| steady \\| client-steady \\(cluster-2, us-west1/us-west1-b\\) \\| ${steady.length} \\|`));
    assert.match(md, new RegExp(`\\| ramp \\| client-ramp \\(cluster-1, us-east1/us-east1-b\\) \\| ${ramp.length} \\|`));
  });
});
