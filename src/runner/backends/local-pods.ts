/**
 * Loopback addresses for the general topology: in each cluster's /24, the client, the gateways and
 * every pod (replicas included) get their own address, in that order -- for the study's topology
 * exactly the addresses local-addresses.ts gives (client/gateway .1, services from .2).
 *
 * A slot holds 8 addresses per cluster, or 32 when a cluster needs more than 7, so a run of the big
 * topologies takes one of 7 wider slots (their lock files are separate; every address:port is still
 * probed by binding it, which is what keeps two runs apart).
 */
import { SpilloverError } from '../../errors.ts';
import type { MeshTopology } from '../../experiment/topology.ts';
import { canBind, claimSlot, PORTS } from './local-addresses.ts';

export interface PodAddresses {
  slot: number;
  /** Process name (client, gateway..., a, a-0...) -> its loopback address. */
  ips: Record<string, string>;
  release(): void;
}

/** A topology built before `clients` existed (tests, hand-made plans) has just its one client. */
const clientsOfTopology = (topo: MeshTopology) =>
  topo.clients?.length ? topo.clients : [{ name: 'client', envoy: 'client', cluster: topo.client.cluster }];

const prefixOf = (cidr: string) => cidr.replace(/0\/24$/, '');

/** Names per cluster in address order. */
function layout(topo: MeshTopology): Map<string, string[]> {
  const byCluster = new Map<string, string[]>(topo.clusters.map((c) => [c.name, []]));
  const [first, ...others] = clientsOfTopology(topo);
  byCluster.get(first.cluster)?.push(first.envoy);
  for (const g of topo.gateways) byCluster.get(g.cluster)?.push(g.name);
  for (const p of topo.pods) byCluster.get(p.cluster)?.push(p.proc);
  // Further clients last, so every other process keeps the address it has with one client.
  for (const c of others) byCluster.get(c.cluster)?.push(c.envoy);
  // Last, so that every other process keeps the address it has without an ingress gateway.
  for (const g of topo.ingressGateways ?? []) byCluster.get(g.cluster)?.push(g.name);
  return byCluster;
}

export function podAddressesForSlot(topo: MeshTopology, slot: number, size: number): Record<string, string> {
  const ips: Record<string, string> = {};
  for (const [cluster, names] of layout(topo)) {
    const prefix = prefixOf(topo.clusters.find((c) => c.name === cluster)!.addresses);
    names.forEach((n, k) => (ips[n] = `${prefix}${slot * size + k + 1}`));
  }
  return ips;
}

export function podBindings(topo: MeshTopology, ips: Record<string, string>): Array<[string, number]> {
  const out: Array<[string, number]> = clientsOfTopology(topo).flatMap((c): Array<[string, number]> => [
    [ips[c.envoy], PORTS.admin],
    [ips[c.envoy], PORTS.outbound],
  ]);
  for (const g of topo.gateways) out.push([ips[g.name], PORTS.admin], [ips[g.name], g.port]);
  for (const p of topo.pods) out.push([ips[p.proc], PORTS.admin], [ips[p.proc], PORTS.inbound], [ips[p.proc], PORTS.app]);
  // The ingress gateway's listener ports come from the Gateway resources; its own address keeps them apart.
  for (const g of topo.ingressGateways ?? []) out.push([ips[g.name], PORTS.admin]);
  return out;
}

export async function allocatePodAddresses(topo: MeshTopology): Promise<PodAddresses> {
  const most = Math.max(...[...layout(topo).values()].map((n) => n.length));
  const size = most <= 7 ? 8 : 32;
  const key = topo.clusters.map((c) => prefixOf(c.addresses)).join('_') + (size === 8 ? '' : `-${size}`);
  const busy: string[] = [];
  // 31 slots of 8 (127.0.N.1-255) or 7 of 32.
  for (let slot = 0; slot < (size === 8 ? 31 : 7); slot++) {
    const release = claimSlot(slot, key);
    if (!release) continue;
    const ips = podAddressesForSlot(topo, slot, size);
    const checks = await Promise.all(
      podBindings(topo, ips).map(async ([ip, port]) => ((await canBind(ip, port)) ? null : `${ip}:${port}`)),
    );
    const taken = checks.filter(Boolean) as string[];
    if (!taken.length) return { slot, ips, release };
    release();
    busy.push(...taken.slice(0, 2));
  }
  throw new SpilloverError({
    message: 'no free loopback slot: every address slot of these clusters has a port in use',
    found: `in use, e.g. ${busy.slice(0, 4).join(', ')}`,
    fix: 'stop other Spillover runs (`spillover cleanup` removes leftovers of killed runs) or free those ports',
  });
}
