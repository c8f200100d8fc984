/**
 * Habits users bring to the command line, through the real binary (exit codes included): a stray
 * `--`, misspelled names, `validate`, failure reasons of `spillover load`, shell completion.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createCa } from '../../src/runner/ca.ts';

const BIN = path.resolve('bin/spillover.js');

/** The binary, asynchronously (a server in this process must keep answering while it runs). */
function spillover(args: string[], opts: { cwd?: string } = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

const listing = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String).sort() : []);

describe('cli habits', function () {
  // Each spawn of the binary is ~1-4 s of Node start-up on a busy 2-core machine.
  this.timeout(180_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-habits-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a stray -- before flags (the npm form) is accepted, with a hint', async () => {
    const out = path.join(tmp, 'dashdash');
    const r = await spillover(['experiment', 'peak-load', '--', '--time-scale', '0.1', '--dry-run', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /ignoring the "--" before --time-scale: npm needs it/);
    const dir = fs.readdirSync(out)[0];
    assert.match(fs.readFileSync(path.join(out, dir, 'manifest.json'), 'utf8'), /"timeScale": 0.1/);
  });

  it('did you mean: experiment names, experiment files and scenario files', async () => {
    const r1 = await spillover(['experiment', 'peak-lod']);
    assert.equal(r1.code, 2);
    assert.match(r1.err, /no experiment named "peak-lod"[\s\S]*did you mean "peak-load"\?/);
    const r2 = await spillover(['validate', 'experiments/failover-kil.yaml']);
    assert.equal(r2.code, 2);
    assert.match(r2.err, /did you mean experiments\/failover-kill\.yaml\?/);
    const r2b = await spillover(['run', 'peak-lod']);
    assert.equal(r2b.code, 2);
    assert.match(r2b.err, /did you mean experiments\/peak-load\.yaml\?/);
    const r3 = await spillover(['load', '--scenario', 'scenarios/peak-lod.js', '--plan']);
    assert.equal(r3.code, 2);
    assert.match(r3.err, /did you mean scenarios\/peak-load\.js\?/);
    const r3b = await spillover(['load', '--scenario', 'peak-lod', '--plan']);
    assert.equal(r3b.code, 2);
    assert.match(r3b.err, /did you mean scenarios\/peak-load\.js\?/);
    const r4 = await spillover(['validate', 'peak-load', '--set', 'load.scenario=../scenarios/peak_load.js']);
    assert.equal(r4.code, 2);
    assert.match(r4.err, /did you mean \.\.\/scenarios\/peak-load\.js\?/);
    // Nothing close: no guess, just the list.
    const r5 = await spillover(['experiment', 'zzzzzzzz']);
    assert.doesNotMatch(r5.err, /did you mean/);
    assert.match(r5.err, /one of endpoint-updates, failover-kill, peak-load, scale, study-slide, three-cluster/);
  });

  it('validate checks what run checks (experiment, overrides, resources, scenario, port) and writes nothing', async () => {
    const out = path.join(tmp, 'validate-out');
    const before = listing('results');
    const ok = await spillover(['validate', 'peak-load', '--out', out]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /ok: experiments\/peak-load\.yaml \(peak-load\)[\s\S]*resources: \d+ \(ServiceEntry\/a, DestinationRule\/a/);
    const badSet = await spillover([
      'validate',
      'peak-load',
      '--set',
      'resources.DestinationRule/a.spec.trafficPolicy.outlierDetection.consecutive5xxErrors=many',
      '--out',
      out,
    ]);
    assert.equal(badSet.code, 2);
    assert.match(badSet.err, /consecutive5xxErrors/);
    const badKey = await spillover(['validate', 'peak-load', '--set', 'services.A.capacity.concurrensy=2', '--out', out]);
    assert.equal(badKey.code, 2);
    assert.match(badKey.err, /concurrency/);
    const taken = net.createServer();
    const port = await listen(taken);
    try {
      const busy = await spillover(['validate', 'peak-load', '--metrics-port', String(port), '--out', out]);
      assert.equal(busy.code, 2);
      assert.match(busy.err, new RegExp(`--metrics-port: port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      taken.close();
    }
    assert.equal(fs.existsSync(out), false, 'validate created no results directory');
    assert.deepEqual(listing('results'), before);
  });

  it('spillover load names why requests failed: refused, TLS, 5xx, timeout', async () => {
    // A port that was just free: nothing listens there.
    const s0 = net.createServer();
    const refusedPort = await listen(s0);
    await new Promise<void>((r) => s0.close(() => r()));
    const refused = await spillover([
      'load',
      `http://127.0.0.1:${refusedPort}/`,
      '--rate',
      '5',
      '--duration',
      '1s',
      '--no-live',
      '--out',
      path.join(tmp, 'l1'),
    ]);
    assert.match(refused.err, /failed by reason: connection refused 5/);

    const ca = await createCa(path.join(tmp, 'ca'), { name: 'habits' });
    const id = await ca.issue({ namespace: 'default', serviceAccount: 'web', dnsNames: ['localhost'] });
    // A certificate from a CA the driver does not trust: the handshake fails.
    const tlsServer = https.createServer({ cert: fs.readFileSync(id.certChain), key: fs.readFileSync(id.privateKey) }, (_q, s) =>
      s.end('ok'),
    );
    const tlsPort = await listen(tlsServer);
    const fiveXx = http.createServer((q, s) => (q.url === '/slow' ? setTimeout(() => s.end('late'), 3000) : s.writeHead(503).end('no')));
    const httpPort = await listen(fiveXx);
    try {
      const tls = await spillover([
        'load',
        `https://127.0.0.1:${tlsPort}/`,
        '--rate',
        '4',
        '--duration',
        '1s',
        '--no-live',
        '--out',
        path.join(tmp, 'l2'),
      ]);
      assert.match(tls.err, /failed by reason: TLS error 4/);
      const five = await spillover([
        'load',
        `http://127.0.0.1:${httpPort}/`,
        '--rate',
        '4',
        '--duration',
        '1s',
        '--no-live',
        '--out',
        path.join(tmp, 'l3'),
      ]);
      assert.match(five.err, /failed by reason: HTTP 503 \(5xx\) 4/);
      const slow = await spillover([
        'load',
        `http://127.0.0.1:${httpPort}/slow`,
        '--rate',
        '2',
        '--duration',
        '1s',
        '--timeout',
        '200ms',
        '--no-live',
        '--out',
        path.join(tmp, 'l4'),
      ]);
      assert.match(slow.err, /failed by reason: timeout 2/);
    } finally {
      tlsServer.closeAllConnections();
      tlsServer.close();
      fiveXx.closeAllConnections();
      fiveXx.close();
    }
  });

  it('shell completion: bash completes commands, experiment names and flags; zsh script registers', async () => {
    const bash = await spillover(['completion', 'bash']);
    assert.equal(bash.code, 0);
    const script = path.join(tmp, 'c.bash');
    fs.writeFileSync(script, bash.out);
    const complete = (words: string[]) =>
      spawnSync(
        'bash',
        [
          '-c',
          `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _spillover; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      )
        .stdout.trim()
        .split('\n');
    assert.deepEqual(complete(['spillover', 'val']), ['validate']);
    assert.deepEqual(complete(['spillover', 'experiment', 'fail']), ['failover-kill']);
    assert.ok(complete(['spillover', 'experiment', 'peak-load', '--time-']).includes('--time-scale'));
    assert.deepEqual(complete(['spillover', 'doctor', '--backend', 'k']), ['kind', 'kube']);
    assert.deepEqual(complete(['spillover', 'completion', 'z']), ['zsh']);
    const zsh = await spillover(['completion', 'zsh']);
    assert.equal(zsh.code, 0);
    assert.match(zsh.out, /^#compdef spillover/);
    const bad = await spillover(['completion', 'fish']);
    assert.equal(bad.code, 2);
    if (spawnSync('zsh', ['--version']).status !== 0) return; // zsh not installed: the bash half still ran
    const zfile = path.join(tmp, '_spillover');
    fs.writeFileSync(zfile, zsh.out);
    assert.equal(spawnSync('zsh', ['-n', zfile]).status, 0, 'zsh parses the script');
    const reg = spawnSync(
      'zsh',
      ['-f', '-c', `autoload -Uz compinit && compinit -u -d ${tmp}/zcomp; source ${zfile}; print -r -- $_comps[spillover]`],
      { encoding: 'utf8' },
    );
    assert.equal(reg.stdout.trim(), '_spillover');
  });
});
