/** Helpers for tests that hand generated bootstraps to the real Envoy binary. */
import fs from 'node:fs';
import net from 'node:net';
import { ensureEnvoy } from '../../src/runner/envoy-install.ts';
import { createCa } from '../../src/runner/ca.ts';
import { gatewaysOf, ingressGatewaysOf, type MeshPlan } from '../../src/mesh/plan.ts';

export async function envoyBin(): Promise<string> {
  return process.env.ENVOY_BIN ?? (await ensureEnvoy()).bin;
}

/** Real certificates from the run CA for every proxy of the plan, and the folders Envoy writes to. */
export async function materialize(plan: MeshPlan, dir: string): Promise<void> {
  const ca = await createCa(`${dir}/certs`, { name: 'mesh-test' });
  for (const p of [
    plan.client,
    ...(plan.clients ?? []),
    ...gatewaysOf(plan),
    ...ingressGatewaysOf(plan),
    ...plan.workloads.map((w) => w.sidecar),
  ]) {
    const m = /ns\/([^/]+)\/sa\/(.+)$/.exec(p.identity.spiffe)!;
    p.identity = await ca.issue({ namespace: m[1], serviceAccount: m[2] });
    for (const f of Object.values(p.files)) fs.mkdirSync(f.slice(0, f.lastIndexOf('/')), { recursive: true });
  }
}

/** A port the kernel says is free on `ip` right now. */
export async function freePort(ip: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, ip, resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
