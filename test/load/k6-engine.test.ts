import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { k6TestRun, runK6 } from '../../src/load/k6-engine.ts';
import { SpilloverError } from '../../src/errors.ts';

const FIXTURE = path.resolve('test/fixtures/k6/run.json');

/** A fake `k6` on a temp PATH: records its argv and writes the fixture where --out json= points. */
function fakeK6(exitCode: number): { binDir: string; argvFile: string } {
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-k6-'));
  const argvFile = path.join(binDir, 'argv.json');
  fs.writeFileSync(
    path.join(binDir, 'k6'),
    `#!/usr/bin/env node
const fs = require('fs');
const argv = process.argv.slice(2);
fs.writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(argv));
const out = argv[argv.indexOf('--out') + 1].replace(/^json=/, '');
fs.copyFileSync(${JSON.stringify(FIXTURE)}, out);
console.log('fake k6 done');
process.exit(${exitCode});
`,
    { mode: 0o755 },
  );
  return { binDir, argvFile };
}

describe('load/k6-engine: k6 run --out json, then import', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('runs k6 from PATH with json output, env, the loopback guard, and imports the result', async () => {
    const { binDir, argvFile } = fakeK6(0);
    process.env.PATH = `${binDir}${path.delimiter}${savedPath}`;
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-run-'));
    const res = await runK6({ script: 'scenarios/peak-load.js', runDir, env: { TARGET: 'http://127.0.0.1:8080' } });
    const argv = JSON.parse(fs.readFileSync(argvFile, 'utf8')) as string[];
    assert.equal(argv[0], 'run');
    assert.equal(argv[argv.indexOf('--out') + 1], `json=${path.join(runDir, 'raw/k6-output.json')}`);
    assert.equal(argv[argv.indexOf('--env') + 1], 'TARGET=http://127.0.0.1:8080');
    assert.ok(argv[argv.indexOf('--blacklist-ip') + 1].split(',').includes('128.0.0.0/1'));
    assert.equal(argv.at(-1), 'scenarios/peak-load.js');
    assert.equal(res.exitCode, 0);
    assert.equal(res.requests, 3);
    assert.equal(fs.readFileSync(path.join(runDir, 'raw/requests.ndjson'), 'utf8').trim().split('\n').length, 3);
    assert.match(fs.readFileSync(path.join(runDir, 'raw/k6.log'), 'utf8'), /fake k6 done/);
  });

  it('treats exit code 99 as valid results with failed thresholds, other codes as errors', async () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-run-'));
    process.env.PATH = `${fakeK6(99).binDir}${path.delimiter}${savedPath}`;
    const res = await runK6({ script: 'x.js', runDir, allowNonLoopback: true });
    assert.equal(res.thresholdsFailed, true);
    assert.equal(res.argv.includes('--blacklist-ip'), false);
    process.env.PATH = `${fakeK6(107).binDir}${path.delimiter}${savedPath}`;
    await assert.rejects(runK6({ script: 'x.js', runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'k6-run-')) }), /k6 exited with code 107/);
  });

  it('says what to do when there is no k6', async () => {
    process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-path-'));
    await assert.rejects(
      runK6({ script: 'x.js', runDir: os.tmpdir() }),
      (e: unknown) => e instanceof SpilloverError && /--engine embedded/.test(e.message),
    );
  });

  it('describes a k6-operator TestRun with json output and env for the cluster backends', () => {
    const tr = k6TestRun({
      name: 'peak',
      namespace: 'load',
      configMap: 'peak-script',
      file: 'peak-load.js',
      parallelism: 2,
      env: { TARGET: 'http://a' },
    });
    assert.equal(tr.kind, 'TestRun');
    assert.equal(tr.spec.parallelism, 2);
    assert.deepEqual(tr.spec.script.configMap, { name: 'peak-script', file: 'peak-load.js' });
    assert.match(tr.spec.arguments, /--out json=\S+ --env TARGET=http:\/\/a/);
  });
});
