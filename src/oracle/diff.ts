/**
 * `spillover mesh diff`: src/mesh's configuration of every proxy against istiod's own, field by
 * field, after both went through the same protos (the helper) and canonical.ts. Each difference is
 * either excused by one entry of known-differences.ts (with its reason) or unexplained. Pure.
 */
import { gatewaysOf, ingressGatewaysOf, type MeshConfig, type MeshPlan, type ProxyCommon } from '../mesh/plan.ts';
import type { Json } from '../mesh/resources.ts';
import { canonicalProxy, type CanonicalContext } from './canonical.ts';
import { diffProxy, formatValue, type Difference } from './differ.ts';
import type { IstiodXds } from './istiod-request.ts';
import { KNOWN_DIFFERENCES, type KnownDifference } from './known-differences.ts';

/** src/mesh's bootstraps in the shape the helper takes (`ours` of the request). */
export function oursXds(mesh: MeshConfig): Record<string, IstiodXds> {
  const out: Record<string, IstiodXds> = {};
  for (const [name, b] of Object.entries(mesh.bootstraps)) {
    const sr = (b as Json).static_resources ?? {};
    out[name] = { clusters: sr.clusters ?? [], listeners: sr.listeners ?? [], routes: [], endpoints: [] };
  }
  return out;
}

export const proxiesOf = (plan: MeshPlan): ProxyCommon[] => [
  plan.client,
  ...plan.workloads.map((w) => w.sidecar),
  ...gatewaysOf(plan),
  // Every further client sidecar too: each has its own locality, so its configuration differs.
  ...(plan.clients ?? []),
  ...ingressGatewaysOf(plan),
];

function contextFor(plan: MeshPlan, proxy: ProxyCommon): CanonicalContext {
  const inboundPort: Record<number, number> = {};
  for (const w of plan.workloads) inboundPort[w.app.port] = w.port;
  return { inboundPort, identityFiles: { certChain: proxy.identity.certChain, rootCert: proxy.identity.rootCert } };
}

export interface ClassifiedDifference extends Difference {
  known?: KnownDifference;
}

export interface MeshDiff {
  differences: ClassifiedDifference[];
  unexplained: number;
  /** Known-difference id -> how many paths it excused. */
  excused: Record<string, number>;
}

export function diffMesh(
  plan: MeshPlan,
  ours: Record<string, IstiodXds>,
  istiod: Record<string, IstiodXds>,
  known: KnownDifference[] = KNOWN_DIFFERENCES,
): MeshDiff {
  const differences: ClassifiedDifference[] = [];
  for (const p of proxiesOf(plan)) {
    const ctx = contextFor(plan, p);
    const a = canonicalProxy(ours[p.name] ?? { clusters: [], listeners: [], routes: [], endpoints: [] }, ctx);
    const b = canonicalProxy(istiod[p.name] ?? { clusters: [], listeners: [], routes: [], endpoints: [] }, ctx);
    for (const d of diffProxy(p.name, a, b)) differences.push({ ...d, known: known.find((k) => k.matches(d, plan)) });
  }
  const excused: Record<string, number> = {};
  for (const d of differences) if (d.known) excused[d.known.id] = (excused[d.known.id] ?? 0) + 1;
  return { differences, unexplained: differences.filter((d) => !d.known).length, excused };
}

/** Unexplained differences first, one per line with its path; then the excused ones counted by reason. */
export function formatMeshDiff(name: string, d: MeshDiff, o: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  for (const x of d.differences.filter((y) => !y.known))
    lines.push(`  DIFF ${x.proxy} ${x.path}\n       src/mesh: ${formatValue(x.ours)}\n       istiod:   ${formatValue(x.istiod)}`);
  if (o.verbose)
    for (const x of d.differences.filter((y) => y.known))
      lines.push(`  known(${x.known!.id}) ${x.proxy} ${x.path}: src/mesh ${formatValue(x.ours)} / istiod ${formatValue(x.istiod)}`);
  const known = Object.entries(d.excused).map(([id, n]) => `    ${id} (${n}): ${KNOWN_DIFFERENCES.find((k) => k.id === id)?.reason ?? ''}`);
  return (
    [
      `${name}: ${d.unexplained} unexplained difference(s), ${d.differences.length - d.unexplained} known`,
      ...lines,
      ...(known.length ? ['  known differences:', ...known] : []),
    ].join('\n') + '\n'
  );
}
