import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeRun } from '../../src/analysis/read-run.ts';
import { buildFigures } from '../../src/report/figures.ts';
import { writeReport } from '../../src/report/index.ts';
import { main } from '../../src/cli/main.ts';
import { writeSyntheticRun } from '../fixtures/runs/synthetic-run.ts';
import { fileURLToPath } from 'node:url';
import { matchGoldenText } from '../golden-file.ts';

const GOLDEN = new URL('../golden/report/', import.meta.url);
const STORY = { rps: 40, durationS: 30, ejectAtS: 9.6, ejectForS: 12 } as const;

function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('report/writeReport', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-report-'));
    writeSyntheticRun(dir, STORY);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes every output and is byte-identical when run again, whatever the local time zone', async () => {
    const first = await writeReport(dir);
    const a = readTree(dir);
    const tz = process.env.TZ;
    process.env.TZ = 'Pacific/Chatham';
    try {
      await writeReport(dir);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    const b = readTree(dir);
    for (const f of [
      'summary.json',
      'timeseries.csv',
      'events.csv',
      'requests.csv',
      'report.md',
      'report.html',
      'figures/redirect.vl.json',
      'figures/redirect.svg',
      'figures/redirect.png',
      'figures/outcomes.png',
      'figures/latency.png',
      'figures/ejections.png',
    ]) {
      assert.ok(a.has(f), `missing ${f}`);
    }
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [f, buf] of a) assert.ok(buf.equals(b.get(f)!), `${f} differs between two runs`);
    assert.equal(first.reportPath, path.join(dir, 'report.html'));
    assert.ok(first.files.every((f) => fs.existsSync(f)));
  });

  it('summary.json has the stable keys the issue names, in a fixed order', () => {
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    const keys = Object.keys(s);
    const need = [
      'experiment',
      'runId',
      'backend',
      'requests',
      'successRatio',
      'servedBy',
      'redirectedFraction',
      'events',
      'loadAtFirstEjectionRps',
      'latencyMs',
    ];
    for (const k of need) assert.ok(keys.includes(k), k);
    assert.deepEqual(
      need.map((k) => keys.indexOf(k)),
      need.map((k) => keys.indexOf(k)).sort((x, y) => x - y),
    );
    assert.deepEqual(Object.keys(s.requests), ['total', 'ok', 'failed', 'dropped']);
    assert.deepEqual(Object.keys(s.events), [
      'firstOverflowS',
      'firstEjectionS',
      'redirectOnsetS',
      'redirectEndS',
      'noHealthyUpstreamS',
      'recoveryS',
    ]);
    assert.deepEqual(Object.keys(s.latencyMs), ['p50', 'p95', 'p99', 'max']);
    assert.equal(s.events.firstEjectionS, STORY.ejectAtS);
  });

  it('report.md tells the story in plain words, with the caveats', () => {
    const md = fs.readFileSync(path.join(dir, 'report.md'), 'utf8');
    assert.match(
      md,
      /At 9\.6 s A \(127\.0\.1\.10:8080\) was ejected by client after 1 consecutive 5xx response \(outlierDetection consecutive5xxErrors=1/,
    );
    assert.match(
      md,
      /At 9\.6 s traffic was redirected to B, caused by A ejected by client at 9\.60 s: until 21\.6 s B served 100\.0 % of the requests/,
    );
    assert.match(md, /consecutiveErrors has no effect in Istio 1\.29/);
    assert.match(md, /!\[Offered load and throughput by destination\]\(figures\/redirect\.png\)/);
  });

  it('events.csv and timeseries.csv carry headers and one row per event/bucket', () => {
    const ev = fs.readFileSync(path.join(dir, 'events.csv'), 'utf8').trim().split('\n');
    assert.equal(ev[0], 't_s,kind,envoy,host,service,offered_rps,achieved_rps,source,cause,detail');
    assert.ok(ev.some((l) => l.startsWith('9.6,eject,client,127.0.1.10:8080,A,40,40,outlier-log,')));
    const ts = fs.readFileSync(path.join(dir, 'timeseries.csv'), 'utf8').trim().split('\n');
    // 30 s of load: the automatic bucket is the finest (0.25 s).
    assert.equal(ts.length, 1 + STORY.durationS / 0.25);
    const req = fs.readFileSync(path.join(dir, 'requests.csv'), 'utf8').trim().split('\n');
    assert.equal(req.length, 1 + STORY.rps * STORY.durationS);
  });

  it('vega-lite specs match the golden files (UPDATE_GOLDEN=1 to regenerate, then review the diff)', async () => {
    const { analysis } = await analyzeRun(dir);
    for (const f of buildFigures(analysis)) {
      matchGoldenText(fileURLToPath(new URL(`${f.name}.vl.json`, GOLDEN)), JSON.stringify(f.spec, null, 2) + '\n', `figure ${f.name}`);
    }
  });

  it('`spillover report <run-dir>` prints the report path; a k6-like run without Envoy data gets no ejection panel', async () => {
    const k6dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-report-k6-'));
    const write = process.stdout.write.bind(process.stdout);
    let printed = '';
    try {
      writeSyntheticRun(k6dir, { ...STORY, envoy: false });
      process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
      const code = await main(['node', 'spillover', 'report', k6dir, '--no-png']);
      process.stdout.write = write;
      assert.equal(code, 0);
      assert.match(printed, /report: .*report\.html/);
      assert.ok(!fs.existsSync(path.join(k6dir, 'figures/ejections.vl.json')));
      assert.ok(fs.existsSync(path.join(k6dir, 'figures/redirect.svg')));
      assert.ok(!fs.existsSync(path.join(k6dir, 'figures/redirect.png')));
    } finally {
      process.stdout.write = write;
      fs.rmSync(k6dir, { recursive: true, force: true });
    }
  });
});
