/**
 * The local backend only ever talks to loopback. The check is on the address actually connected to
 * (after name resolution), and that resolved address is what the driver then connects to, so a name
 * cannot resolve to loopback for the check and elsewhere for the traffic.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { SpilloverError } from '../errors.ts';

export function isLoopbackAddress(addr: string): boolean {
  const a = addr.replace(/^\[|\]$/g, '');
  if (net.isIPv4(a)) return a.startsWith('127.');
  if (net.isIPv6(a)) {
    const lower = a.toLowerCase();
    if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return !!mapped && mapped[1].startsWith('127.');
  }
  return false;
}

export interface ResolvedTarget {
  /** IP literal to connect to. */
  address: string;
  port: number;
}

/**
 * Resolve `host:port` (or a URL's host) to the address to connect to, refusing non-loopback ones
 * unless allowed. `where` names the option or URL for the error message.
 */
export async function resolveTarget(host: string, port: number, allowNonLoopback: boolean, where: string): Promise<ResolvedTarget> {
  const bare = host.replace(/^\[|\]$/g, '');
  let address = bare;
  if (!net.isIP(bare)) {
    let found: Array<{ address: string }>;
    try {
      found = await dns.lookup(bare, { all: true });
    } catch (e) {
      throw new SpilloverError({
        path: where,
        message: `cannot resolve host "${bare}"`,
        found: (e as Error).message,
        fix: 'use an IP literal such as 127.0.0.1, or --connect-to <ip:port> to send the request to a fixed address with this host as Host header',
      });
    }
    const bad = found.filter((f) => !isLoopbackAddress(f.address));
    if (!allowNonLoopback && bad.length > 0) {
      throw nonLoopback(where, `${bare} -> ${bad.map((b) => b.address).join(', ')}`);
    }
    address = (allowNonLoopback ? found : found.filter((f) => isLoopbackAddress(f.address)))[0].address;
  }
  if (!allowNonLoopback && !isLoopbackAddress(address)) throw nonLoopback(where, address);
  return { address, port };
}

const nonLoopback = (where: string, found: string) =>
  new SpilloverError({
    path: where,
    message: 'target is outside loopback; the local backend only sends traffic to 127.0.0.0/8 or ::1',
    expected: 'an address in 127.0.0.0/8 or ::1',
    found,
    fix: 'point the scenario at a loopback address, or pass --allow-non-loopback (allowNonLoopback: true) if you really mean it',
  });
