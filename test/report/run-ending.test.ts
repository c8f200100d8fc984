/**
 * Killed and interrupted runs tell the truth (issue 11): the report says first how the run ended, when
 * and what is missing; Ctrl-C during `spillover report` exits 130 and leaves each output complete or
 * absent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from '../../src/report/index.ts';
import { writeSyntheticRun } from '../fixtures/runs/synthetic-run.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STORY = { rps: 40, durationS: 30, ejectAtS: 9.6, ejectForS: 12 } as const;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-ending-'));

/** A synthetic run reshaped into what a run ended `how` leaves: manifest stamps and run events. */
function runThatEnded(how: 'killed' | 'interrupted' | 'ok', dir = tmp()): string {
  writeSyntheticRun(dir, STORY);
  const mf = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
  delete m.outcome;
  delete m.endedAt;
  if (how === 'interrupted') Object.assign(m, { outcome: 'interrupted', exitReason: 'SIGINT', endedAt: '2026-01-01T12:00:21.500Z' });
  if (how === 'ok') Object.assign(m, { outcome: 'ok', endedAt: '2026-01-01T12:00:31.000Z' });
  fs.writeFileSync(mf, JSON.stringify(m));
  // What run.ts writes: the load began, and (only for a finished run) ended.
  const events = [
    { t: 0, kind: 'phase', what: 'backend-up' },
    { t: 0, kind: 'phase', what: 'load' },
  ];
  if (how === 'ok') events.push({ t: 30, kind: 'phase', what: 'load-done' });
  fs.writeFileSync(path.join(dir, 'raw/run-events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  if (how !== 'ok') {
    // The load was cut at 20 s: later requests were never sent.
    const f = path.join(dir, 'raw/requests.ndjson');
    const kept = fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l && JSON.parse(l).sent < 20);
    fs.writeFileSync(f, kept.join('\n') + '\n');
    const ticks = path.join(dir, 'raw/load.ndjson');
    fs.writeFileSync(
      ticks,
      fs
        .readFileSync(ticks, 'utf8')
        .split('\n')
        .filter((l) => l && JSON.parse(l).t <= 20)
        .join('\n') + '\n',
    );
  }
  return dir;
}

describe('report: how the run ended comes first', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const lead = (md: string) => md.slice(0, md.indexOf('## What happened'));

  it('a SIGKILLed run (no outcome in its manifest): killed, when its last data were written, what is missing -- before anything else', async () => {
    const dir = runThatEnded('killed');
    dirs.push(dir);
    const { summary } = await writeReport(dir, { png: false });
    assert.equal(summary.ending.ending, 'killed');
    assert.ok(summary.ending.lastDataS! >= 19.9 && summary.ending.lastDataS! <= 20, `last data ${summary.ending.lastDataS}`);
    assert.match(summary.ending.endedAt!, /^2026-01-01T12:00:(19\.9|20\.0)/);
    const md = fs.readFileSync(path.join(dir, 'report.md'), 'utf8');
    assert.ok(md.indexOf('## What happened') > 0);
    const first = lead(md);
    assert.match(first, /The run was KILLED/);
    assert.match(first, /the rest of the load: it did not finish; the last recorded request was sent at 19\.9\d* s/);
    assert.match(first, /requests in flight at the kill/);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.ok(html.indexOf('The run was KILLED') > 0 && html.indexOf('The run was KILLED') < html.indexOf('<h2>What happened</h2>'));
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.equal(onDisk.ending.ending, 'killed');
  });

  it('an interrupted run: the signal, when it ended, the load it did not run', async () => {
    const dir = runThatEnded('interrupted');
    dirs.push(dir);
    const { summary } = await writeReport(dir, { png: false });
    assert.deepEqual(
      [summary.ending.ending, summary.ending.reason, summary.ending.endedAt],
      ['interrupted', 'SIGINT', '2026-01-01T12:00:21.500Z'],
    );
    const first = lead(fs.readFileSync(path.join(dir, 'report.md'), 'utf8'));
    assert.match(first, /The run was INTERRUPTED \(SIGINT\) before it finished/);
    assert.match(first, /It ended at 2026-01-01T12:00:21\.500Z/);
  });

  it('a completed run says so, with no caveat about its ending', async () => {
    const dir = runThatEnded('ok');
    dirs.push(dir);
    const { summary } = await writeReport(dir, { png: false });
    assert.deepEqual([summary.ending.ending, summary.ending.missing], ['completed', []]);
    const first = lead(fs.readFileSync(path.join(dir, 'report.md'), 'utf8'));
    assert.match(first, /The run completed/);
    assert.doesNotMatch(first, /INTERRUPTED|KILLED|FAILED|Missing from the data/);
  });
});

describe('report: Ctrl-C during `spillover report`', function () {
  this.timeout(120_000);

  /** Each output the report writes, checked for being whole. */
  const whole: Array<[RegExp, (b: Buffer) => boolean]> = [
    [
      /\.json$/,
      (b) => {
        try {
          JSON.parse(b.toString());
          return true;
        } catch {
          return false;
        }
      },
    ],
    [/\.html$/, (b) => b.toString().trimEnd().endsWith('</html>')],
    [/\.svg$/, (b) => b.toString().trimEnd().endsWith('</svg>')],
    [/\.png$/, (b) => b.subarray(-8, -4).toString('latin1') === 'IEND'],
    [/\.md$/, (b) => b.toString().includes('## Files')],
    [/requests\.csv$/, (b) => b.toString().split('\n').filter(Boolean).length === 1 + 40 * 120],
  ];

  it('exits 130; every output is complete or absent; no temporary file is left', async () => {
    const dir = tmp();
    try {
      writeSyntheticRun(dir, { rps: 40, durationS: 120, ejectAtS: 30, ejectForS: 60 });
      const child = spawn(process.execPath, [path.join(REPO, 'bin/spillover.js'), 'report', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
        child.on('exit', (code, signal) => r({ code, signal })),
      );
      // Interrupt once the report is under way: its first output is being written (a count, not a time).
      const deadline = Date.now() + 60_000;
      while (!fs.readdirSync(dir).some((f) => f.endsWith('.tmp') || f === 'summary.json') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGINT');
      const { code, signal } = await exited;
      assert.equal(signal, null, err);
      assert.equal(code, 130, err);
      const outputs: string[] = [];
      for (const f of [
        'summary.json',
        'timeseries.csv',
        'events.csv',
        'requests.csv',
        'report.md',
        'report.html',
        ...(fs.existsSync(path.join(dir, 'figures')) ? fs.readdirSync(path.join(dir, 'figures')).map((x) => `figures/${x}`) : []),
      ]) {
        const p = path.join(dir, f);
        if (!fs.existsSync(p)) continue;
        outputs.push(f);
        for (const [re, ok] of whole) if (re.test(f)) assert.ok(ok(fs.readFileSync(p)), `${f} is half-written`);
      }
      const temps = [
        ...fs.readdirSync(dir),
        ...(fs.existsSync(path.join(dir, 'figures')) ? fs.readdirSync(path.join(dir, 'figures')) : []),
      ].filter((f) => f.endsWith('.tmp'));
      assert.deepEqual(temps, [], 'temporary files left');
      assert.ok(!outputs.includes('report.html'), `the report was interrupted before its end (outputs: ${outputs.join(', ')})`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
