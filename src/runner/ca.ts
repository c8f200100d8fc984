/**
 * A per-run certificate authority standing in for istiod's CA: it issues SPIFFE identities
 * (`spiffe://<trust domain>/ns/<ns>/sa/<sa>`) as files that each Envoy reads at startup, which is what
 * SDS would have pushed. A second CA made the same way is the "foreign" CA of wrong-CA tests.
 *
 * ECDSA P-256, like Istio's default workload keys. Validity is short because a run is short and the
 * keys are deleted at teardown anyway.
 */
// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import type { IdentityFiles } from '../mesh/plan.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const KEY_FILE = 'key.pem';
const ROOT_KEY_FILE = 'root-key.pem';
/** Tolerates small clock differences between the harness and the processes checking the certs. */
const BACKDATE_MS = 5 * 60_000;

export interface CaOptions {
  /** SPIFFE trust domain (Istio's default is cluster.local). */
  trustDomain?: string;
  /** Shown in the root's subject, e.g. the run id, or "foreign" for a wrong-CA test. */
  name: string;
  /** How long the root and every issued certificate stay valid. */
  validityHours?: number;
}

export interface Identity {
  namespace: string;
  serviceAccount: string;
  /** Extra DNS SANs (the SPIFFE URI SAN is always present). */
  dnsNames?: string[];
}

export interface Ca {
  dir: string;
  trustDomain: string;
  rootCertPath: string;
  /** Issue a workload certificate for an identity; files go to `<dir>/<namespace>.<serviceAccount>/`. */
  issue(identity: Identity): Promise<IdentityFiles>;
  /** Delete every private key this CA wrote (root included); certificates stay for the record. */
  removeCaKeys(): Promise<void>;
}

export const spiffeId = (trustDomain: string, id: Pick<Identity, 'namespace' | 'serviceAccount'>) =>
  `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;

/** Create a fresh CA in `dir` (created if missing): a self-signed root plus its key (mode 0600). */
export async function createCa(dir: string, opts: CaOptions): Promise<Ca> {
  const trustDomain = opts.trustDomain ?? 'cluster.local';
  const validityMs = (opts.validityHours ?? 24) * 3_600_000;
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(Date.now() + validityMs);
  await fs.mkdir(dir, { recursive: true });

  const rootKeys = await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const rootName = `O=${trustDomain}, CN=spillover ${opts.name} root CA`;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: rootName,
    notBefore,
    notAfter,
    keys: rootKeys,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const rootCertPath = path.join(dir, 'root-cert.pem');
  await fs.writeFile(rootCertPath, root.toString('pem') + '\n');
  await writeKey(path.join(dir, ROOT_KEY_FILE), rootKeys.privateKey);

  const issue = async (identity: Identity): Promise<IdentityFiles> => {
    const spiffe = spiffeId(trustDomain, identity);
    const keys = await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      // Istio workload certs carry the identity only in the SAN; the subject is informational.
      subject: `O=${trustDomain}, CN=${identity.serviceAccount}.${identity.namespace}`,
      issuer: root.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(
          [{ type: 'url', value: spiffe }, ...(identity.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value }))],
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    const idDir = path.join(dir, `${identity.namespace}.${identity.serviceAccount}`);
    await fs.mkdir(idDir, { recursive: true });
    const certChain = path.join(idDir, 'cert-chain.pem');
    const privateKey = path.join(idDir, KEY_FILE);
    await fs.writeFile(certChain, leaf.toString('pem') + '\n');
    await writeKey(privateKey, keys.privateKey);
    return { spiffe, certChain, privateKey, rootCert: rootCertPath };
  };

  return { dir, trustDomain, rootCertPath, issue, removeCaKeys: () => removeCaKeys(dir) };
}

/**
 * Delete the private keys under a CA directory. Standalone so the cleanup of a killed earlier run
 * can call it with nothing but the directory.
 */
export async function removeCaKeys(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const keys = entries.filter((e) => e.isFile() && (e.name === KEY_FILE || e.name === ROOT_KEY_FILE));
  await Promise.all(keys.map((e) => fs.rm(path.join(e.parentPath, e.name), { force: true })));
}

async function writeKey(file: string, key: CryptoKey): Promise<void> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey);
  const pem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  // Create with 0600 rather than chmod afterwards, so the key is never readable by others.
  await fs.rm(file, { force: true });
  await fs.writeFile(file, pem + '\n', { mode: 0o600, flag: 'wx' });
}

/** Positive 128-bit serial (a leading 0x00-0x7f byte keeps the DER integer positive). */
const serial = () => {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x01;
  return b.toString('hex');
};
