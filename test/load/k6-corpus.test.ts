/**
 * The corpus of real k6 scripts (test/fixtures/k6-corpus/manifest.json: source, commit and licence of
 * each) run unchanged by the VU runtime against a loopback stand-in for the hosts they were written
 * for. Only the target host is rewritten (the manifest gives the exact rule). At least 95 % must run
 * with k6's semantics — VU count, iterations within the schedule's bounds, checks, thresholds and exit
 * code — and the rest must be refused before anything starts, for the reason the manifest names.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpilloverError } from '../../src/errors.ts';
import { readScenario } from '../../src/load/scenario.ts';
import { runVuLoad } from '../../src/load/vu/engine.ts';
import { startCorpusServer } from './k6-corpus-server.ts';

interface Expect {
  refused?: string;
  timeScale: number;
  vusMax: number;
  iters: [number, number];
  exit: number;
  exitAny?: boolean;
  errors: number;
  checks?: number;
  requests?: number;
}
interface Entry {
  file: string;
  repo: string;
  path: string;
  commit: string;
  licence: string;
  expect: Expect;
}

const DIR = path.resolve('test/fixtures/k6-corpus');
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as { scripts: Entry[] };
const HOSTS = /https?:\/\/([^/@\s"'`]*@)?(httpbin\.org|quickpizza\.grafana\.com|api\.github\.com|localhost:\d+)/g;

describe('load/k6-corpus: real k6 scripts run unchanged', function () {
  this.timeout(180_000);
  const present = fs.existsSync(path.join(DIR, 'scripts'));
  let server: Awaited<ReturnType<typeof startCorpusServer>>;
  let tree: string;
  const outcome = new Map<string, 'ran' | 'refused'>();

  before(async function () {
    if (!present) this.skip(); // the scripts are not committed (see the .gitignore beside the manifest)
    server = await startCorpusServer();
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-corpus-'));
    fs.cpSync(path.join(DIR, 'scripts'), tree, { recursive: true });
    for (const f of fs.readdirSync(tree, { recursive: true }) as string[]) {
      const full = path.join(tree, f);
      if (/\.(js|ts)$/.test(f))
        fs.writeFileSync(
          full,
          fs.readFileSync(full, 'utf8').replace(HOSTS, (_m, user?: string) => server.origin.replace('//', `//${user ?? ''}`)),
        );
    }
  });
  after(async () => {
    await server?.close();
    if (tree) fs.rmSync(tree, { recursive: true, force: true });
  });

  it('has at least 40 scripts, each with its source recorded', () => {
    assert.ok(manifest.scripts.length >= 40);
    for (const s of manifest.scripts) {
      assert.match(s.commit, /^[0-9a-f]{40}$/);
      assert.ok(s.repo && s.path && s.licence, s.file);
    }
  });

  for (const s of manifest.scripts) {
    it(`${s.file} (${s.repo})`, async () => {
      const e = s.expect;
      const file = path.join(tree, s.file);
      if (e.refused) {
        await assert.rejects(
          readScenario(file, { forceVu: true }),
          (err: unknown) => err instanceof SpilloverError && err.message.includes(e.refused!) && err.exitCode === 2,
        );
        outcome.set(s.file, 'refused');
        return;
      }
      const logs: string[] = [];
      const sc = await readScenario(file, { env: { BASE_URL: server.origin }, timeScale: e.timeScale, forceVu: true });
      const runDir = fs.mkdtempSync(path.join(tree, 'run-'));
      fs.mkdirSync(path.join(runDir, 'raw'));
      const r = await runVuLoad({ scenario: sc, runDir, vuLog: (l, m) => logs.push(`${l}: ${m}`), vuCwd: runDir });
      const errors = logs.filter((l) => l.startsWith('error'));
      assert.equal(errors.length, e.errors, `script errors: ${errors.join('\n')}`);
      const [lo, hi] = e.iters;
      assert.ok(
        r.iterationsCompleted >= lo && r.iterationsCompleted <= hi,
        `full iterations ${r.iterationsCompleted} outside [${lo}, ${hi}]`,
      );
      assert.equal(Number(/vus_max\.+: (\d+)/.exec(r.k6.stdout)?.[1]), e.vusMax, 'vus_max');
      const checks = /checks\.+: [\d.]+% ✓ (\d+) ✗ (\d+)/.exec(r.k6.stdout);
      if (e.checks !== undefined) {
        assert.ok(checks, 'a checks line in the summary');
        const pass = Number(checks[1]),
          fail = Number(checks[2]);
        assert.ok(Math.abs(pass / (pass + fail) - e.checks) < 1e-9, `checks ${pass}/${pass + fail}, expected rate ${e.checks}`);
      }
      if (sc.scenarios.every((x) => x.executor.endsWith('arrival-rate')))
        assert.equal(r.startLagMs.count, r.iterations, 'a start lag for every arrival-rate iteration');
      if (e.requests !== undefined && r.interrupted === 0)
        assert.equal(r.started, e.requests * r.iterationsCompleted, 'requests per iteration');
      const failedThresholds = r.k6.thresholds.filter((t) => !t.ok);
      assert.equal(r.k6.exitCode === 99, failedThresholds.length > 0, 'exit 99 exactly when a threshold failed');
      // Latency thresholds (p(95)<500 on http_req_duration...) depend on how loaded the machine is; an
      // exit 99 caused only by them is accepted, any other difference in the exit code is not.
      const loadDependent =
        failedThresholds.length > 0 &&
        failedThresholds.every(
          (t) => /^(http_req_|iteration_duration|group_duration)/.test(t.metric) && !/^http_req_failed/.test(t.metric),
        );
      if (!e.exitAny && !(loadDependent && e.exit === 0))
        assert.equal(
          r.k6.exitCode,
          e.exit,
          `exit code (failed thresholds: ${failedThresholds.map((t) => `${t.metric} ${t.expression}`).join(', ')})`,
        );
      // Every request is also in Spillover's own record, with intended and actual start.
      const lines = fs.readFileSync(path.join(runDir, 'raw/requests.ndjson'), 'utf8').split('\n').filter(Boolean);
      assert.equal(
        lines.length,
        r.started + (sc.vu!.exportedFunctions.includes('setup') ? lines.filter((l) => JSON.parse(l).scenario === 'setup').length : 0),
      );
      outcome.set(s.file, 'ran');
    });
  }

  it('runs at least 95 % of the corpus; the rest is refused for a network or browser reason', () => {
    const ran = [...outcome.values()].filter((o) => o === 'ran').length;
    assert.equal(outcome.size, manifest.scripts.length, 'every script had an outcome');
    assert.ok(ran / manifest.scripts.length >= 0.95, `${ran} of ${manifest.scripts.length} ran`);
  });
});
