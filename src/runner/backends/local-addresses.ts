/**
 * Loopback addressing for the local backend. Each cluster owns a 127.0.N.0/24 and each "pod" gets its
 * own address in it, with the ports Istio uses (admin 15000, outbound 15001, inbound 15006, the
 * gateway's 15443), so Envoy sees distinct hosts exactly as it would in two clusters.
 *
 * Several runs can share the machine (tests, repeats): a run takes the first free "slot" of 8
 * addresses per cluster, checked by actually binding every address:port it needs.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SpilloverError } from '../../errors.ts';
import { sameProcessAlive, startTicks } from '../../process/processes.ts';
import { ensureTrustedDir } from '../../process/state-trust.ts';

export const PORTS = { admin: 15000, outbound: 15001, inbound: 15006, app: 8080 } as const;
const SLOT_SIZE = 8;
const SLOTS = 31;

export interface Pod {
  ip: string;
}

export interface LocalAddresses {
  slot: number;
  /** pods by role: client, a (A's pod), gateway, b (B's pod) */
  client: Pod;
  gateway: Pod;
  /** Service name -> its pod. */
  services: Record<string, Pod>;
}

/** `127.0.1.0/24` -> `127.0.1.` */
const prefixOf = (cidr: string) => cidr.replace(/0\/24$/, '');

export function addressesForSlot(
  slot: number,
  clientCidr: string,
  gatewayCidr: string,
  serviceCidrs: Record<string, string>,
): LocalAddresses {
  const ip = (cidr: string, k: number) => `${prefixOf(cidr)}${slot * SLOT_SIZE + k}`;
  const services: Record<string, Pod> = {};
  // Index 1 is the client (cluster-1) or gateway (cluster-2); services take 2, 3... in their cluster.
  const next: Record<string, number> = {};
  for (const [name, cidr] of Object.entries(serviceCidrs)) {
    next[cidr] ??= 2;
    services[name] = { ip: ip(cidr, next[cidr]++) };
  }
  return { slot, client: { ip: ip(clientCidr, 1) }, gateway: { ip: ip(gatewayCidr, 1) }, services };
}

export function canBind(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: ip, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export function bindingsOf(a: LocalAddresses, gatewayPort: number): Array<[string, number]> {
  const out: Array<[string, number]> = [
    [a.client.ip, PORTS.admin],
    [a.client.ip, PORTS.outbound],
    [a.gateway.ip, PORTS.admin],
    [a.gateway.ip, gatewayPort],
  ];
  for (const pod of Object.values(a.services)) out.push([pod.ip, PORTS.admin], [pod.ip, PORTS.inbound], [pod.ip, PORTS.app]);
  return out;
}

/**
 * A slot is claimed with an exclusive lock file before its ports are probed, because a probe only says
 * "free right now": two runs starting together would otherwise both see a slot free and both take it.
 * A lock whose owner is gone (killed run) is taken over.
 */
export function claimSlot(slot: number, ranges: string): (() => void) | undefined {
  // Machine-wide on purpose (not under a per-test SPILLOVER_STATE_DIR): ports are machine-wide too.
  const file = path.join(os.tmpdir(), `spillover-${os.userInfo().uid}`, 'slots', `${ranges}-slot-${slot}.lock`);
  // A lock planted by another user would hold a slot forever (or free one in use): the folder must be ours.
  ensureTrustedDir(path.dirname(file), 'slot lock directory');
  const me = `${process.pid} ${startTicks(process.pid)}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, me, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === me) fs.rmSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch {
      let owner = '';
      try {
        owner = fs.readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      const [pid, ticks] = owner.split(' ');
      if (Number(pid) === process.pid && owner !== me) return undefined;
      if (sameProcessAlive(Number(pid), ticks)) return undefined; // a live run holds it
      fs.rmSync(file, { force: true });
    }
  }
  return undefined;
}

/** The first slot whose every address:port is free right now; call `release` when the run ends. */
export async function allocateAddresses(
  clientCidr: string,
  gatewayCidr: string,
  serviceCidrs: Record<string, string>,
  gatewayPort: number,
): Promise<LocalAddresses & { release(): void }> {
  const busy: string[] = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    const release = claimSlot(slot, [clientCidr, gatewayCidr].map(prefixOf).join('_'));
    if (!release) continue;
    const a = addressesForSlot(slot, clientCidr, gatewayCidr, serviceCidrs);
    const checks = await Promise.all(
      bindingsOf(a, gatewayPort).map(async ([ip, port]) => ((await canBind(ip, port)) ? null : `${ip}:${port}`)),
    );
    const taken = checks.filter(Boolean) as string[];
    if (!taken.length) return { ...a, release };
    release();
    busy.push(...taken.slice(0, 2));
  }
  throw new SpilloverError({
    message: `no free loopback slot: every one of ${SLOTS} address slots has a port in use`,
    found: `in use, e.g. ${busy.slice(0, 4).join(', ')}`,
    fix: 'stop other Spillover runs (`spillover cleanup` removes leftovers of killed runs) or free those ports',
  });
}
