/**
 * Security of the local backend, checked on a real deployment kept up with --keep: every listening
 * socket of every process of the run (admin ports included) is on loopback; the CA's private keys are
 * 0600; the east-west gateway lets in only clients with a certificate of the run's CA (a client with
 * the run's identity gets through to B, plain text and a foreign CA's certificate do not). Load
 * targets off loopback are refused.
 *
 * END-TO-END (real Envoy, time-scaled at 0.02): about 8 s.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { isSpilloverError } from '../../src/errors.ts';
import { resolveTarget } from '../../src/load/loopback.ts';
import { createCa } from '../../src/runner/ca.ts';
import { cleanupStaleProcesses } from '../../src/process/processes.ts';
import { runExperiment } from '../../src/orchestrate/run.ts';
import type { RunResult } from '../../src/orchestrate/run-types.ts';
import { ownRanges, PEAK_LOAD, tmpDir } from './harness.ts';
import { listenersOfPids, markedProcesses } from './leftovers.ts';

const SNI = 'outbound_.80_._.a.istio.svc.cluster.local';
const REQUEST = 'GET /work HTTP/1.1\r\nHost: a.istio.svc.cluster.local\r\nConnection: close\r\n\r\n';

/** Everything the peer sends until it closes (or 3 s pass), or the error that ended the connection. */
function exchange(socket: net.Socket | tls.TLSSocket, ready: string): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    let data = '';
    const done = (error?: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, error });
    };
    const timer = setTimeout(() => done('timeout'), 3000);
    socket.on(ready, () => socket.write(REQUEST));
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('error', (e) => done((e as NodeJS.ErrnoException).code ?? e.message));
    socket.on('close', () => done());
  });
}

function keyFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /key\.pem$/.test(f)).map((f) => path.join(dir, f));
}

describe('hardening: security of the local backend (end-to-end, real Envoy, --keep)', function () {
  this.timeout(90_000);
  let tmp: string;
  let stateDir: string;
  let run: RunResult;
  let gateway: { host: string; port: number };
  const savedStateDir = process.env.SPILLOVER_STATE_DIR;

  before(async () => {
    tmp = tmpDir('security');
    stateDir = path.join(tmp, 'state');
    process.env.SPILLOVER_STATE_DIR = stateDir;
    run = await runExperiment({
      experimentFile: PEAK_LOAD,
      timeScale: 0.02,
      outDir: path.join(tmp, 'out'),
      quiet: true,
      keep: true,
      set: ['expect={}', ...ownRanges(245)],
    });
    assert.equal(run.manifest.outcome, 'ok');
    const gw = run.manifest.topology!.envoys.gateway.admin!.split(':')[0];
    gateway = { host: gw, port: (run.manifest.resolved as { gateway: { port: number } }).gateway.port };
  });

  after(() => {
    cleanupStaleProcesses({ includeKept: true });
    if (savedStateDir === undefined) delete process.env.SPILLOVER_STATE_DIR;
    else process.env.SPILLOVER_STATE_DIR = savedStateDir;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('every listening socket of every process of the run is on loopback, admin ports included', () => {
    const procs = markedProcesses(stateDir);
    const socks = listenersOfPids(procs.map((p) => p.pid));
    // Four Envoys (admin + traffic listeners) and two services: an empty list would prove nothing.
    assert.ok(socks.filter((s) => s.address.endsWith(':15000')).length >= 4, `admin listeners: ${socks.map((s) => s.address).join(', ')}`);
    assert.ok(
      socks.some((s) => s.address === `${gateway.host}:${gateway.port}`),
      'the gateway listener is among them',
    );
    const exposed = socks.filter((s) => !/^127\./.test(s.address) && !/^::ffff:127\./.test(s.address) && !s.address.startsWith('::1:'));
    assert.deepEqual(exposed, [], 'listeners off loopback');
  });

  it('the CA private keys are readable by their owner only while the run is up', () => {
    const keys = keyFiles(path.join(run.runDir, 'certs'));
    assert.ok(keys.some((k) => k.endsWith('root-key.pem')) && keys.length >= 4, `keys: ${keys.join(', ')}`);
    for (const k of keys) assert.equal(fs.statSync(k).mode & 0o777, 0o600, k);
  });

  it("the gateway forwards a client holding the run's identity to B (the control for the refusals below)", async () => {
    const id = path.join(run.runDir, 'certs/istio.client');
    const socket = tls.connect({
      host: gateway.host,
      port: gateway.port,
      servername: SNI,
      ALPNProtocols: ['istio-http/1.1', 'istio', 'http/1.1'],
      cert: fs.readFileSync(path.join(id, 'cert-chain.pem')),
      key: fs.readFileSync(path.join(id, 'key.pem')),
      ca: fs.readFileSync(path.join(run.runDir, 'certs/root-cert.pem')),
      checkServerIdentity: () => undefined, // SPIFFE URI SANs, no DNS names: Envoy checks the SAN, not us
    });
    const { data, error } = await exchange(socket, 'secureConnect');
    assert.match(data, /^HTTP\/1\.1 200/, `response: ${data.slice(0, 200)} (error ${error})`);
    assert.match(data, /x-spillover-service: B/i);
  });

  it('the gateway refuses plain text', async () => {
    const { data, error } = await exchange(net.connect({ host: gateway.host, port: gateway.port }), 'connect');
    assert.doesNotMatch(data, /HTTP\//, `plain text got an HTTP answer (error ${error})`);
  });

  it('the gateway path refuses a client whose certificate comes from another CA', async () => {
    const foreign = await createCa(path.join(tmp, 'foreign-ca'), { name: 'foreign' });
    // Same identity as the real client, so only the issuer differs.
    const id = await foreign.issue({ namespace: 'istio', serviceAccount: 'client' });
    const socket = tls.connect({
      host: gateway.host,
      port: gateway.port,
      servername: SNI,
      ALPNProtocols: ['istio-http/1.1', 'istio', 'http/1.1'],
      cert: fs.readFileSync(id.certChain),
      key: fs.readFileSync(id.privateKey),
      rejectUnauthorized: false,
    });
    const { data, error } = await exchange(socket, 'secureConnect');
    assert.doesNotMatch(data, /HTTP\//, `a foreign-CA client got an HTTP answer (error ${error})`);
  });

  it('load targets off loopback are refused before a packet is sent', async () => {
    for (const host of ['192.0.2.10', '10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0']) {
      await assert.rejects(
        resolveTarget(host, 80, false, '--target'),
        (e: unknown) => isSpilloverError(e) && /loopback/i.test(e.message),
        host,
      );
    }
    assert.equal((await resolveTarget('::ffff:127.0.0.1', 80, false, '--target')).address, '::ffff:127.0.0.1');
  });

  it('`spillover cleanup` ends a kept run completely', () => {
    assert.ok(markedProcesses(stateDir).length >= 6, 'the kept run is up');
    cleanupStaleProcesses({ includeKept: true });
    // SIGKILL is asynchronous: give the kernel a moment, bounded.
    const deadline = Date.now() + 3000;
    while (markedProcesses(stateDir).length && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    assert.deepEqual(
      markedProcesses(stateDir).map((p) => p.cmd),
      [],
    );
  });
});
