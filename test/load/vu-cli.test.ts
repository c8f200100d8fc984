import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './run-cli.ts';
import { startCorpusServer } from './k6-corpus-server.ts';

const FIX = path.resolve('test/fixtures/k6-vu');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'vu-cli-'));

describe('load/vu-cli: spillover load runs k6 scripts the way k6 run does', function () {
  this.timeout(120_000);
  let server: Awaited<ReturnType<typeof startCorpusServer>>;
  before(async () => {
    server = await startCorpusServer();
  });
  after(async () => server.close());
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('a script as argument, k6 flags, --out json=FILE is a file (not the run directory), --summary-export', async () => {
    const d = tmp();
    const json = path.join(d, 'out.json');
    const exp = path.join(d, 'summary.json');
    const runDir = path.join(d, 'run');
    const r = await cli([
      'load',
      path.join(FIX, 'default-one.js'),
      '-e',
      `BASE=${server.origin}`,
      '--vus',
      '2',
      '--iterations',
      '4',
      '--out',
      `json=${json}`,
      '--out',
      runDir,
      '--summary-export',
      exp,
      '--tag',
      'team=a',
      '--no-live',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.ok(fs.statSync(json).isFile());
    assert.ok(!fs.existsSync(path.join(d, 'json=out.json')));
    assert.match(r.out, /iterations\.+: 4 /);
    assert.match(r.out, /vus_max\.+: 2 /);
    const points = fs
      .readFileSync(json, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'Point' && l.metric === 'http_reqs');
    assert.equal(points.length, 4);
    assert.equal(points[0].data.tags.team, 'a');
    assert.equal(JSON.parse(fs.readFileSync(exp, 'utf8')).metrics.iterations.count, 4);
    assert.ok(fs.existsSync(path.join(runDir, 'raw/requests.ndjson')));
  });

  it('exit code 99 when a threshold fails', async () => {
    const r = await cli(['load', path.join(FIX, 'fails.js'), '-e', `BASE=${server.origin}`, '--out', path.join(tmp(), 'run'), '--no-live']);
    assert.equal(r.code, 99, r.err);
    assert.match(r.out, /✗ checks/);
  });

  it('--engine k6 hands k6 the unmodified script, even one the embedded engine refuses (k6/browser)', async () => {
    const bin = tmp();
    const argvFile = path.join(bin, 'argv.json');
    const script = path.join(FIX, 'browser.js');
    const seen = path.join(bin, 'seen.js');
    fs.writeFileSync(
      path.join(bin, 'k6'),
      `#!/usr/bin/env node
const fs = require('fs');
const argv = process.argv.slice(2);
fs.writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(argv));
fs.copyFileSync(argv.at(-1), ${JSON.stringify(seen)});
const out = argv[argv.indexOf('--out') + 1].replace(/^json=/, '');
fs.copyFileSync(${JSON.stringify(path.resolve('test/fixtures/k6/run.json'))}, out);
`,
      { mode: 0o755 },
    );
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    const r = await cli(['load', script, '--engine', 'k6', '--vus', '3', '--out', path.join(tmp(), 'run')]);
    assert.equal(r.code, 0, r.err);
    const argv = JSON.parse(fs.readFileSync(argvFile, 'utf8')) as string[];
    assert.equal(argv[0], 'run');
    assert.equal(argv.at(-1), script);
    assert.equal(argv[argv.indexOf('--vus') + 1], '3');
    const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
    assert.equal(sha(seen), sha(script), 'k6 read the script as written');
  });

  it('--engine k6 without k6 on PATH: exit 2 before anything starts', async () => {
    process.env.PATH = tmp();
    const runDir = path.join(tmp(), 'run');
    const r = await cli(['load', path.join(FIX, 'browser.js'), '--engine', 'k6', '--out', runDir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /no k6 executable found/);
    assert.ok(!fs.existsSync(runDir));
  });
});
