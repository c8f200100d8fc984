/**
 * A Kubernetes API server stand-in on 127.0.0.1 for the real-cluster backend tests: it serves the
 * recorded responses of test/fixtures/kube, keeps what was applied (so a read after an apply finds it,
 * as on a real server), and records every request for the assertions.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/kube', import.meta.url));
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

export interface FakeApi {
  url: string;
  requests: Recorded[];
  /** Objects applied so far, by API path. */
  objects: Map<string, unknown>;
  close(): Promise<void>;
  kubeConfig(context: string): k8s.KubeConfig;
}

export interface FakeApiOptions {
  /** How many times a polled object answers "not yet" before the ready fixture. */
  pendingPolls?: number;
  /** Objects that exist before the run (API path -> body), e.g. a user's own Service. */
  preexisting?: Record<string, unknown>;
  /** Override any response. */
  route?: (r: Recorded) => { status: number; body: string } | undefined;
}

export async function startFakeApi(opts: FakeApiOptions = {}): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const objects = new Map<string, unknown>(Object.entries(opts.preexisting ?? {}));
  const polls = new Map<string, number>();
  const pending = opts.pendingPolls ?? 1;
  const notFound = (name: string) => ({ status: 404, body: fixture('status-404.json').replace('NAME', name) });

  const answer = (r: Recorded): { status: number; body: string; contentType?: string } => {
    const custom = opts.route?.(r);
    if (custom) return custom;
    const p = r.path;
    if (p === '/version')
      return { status: 200, body: JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.1', platform: 'linux/amd64' }) };
    const disc = /^\/(api\/v1|apis\/([^/]+)\/([^/]+))$/.exec(p);
    if (disc && r.method === 'GET') {
      const file = p === '/api/v1' ? 'api-v1.json' : `apis-${disc[2]}-${disc[3]}.json`;
      return fs.existsSync(path.join(FIXTURES, 'discovery', file)) ? { status: 200, body: fixture(`discovery/${file}`) } : notFound(p);
    }
    const segs = p.split('/').filter(Boolean);
    const name = segs[segs.length - 1];
    if (r.method === 'GET' && /\/pods\/[^/]+\/log$/.test(p)) {
      const text =
        r.query.container === 'k6'
          ? '{"type":"Point","metric":"http_reqs","data":{"time":"2026-11-25T20:00:01Z","value":1,"tags":{"status":"200"}}}\nnot json\n'
          : fixture('proxy-stdout.log');
      return { status: 200, body: text, contentType: 'text/plain' };
    }
    if (r.method === 'GET' && p.endsWith('/pods')) {
      const app = /app=([^,]+)|istio=([^,]+)/.exec(r.query.labelSelector ?? '');
      const pod = `${app?.[1] ?? app?.[2] ?? 'pod'}-0`;
      return { status: 200, body: fixture('pods-running.json').replace(/POD/g, pod).replace(/NODE/g, 'node-1') };
    }
    if (r.method === 'GET' && p === '/api/v1/namespaces' && r.query.labelSelector) {
      const items = [...objects.entries()].filter(([k]) => /^\/api\/v1\/namespaces\/[^/]+$/.test(k)).map(([, v]) => v);
      return { status: 200, body: JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items }) };
    }
    if (r.method === 'PATCH') {
      objects.set(p, r.body);
      return { status: 200, body: JSON.stringify(r.body) };
    }
    if (r.method === 'DELETE') {
      if (!objects.delete(p)) return notFound(name);
      return { status: 200, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Success' }) };
    }
    if (r.method === 'GET') {
      const n = (polls.get(p) ?? 0) + 1;
      polls.set(p, n);
      if (p.endsWith('/services/istio-eastwestgateway'))
        return { status: 200, body: fixture(n > pending ? 'service-eastwest-ready.json' : 'service-eastwest-pending.json') };
      // A Deployment exists once applied; its status then progresses as the recorded rollout did.
      if (/\/deployments\/[^/]+$/.test(p) && objects.has(p))
        return { status: 200, body: fixture(n > pending ? 'deployment-available.json' : 'deployment-progressing.json') };
      if (objects.has(p)) return { status: 200, body: JSON.stringify(objects.get(p)) };
      return notFound(name);
    }
    return { status: 405, body: '{}' };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const rec: Recorded = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        contentType: req.headers['content-type'],
        body,
      };
      requests.push(rec);
      const a = answer(rec);
      res.writeHead(a.status, { 'content-type': a.contentType ?? 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    requests,
    objects,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
    kubeConfig(context: string) {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake', token: 'fake-token' }],
        contexts: [{ name: context, cluster: 'fake', user: 'fake' }],
        currentContext: context,
      });
      return kc;
    },
  };
}
