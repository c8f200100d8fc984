import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';
import { createCa, removeCaKeys, type Ca } from '../../src/runner/ca.ts';
import { ensureEnvoy } from '../../src/runner/envoy-install.ts';
import type { IdentityFiles } from '../../src/mesh/plan.ts';

const read = async (id: IdentityFiles) => ({
  cert: await fs.readFile(id.certChain),
  key: await fs.readFile(id.privateKey),
  ca: await fs.readFile(id.rootCert),
});

const uriSans = (pem: Buffer) => (new X509Certificate(pem).subjectAltName ?? '').split(', ').filter((s) => s.startsWith('URI:'));

/** Envoy matches the peer's SPIFFE URI SAN; node's default hostname check would look for DNS names. */
const expectSpiffe = (want: string) => (_host: string, cert: tls.PeerCertificate) =>
  cert.subjectaltname?.split(', ').includes(`URI:${want}`) ? undefined : new Error(`peer is not ${want}: ${cert.subjectaltname}`);

describe('runner/ca', () => {
  let tmp: string;
  let ca: Ca;
  let foreign: Ca;
  let server: tls.Server;
  let port: number;
  let serverSawPeer: string[];

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spillover-ca-'));
    [ca, foreign] = await Promise.all([
      createCa(path.join(tmp, 'run'), { name: 'run-1' }),
      createCa(path.join(tmp, 'foreign'), { name: 'foreign' }),
    ]);
    const b = await read(await ca.issue({ namespace: 'istio', serviceAccount: 'b' }));
    serverSawPeer = [];
    server = tls.createServer({ ...b, requestCert: true, rejectUnauthorized: true }, (s) => {
      serverSawPeer.push(s.getPeerCertificate().subjectaltname ?? '');
      s.end('hello\n');
    });
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Settles with what the server sent, or the error; with TLS 1.3 a refused client may see either. */
  const connect = (opts: tls.ConnectionOptions) =>
    new Promise<{ data: string; error?: NodeJS.ErrnoException }>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'outbound_.80_._.b.istio.svc.cluster.local', ...opts });
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('close', () => resolve({ data }));
      s.on('error', (error) => resolve({ data, error }));
    });

  it('issues a cert whose only identity is the SPIFFE URI SAN, for client and server auth', async () => {
    const id = await ca.issue({ namespace: 'istio', serviceAccount: 'a', dnsNames: ['a.istio.svc.cluster.local'] });
    assert.equal(id.spiffe, 'spiffe://cluster.local/ns/istio/sa/a');
    const cert = new X509Certificate(await fs.readFile(id.certChain));
    assert.deepEqual(uriSans(await fs.readFile(id.certChain)), ['URI:spiffe://cluster.local/ns/istio/sa/a']);
    assert.match(cert.subjectAltName ?? '', /DNS:a\.istio\.svc\.cluster\.local/);
    assert.ok(cert.checkIssued(new X509Certificate(await fs.readFile(ca.rootCertPath))));
    assert.equal(cert.ca, false);
    assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.1') && cert.keyUsage.includes('1.3.6.1.5.5.7.3.2'), String(cert.keyUsage));
    assert.ok(new Date(cert.validTo).getTime() - Date.now() <= 25 * 3_600_000, 'short validity');
  });

  it('honours the trust domain', async () => {
    const other = await createCa(path.join(tmp, 'td'), { name: 'td', trustDomain: 'mesh.example' });
    const id = await other.issue({ namespace: 'ns1', serviceAccount: 'sa1' });
    assert.deepEqual(uriSans(await fs.readFile(id.certChain)), ['URI:spiffe://mesh.example/ns/ns1/sa/sa1']);
  });

  it('writes private keys readable by the owner only', async () => {
    const id = await ca.issue({ namespace: 'istio', serviceAccount: 'mode' });
    assert.equal((await fs.stat(id.privateKey)).mode & 0o777, 0o600);
    assert.equal((await fs.stat(path.join(ca.dir, 'root-key.pem'))).mode & 0o777, 0o600);
  });

  it('a server with one identity accepts a mutual-TLS client from the same CA', async () => {
    const a = await ca.issue({ namespace: 'istio', serviceAccount: 'a' });
    const got = await connect({ ...(await read(a)), checkServerIdentity: expectSpiffe('spiffe://cluster.local/ns/istio/sa/b') });
    assert.deepEqual(got, { data: 'hello\n' });
    assert.ok(serverSawPeer.at(-1)?.includes('URI:spiffe://cluster.local/ns/istio/sa/a'));
  });

  it('the server rejects a client whose certificate comes from a foreign CA', async () => {
    const intruder = await read(await foreign.issue({ namespace: 'istio', serviceAccount: 'a' }));
    // The intruder trusts the real root so that only the server's verdict is under test.
    const trusting = { ...intruder, ca: await fs.readFile(ca.rootCertPath), checkServerIdentity: () => undefined };
    const before = serverSawPeer.length;
    const got = await connect(trusting);
    assert.equal(got.data, '');
    assert.equal(serverSawPeer.length, before, 'the foreign client never reached the application');
  });

  it('a client from the same CA refuses a server with a foreign certificate', async () => {
    const a = await read(await ca.issue({ namespace: 'istio', serviceAccount: 'a' }));
    const fake = await read(await foreign.issue({ namespace: 'istio', serviceAccount: 'b' }));
    const impostor = tls.createServer({ ...fake, requestCert: true, rejectUnauthorized: false }, (s) => s.end('gotcha\n'));
    impostor.on('tlsClientError', () => {});
    impostor.listen(0, '127.0.0.1');
    await once(impostor, 'listening');
    try {
      const p = new Promise<void>((resolve, reject) => {
        const s = tls.connect({
          host: '127.0.0.1',
          port: (impostor.address() as AddressInfo).port,
          ...a,
          checkServerIdentity: () => undefined,
        });
        s.on('secureConnect', () => reject(new Error('connected to an impostor')));
        s.on('error', (e: NodeJS.ErrnoException) => (/CERT|VERIFY|SIGNATURE/.test(e.code ?? '') ? resolve() : reject(e)));
      });
      await p;
    } finally {
      impostor.close();
    }
  });

  it('removeCaKeys deletes every private key and keeps the certificates', async () => {
    const dir = path.join(tmp, 'teardown');
    const c = await createCa(dir, { name: 'teardown' });
    const ids = await Promise.all(['x', 'y'].map((sa) => c.issue({ namespace: 'n', serviceAccount: sa })));
    await c.removeCaKeys();
    for (const id of ids) {
      await assert.rejects(fs.access(id.privateKey));
      await fs.access(id.certChain);
    }
    await assert.rejects(fs.access(path.join(dir, 'root-key.pem')));
    await fs.access(c.rootCertPath);
    await removeCaKeys(path.join(tmp, 'does-not-exist'));
  });

  it('real Envoy loads the identity files and, requiring a peer of the trust domain, tells same-CA from foreign-CA clients', async function () {
    this.timeout(120_000);
    const envoy = await ensureEnvoy();
    const b = await ca.issue({ namespace: 'istio', serviceAccount: 'b' });
    const dir = path.join(tmp, 'envoy');
    await fs.mkdir(dir);
    const adminPath = path.join(dir, 'admin');
    const tlsContext = {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      require_client_certificate: true,
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { filename: b.certChain }, private_key: { filename: b.privateKey } }],
        validation_context: {
          trusted_ca: { filename: b.rootCert },
          match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } }],
        },
      },
    };
    const bootstrap = {
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      static_resources: {
        listeners: [
          {
            name: 'mtls',
            address: { socket_address: { address: '127.0.2.1', port_value: 0 } },
            filter_chains: [
              {
                transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: tlsContext },
                filters: [
                  {
                    name: 'envoy.filters.network.echo',
                    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.echo.v3.Echo' },
                  },
                ],
              },
            ],
          },
        ],
      },
    };
    const cfg = path.join(dir, 'envoy.json');
    await fs.writeFile(cfg, JSON.stringify(bootstrap));
    const proc = execa(
      envoy.bin,
      [
        '-c',
        cfg,
        '--concurrency',
        '1',
        '--admin-address-path',
        adminPath,
        '-l',
        'warning',
        '--base-id-path',
        path.join(dir, 'base-id'),
        '--use-dynamic-base-id',
      ],
      { reject: false, all: true },
    );
    try {
      let listener: string | undefined;
      for (let i = 0; i < 300 && !listener; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const admin = await fs.readFile(adminPath, 'utf8').catch(() => '');
        if (!admin) continue;
        const res = await fetch(`http://${admin.trim()}/listeners?format=json`).catch(() => undefined);
        const json = (await res?.json().catch(() => undefined)) as
          { listener_statuses?: Array<{ local_address?: { socket_address?: { port_value?: number } } }> } | undefined;
        const port = json?.listener_statuses?.[0]?.local_address?.socket_address?.port_value;
        if (port) listener = String(port);
      }
      assert.ok(listener, `Envoy did not come up: ${proc.exitCode ?? 'running'}`);
      const talk = (files: { cert: Buffer; key: Buffer }) =>
        new Promise<string>((resolve) => {
          const s = tls.connect({ host: '127.0.2.1', port: Number(listener), ...files, rejectUnauthorized: false }, () => s.write('ping'));
          let data = '';
          s.on('data', (d) => {
            data += d;
            s.end();
          });
          s.on('close', () => resolve(data));
          s.on('error', () => resolve(data));
        });
      assert.equal(await talk(await read(await ca.issue({ namespace: 'istio', serviceAccount: 'a' }))), 'ping');
      assert.equal(await talk(await read(await foreign.issue({ namespace: 'istio', serviceAccount: 'a' }))), '');
    } finally {
      proc.kill('SIGTERM');
      await proc;
    }
  });
});
