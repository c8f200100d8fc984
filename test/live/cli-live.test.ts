/**
 * The live view through the real command on a terminal (util-linux `script` gives it a pty): event
 * lines above the progress line on the terminal, JSON lines alone on stdout with --events, the chosen
 * metrics port printed; and nothing of it when stderr is not a terminal and --events is not given.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = path.resolve('bin/spillover.js');
const hasScript = () => spawnSync('script', ['--version']).status === 0;
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('live view through the CLI (peak-load, time scale 0.05)', function () {
  this.timeout(240_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-cli-live-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('on a terminal: event lines, the metrics port, and --events JSON alone on stdout', async function () {
    if (!hasScript()) this.skip();
    const jsonl = path.join(tmp, 'events.jsonl');
    const tty = path.join(tmp, 'tty.log');
    const cmd = `${sh(process.execPath)} ${sh(BIN)} experiment peak-load --time-scale 0.05 --events --metrics-port 0 --out ${sh(path.join(tmp, 'runs'))} > ${sh(jsonl)}`;
    const r = await run('script', ['-qfec', cmd, tty]);
    assert.equal(r.code, 0, fs.readFileSync(tty, 'utf8').slice(-2000));
    const term = fs.readFileSync(tty, 'utf8');
    assert.match(term, /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    assert.match(term, /\x1b\[2K\s+\d+\.\d\ds {2}eject {12}client ejected 127\.0\.1\.\d+:15006 \(A\)/, 'the ejection line on the terminal');
    const events = fs
      .readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; t: number; liveAt: number });
    assert.ok(events.some((e) => e.kind === 'eject'));
    const runDir = path.join(tmp, 'runs', fs.readdirSync(path.join(tmp, 'runs'))[0]);
    const csvLines = fs.readFileSync(path.join(runDir, 'events.csv'), 'utf8').trim().split('\n').length - 1;
    assert.equal(events.length, csvLines, 'one JSON line per event of the report');
  });

  it('not a terminal and no --events: no event lines', async () => {
    const r = await run(process.execPath, [BIN, 'experiment', 'peak-load', '--time-scale', '0.05', '--out', path.join(tmp, 'runs2')]);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err + r.out, /ejected|\x1b\[2K/);
    assert.match(r.err, /report: /);
  });
});
