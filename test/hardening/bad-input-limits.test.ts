/** Runs the round-2 bad-input table (bad-input-limits.cases.ts) and the cases that are not a table row. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PEAK_LOAD, peakLoadDoc, runCliInProcess, tmpDir } from './harness.ts';
import { runBadCase } from './bad-case.ts';
import { LIMIT_CASES as CASES } from './bad-input-limits.cases.ts';

describe('hardening: bad input, round 2 (limits, faults, consistency, names, files, flags)', function () {
  let tmp: string;
  const savedStateDir = process.env.SPILLOVER_STATE_DIR;
  before(() => {
    tmp = tmpDir('bad-input-2');
    process.env.SPILLOVER_STATE_DIR = path.join(tmp, 'state');
  });
  after(() => {
    if (savedStateDir === undefined) delete process.env.SPILLOVER_STATE_DIR;
    else process.env.SPILLOVER_STATE_DIR = savedStateDir;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  CASES.forEach((c, i) => {
    it(c.name, () => runBadCase(c, path.join(tmp, `case-${i}`), process.env.SPILLOVER_STATE_DIR!));
  });

  it('an untranslated Istio field (Sidecar ingress) is a named caveat, not silently ignored', async () => {
    const doc = peakLoadDoc();
    (doc.get('resources') as { add(v: unknown): void }).add(
      doc.createNode({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Sidecar',
        metadata: { name: 'default', namespace: 'istio' },
        // Sidecar egress is translated (src/mesh/sidecar-scope.ts); ingress is not.
        spec: { ingress: [{ port: { number: 8080, protocol: 'HTTP', name: 'http' }, defaultEndpoint: '127.0.0.1:8080' }] },
      }),
    );
    const file = path.join(tmp, 'sidecar.yaml');
    fs.writeFileSync(file, doc.toString());
    const res = await runCliInProcess(['run', file, '--dry-run', '--out', path.join(tmp, 'sidecar-results')]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      res.stderr,
      /warning: Sidecar default \(.*resources\[2\]\): spec\.ingress is not modelled by the local backend and has no effect in this run/,
    );
    const runDir = path.join(tmp, 'sidecar-results', fs.readdirSync(path.join(tmp, 'sidecar-results'))[0]);
    assert.match(fs.readFileSync(path.join(runDir, 'plan.json'), 'utf8'), /spec\.ingress is not modelled/);
  });

  it('--engine k6 without k6 on PATH is refused before anything starts', async () => {
    const saved = process.env.PATH;
    const out = path.join(tmp, 'k6-results');
    process.env.PATH = path.join(tmp, 'empty-bin');
    try {
      // Not a dry run: the check is for a real run, which must stop before the run directory exists.
      const res = await runCliInProcess(['run', PEAK_LOAD, '--engine', 'k6', '--out', out]);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /--engine k6 load\.engine: the k6 engine needs a k6 executable on PATH/);
      assert.match(res.stderr, /fix: install k6/);
    } finally {
      process.env.PATH = saved;
    }
    assert.deepEqual(fs.existsSync(out) ? fs.readdirSync(out) : [], [], 'no run directory');
  });
});
