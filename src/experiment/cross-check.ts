/**
 * Checks across the experiment's fields once each is well-formed: cluster, node-group and gateway
 * references, address room per cluster, and the Istio resources (also those a fault applies) against
 * the services.
 */
import type { Document, LineCounter } from 'yaml';
import type { ProblemDetail } from '../errors.ts';
import { consistencyChecks } from '../mesh/validate-consistency.ts';
import { validateIstioResources } from '../mesh/validate.ts';
import { didYouMean } from './did-you-mean.ts';
import { formatPath } from './overrides.ts';
import type { Experiment } from './schema.ts';
import { normaliseTopology } from './topology.ts';
import { clientNameClashes, clientsOf } from './clients.ts';
import { lineOf } from './yaml-document.ts';

/** A run slot of the local backend holds 31 addresses per cluster (127.0.N.1-31 in slot 0). */
export const MAX_ADDRESSES_PER_CLUSTER = 31;

export function crossCheck(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const refs = referenceChecks(spec, file, doc, lc);
  // The address room needs the topology, which only consistent references describe.
  const clashes = refs.length ? [] : clientNameClashes(spec, processNames(spec), file, doc, lc);
  return [
    ...refs,
    ...clashes,
    ...gatewayChecks(spec, file, doc, lc),
    ...ingressClientCheck(spec, file, doc, lc),
    ...(refs.length ? [] : addressChecks(spec, file, doc, lc)),
  ];
}

/** A client that goes through an ingress gateway needs one in its cluster. */
function ingressClientCheck(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const c = spec.client.cluster;
  const pushed = spec.faults.findIndex((f) => f.action === 'unready' || f.action === 'apply' || f.action === 'scale');
  const withIngress = Object.keys(spec.topology.clusters).filter((n) => spec.topology.clusters[n].ingressGateway);
  if (pushed >= 0 && withIngress.length)
    return [
      {
        file,
        line: lineOf(doc, lc, ['faults', pushed, 'action']),
        path: `faults[${pushed}].action`,
        message: `the harness's control plane does not push to ingress gateways yet, so ${spec.faults[pushed].action} cannot reach ingress-${withIngress[0]}`,
        expected: 'kill, drain, service-fault, http-error, latency, reset or stall with an ingress gateway',
        found: spec.faults[pushed].action,
        fix: `drop topology.clusters.${withIngress[0]}.ingressGateway or this fault`,
      },
    ];
  if (!spec.client.ingress || !spec.topology.clusters[c] || spec.topology.clusters[c].ingressGateway) return [];
  return [
    {
      file,
      line: lineOf(doc, lc, ['client', 'ingress']),
      path: 'client.ingress',
      message: `the client calls through the ingress gateway of ${c}, but ${c} has none`,
      expected: `topology.clusters.${c}.ingressGateway: {} (labels default to istio: ingressgateway, app: istio-ingressgateway)`,
      found: `topology.clusters.${c} without ingressGateway`,
      fix: `add topology.clusters.${c}.ingressGateway: {}, or drop client.ingress`,
    },
  ];
}

/** Every cluster and node group a field names exists. */
function referenceChecks(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const clusters = Object.keys(spec.topology.clusters);
  const ref = (p: Array<string | number>, value: string) => {
    if (!clusters.includes(value)) {
      problems.push({
        file,
        line: lineOf(doc, lc, p),
        path: formatPath(p),
        message: `unknown cluster "${value}"`,
        expected: `one of ${clusters.join(', ')} (topology.clusters)`,
        found: JSON.stringify(value),
        fix: didYouMean(value, clusters)
          ? `did you mean "${didYouMean(value, clusters)}"?`
          : 'name a cluster defined under topology.clusters',
      });
    }
  };
  for (const c of clientsOf(spec)) ref([...c.at, 'cluster'], c.cluster);
  if (spec.gateway) ref(['gateway', 'cluster'], spec.gateway.cluster);
  for (const [n, s] of Object.entries(spec.services)) ref(['services', n, 'cluster'], s.cluster);
  const nodeRef = (p: Array<string | number>, cluster: string, node: string | undefined) => {
    const nodes = Object.keys(spec.topology.clusters[cluster]?.nodes ?? {});
    if (node === undefined || !clusters.includes(cluster) || nodes.includes(node)) return;
    problems.push({
      file,
      line: lineOf(doc, lc, p),
      path: formatPath(p),
      message: `unknown node group "${node}" in cluster ${cluster}`,
      expected: nodes.length
        ? `one of ${nodes.join(', ')} (topology.clusters.${cluster}.nodes)`
        : `a group defined under topology.clusters.${cluster}.nodes`,
      found: JSON.stringify(node),
      fix: didYouMean(node, nodes)
        ? `did you mean "${didYouMean(node, nodes)}"?`
        : `add topology.clusters.${cluster}.nodes.${node}: { locality: region/zone }`,
    });
  };
  for (const c of clientsOf(spec)) nodeRef([...c.at, 'node'], c.cluster, c.node);
  for (const [n, s] of Object.entries(spec.services)) nodeRef(['services', n, 'node'], s.cluster, s.node);
  return problems;
}

/** The study's single gateway: in the other cluster than the client, in front of some service. */
function gatewayChecks(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const clusters = Object.keys(spec.topology.clusters);
  if (spec.gateway && spec.gateway.cluster === spec.client.cluster && clusters.includes(spec.gateway.cluster)) {
    problems.push({
      file,
      line: lineOf(doc, lc, ['gateway', 'cluster']),
      path: 'gateway.cluster',
      message: 'the east-west gateway must be in the other cluster than the client',
      expected: `a cluster other than client.cluster (${spec.client.cluster})`,
      found: spec.gateway.cluster,
      fix: `put the gateway in ${clusters.find((c) => c !== spec.client.cluster)}`,
    });
  }
  // The study's gateway hands connections to the services of its own cluster; with none it routes nowhere.
  if (
    spec.gateway &&
    clusters.includes(spec.gateway.cluster) &&
    !Object.values(spec.services).some((s) => s.cluster === spec.gateway!.cluster)
  ) {
    problems.push({
      file,
      line: lineOf(doc, lc, ['services']),
      path: 'services',
      message: `the east-west gateway's cluster ${spec.gateway.cluster} runs no service, so the gateway routes nowhere`,
      expected: `at least one service in ${spec.gateway.cluster}`,
      found:
        Object.entries(spec.services)
          .map(([n, s]) => `${n} in ${s.cluster}`)
          .join(', ') || '(no services)',
      fix: `deploy a service in ${spec.gateway.cluster}, or drop gateway: and let each network get its own gateway`,
    });
  }
  return problems;
}

/** Each cluster its own address range, with room for its pods, gateways and client. */
function addressChecks(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const topo = normaliseTopology(spec);
  const ranges = topo.clusters.map((c) => c.addresses);
  if (new Set(ranges).size !== ranges.length) {
    problems.push({
      file,
      path: 'topology.clusters',
      line: lineOf(doc, lc, ['topology', 'clusters']),
      message: 'two clusters use the same address range',
      expected: 'a different 127.0.N.0/24 for each cluster',
      found: ranges.join(', '),
      fix: 'give each cluster its own 127.0.N.0/24',
    });
  }
  for (const c of topo.clusters) {
    const n =
      topo.pods.filter((p) => p.cluster === c.name).length +
      topo.gateways.filter((g) => g.cluster === c.name).length +
      topo.clients.filter((x) => x.cluster === c.name).length;
    if (n > MAX_ADDRESSES_PER_CLUSTER) {
      problems.push({
        file,
        path: `topology.clusters.${c.name}`,
        line: lineOf(doc, lc, ['topology', 'clusters', c.name]),
        message: `cluster ${c.name} needs ${n} loopback addresses (pods, gateways, client); the local backend gives a cluster at most ${MAX_ADDRESSES_PER_CLUSTER}`,
        expected: `at most ${MAX_ADDRESSES_PER_CLUSTER} pods, gateways and clients in one cluster`,
        found: `${n}`,
        fix: 'lower replicas, or spread the deployments over more clusters',
      });
    }
  }
  return problems;
}

/** Every pod's, gateway's and sidecar's process name: a client's Envoy must not take one. */
function processNames(spec: Experiment): string[] {
  const topo = normaliseTopology({ ...spec, clients: undefined });
  return [...topo.pods.flatMap((p) => [p.proc, `${p.proc}-sidecar`]), ...topo.gateways.map((g) => g.name)];
}

export function validateResources(spec: Experiment, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  const hosts = Object.values(spec.services).map((s) => s.host);
  const problems = validateIstioResources(spec.resources, { file, basePath: 'resources', hosts });
  // A resource applied mid-run is checked now, like the rest, not when it is due.
  spec.faults.forEach((f, i) => {
    if (f.action !== 'apply') return;
    const base = `faults[${i}].resource`;
    problems.push(
      ...validateIstioResources([f.resource], { file, basePath: base, hosts }).map((p) => ({
        ...p,
        path: p.path?.replace(`${base}[0]`, base),
      })),
    );
  });
  // Consistency with the services only once each resource is well-formed: otherwise it would repeat those problems.
  if (!problems.length) {
    const services = Object.entries(spec.services).map(([name, s]) => ({ name, host: s.host, port: s.port.number, portName: s.port.name }));
    problems.push(...consistencyChecks(spec.resources, { file, basePath: 'resources', services }));
  }
  for (const p of problems) {
    if (p.line === undefined && p.path) {
      try {
        const segs = p.path
          .replace(/\[(\d+)\]/g, '.$1')
          .split('.')
          .filter(Boolean)
          .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
        p.line = lineOf(doc, lc, segs);
      } catch {
        /* the line is a convenience; the path is the reference */
      }
    }
    p.file ??= file;
  }
  return problems;
}
