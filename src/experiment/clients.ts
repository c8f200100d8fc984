/**
 * Several clients, each with its own scenario: `clients: { <name>: { cluster, node?, locality?,
 * namespace?, load } }`. Today's `client:` + `load:` is the one-client form of the same thing: one
 * client named "client" whose Envoy is "client", so every existing experiment runs as before.
 *
 * With `clients:`, client <name>'s sidecar Envoy is `client-<name>`; the first one also fills
 * `client:`/`load:` of the parsed spec (schema.ts), which is what code serving one client reads.
 */
import type { Document, LineCounter } from 'yaml';
import type { ProblemDetail } from '../errors.ts';
import type { Experiment, Load } from './schema.ts';
import { lineOf } from './yaml-document.ts';

export interface ClientEntry {
  /** The client's name: "client" for today's one-client form, else its key under `clients:`. */
  name: string;
  /** Its sidecar Envoy's (and loopback address's) name: "client", or client-<name>. */
  envoy: string;
  cluster: string;
  locality?: string;
  node?: string;
  namespace: string;
  load: Load;
  /** Path of its fields in the experiment file, for messages: ["client"] or ["clients", name]. */
  at: string[];
  /** Path of its load block: ["load"] or ["clients", name, "load"]. */
  loadAt: string[];
}

/** The namespace the study's client pod runs in (its identity spiffe://cluster.local/ns/istio/sa/client). */
export const CLIENT_NAMESPACE = 'istio';

/** Every client of the experiment, in file order; one for today's form. */
export function clientsOf(spec: Experiment): ClientEntry[] {
  if (!spec.clients) {
    return [
      { name: 'client', envoy: 'client', ...spec.client, namespace: CLIENT_NAMESPACE, load: spec.load, at: ['client'], loadAt: ['load'] },
    ];
  }
  return Object.entries(spec.clients).map(([name, c]) => ({
    name,
    envoy: `client-${name}`,
    cluster: c.cluster,
    ...(c.locality ? { locality: c.locality } : {}),
    ...(c.node ? { node: c.node } : {}),
    namespace: c.namespace ?? CLIENT_NAMESPACE,
    load: c.load,
    at: ['clients', name],
    loadAt: ['clients', name, 'load'],
  }));
}

/** True when the experiment has more than today's one client (the `clients:` form). */
export const usesClients = (spec: Experiment) => spec.clients !== undefined;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * On the raw file, before the schema: exactly one of the two forms. Both at once would leave it open
 * which client `load:` belongs to; neither leaves nobody to send the load.
 */
export function clientFormProblems(raw: unknown, file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  if (!isMap(raw)) return [];
  const has = (k: string) => raw[k] !== undefined;
  if (has('clients') && (has('client') || has('load'))) {
    const both = ['client', 'load'].filter(has);
    return [
      {
        file,
        line: lineOf(doc, lc, [both[0]]),
        path: both[0],
        message: `both forms of the load's clients at once: clients: and ${both.map((b) => `${b}:`).join(' + ')}`,
        expected: 'either clients: (each client with its own load:) or client: + load: (one client)',
        found: `clients: (${Object.keys(isMap(raw.clients) ? raw.clients : {}).join(', ') || 'empty'}) and ${both.join(', ')}:`,
        fix: `move ${both.join(' and ')} into one entry of clients: (clients.<name>.cluster, clients.<name>.load), or drop clients:`,
      },
    ];
  }
  if (has('clients') && isMap(raw.clients) && Object.keys(raw.clients).length === 0) {
    return [
      {
        file,
        line: lineOf(doc, lc, ['clients']),
        path: 'clients',
        message: 'clients: names no client, so nobody sends the load',
        expected: 'at least one client, e.g. clients: { steady: { cluster: cluster-1, load: { scenario: ../scenarios/steady.js } } }',
        found: '{}',
        fix: 'add a client under clients:, or use client: + load:',
      },
    ];
  }
  if (!has('clients') && (!has('client') || !has('load'))) {
    const missing = ['client', 'load'].filter((k) => !has(k));
    return missing.map((k) => ({
      file,
      path: k,
      message: 'required field is missing',
      expected: k === 'client' ? 'client: { cluster: <a cluster> } (or clients: with several)' : 'load: { scenario: <k6 script> }',
      found: 'nothing',
      fix:
        k === 'client'
          ? 'add client: { cluster: ... }, or clients: { <name>: { cluster, load } }'
          : 'add load: { scenario: ../scenarios/peak-load.js }',
    }));
  }
  return [];
}

/** Names the clients' Envoys would take that another process of the run already has. */
export function clientNameClashes(spec: Experiment, taken: string[], file: string, doc: Document, lc: LineCounter): ProblemDetail[] {
  if (!spec.clients) return [];
  const out: ProblemDetail[] = [];
  for (const c of clientsOf(spec)) {
    if (!taken.includes(c.envoy)) continue;
    out.push({
      file,
      line: lineOf(doc, lc, c.at),
      path: c.at.join('.'),
      message: `client ${c.name}'s sidecar would be named ${c.envoy}, which another process of this run already is`,
      expected: `a client name whose Envoy name client-<name> is not one of: ${taken.join(', ')}`,
      found: JSON.stringify(c.name),
      fix: `rename the client, e.g. ${c.name}-caller`,
    });
  }
  return out;
}

/**
 * The spec as the user's form writes it: with `clients:`, without the `client:`/`load:` the parser
 * filled from the first client, so the resolved experiment file can be run again as it is.
 */
export function asWritten(spec: Experiment): Record<string, unknown> {
  if (!spec.clients) return spec;
  const { client: _c, load: _l, ...rest } = spec;
  return rest;
}
