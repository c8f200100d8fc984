/**
 * The shared root of trust of a multi-network mesh: one root CA per run, and per cluster an
 * intermediate CA plugged into istiod as the `cacerts` secret -- the four files of Istio's plug-in CA
 * procedure (tools/certs/Makefile.selfsigned.mk; facts istio-translation §8). A per-run root means a
 * leftover cluster of an earlier run can never be trusted by this run's proxies.
 *
 * RSA rather than ECDSA because it is what Istio's own tooling generates and every istiod release
 * accepts; the keys live only in the Secret (and, on a dry run, nowhere: see `planned`).
 */
// @peculiar/x509 needs the Reflect metadata API loaded first (see src/runner/ca.ts).
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KubeObject } from './validate.ts';

x509.cryptoProvider.set(webcrypto as Crypto);

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const DAY = 86_400_000;

export interface ClusterCa {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem': string;
}

const serial = () => {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
};

async function pemKey(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY') + '\n';
}

/** Root CA + one intermediate per cluster name, all signed in memory. */
export async function createMeshCas(
  clusters: string[],
  opts: { org?: string; validityDays?: number } = {},
): Promise<Record<string, ClusterCa>> {
  const org = opts.org ?? 'spillover';
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(Date.now() + (opts.validityDays ?? 30) * DAY);
  const rootKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=${org}, CN=Root CA`,
    notBefore,
    notAfter,
    keys: rootKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const rootPem = root.toString('pem') + '\n';
  const out: Record<string, ClusterCa> = {};
  for (const cluster of clusters) {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const inter = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      // Istio's Makefile names intermediates "Intermediate CA" with L=<cluster>.
      subject: `O=${org}, CN=Intermediate CA, L=${cluster}`,
      issuer: root.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        // pathLen 0: the intermediate signs workload certificates only.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    const caPem = inter.toString('pem') + '\n';
    out[cluster] = {
      'ca-cert.pem': caPem,
      'ca-key.pem': await pemKey(keys.privateKey),
      'root-cert.pem': rootPem,
      'cert-chain.pem': caPem + rootPem,
    };
  }
  return out;
}

/** Stand-in for a dry run: same Secret shape, no key material is generated or written. */
export function plannedCas(clusters: string[]): Record<string, ClusterCa> {
  const note = (what: string) => `<${what}: generated per run by src/runner/kube/cacerts.ts at apply time>\n`;
  return Object.fromEntries(
    clusters.map((c) => [
      c,
      {
        'ca-cert.pem': note(`intermediate CA of ${c}`),
        'ca-key.pem': note(`key of the intermediate CA of ${c}`),
        'root-cert.pem': note('shared root CA'),
        'cert-chain.pem': note(`intermediate of ${c} + root`),
      },
    ]),
  );
}

export function cacertsSecret(ca: ClusterCa, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cacerts', namespace: 'istio-system', labels },
    type: 'Opaque',
    // stringData keeps the planned manifest readable; the API server stores it base64 as `data`.
    stringData: { ...ca },
  };
}
