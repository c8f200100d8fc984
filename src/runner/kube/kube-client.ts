/**
 * The Kubernetes API calls of the real-cluster backends, one small client per kubeconfig context:
 * server-side apply (field manager "spillover"), waiting for rollouts and LoadBalancer addresses,
 * finding pods, following container logs, and deleting only what this harness created.
 */
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { SpilloverError } from '../../errors.ts';
import type { KubeObject } from './validate.ts';

export const FIELD_MANAGER = 'spillover';

export interface WaitOptions {
  timeoutMs: number;
  /** Poll period; the API server is asked at most this often. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** A KubeConfig for one context of the user's kubeconfig ($KUBECONFIG or ~/.kube/config). */
export function kubeConfigFor(context: string, file?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (!kc.getContexts().some((c) => c.name === context)) {
    throw new SpilloverError({
      file: file ?? (process.env.KUBECONFIG || '~/.kube/config'),
      path: 'contexts',
      message: `no kubeconfig context named "${context}"`,
      expected:
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'at least one context',
      found: context,
      fix: 'list them with `kubectl config get-contexts`',
    });
  }
  kc.setCurrentContext(context);
  return kc;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason ?? new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const statusOf = (e: unknown) => (e as { code?: number; statusCode?: number })?.code ?? (e as { statusCode?: number })?.statusCode;

export class KubeClient {
  readonly objects: k8s.KubernetesObjectApi;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly batch: k8s.BatchV1Api;

  constructor(
    readonly kc: k8s.KubeConfig,
    /** Name for messages: the experiment's cluster name. */
    readonly cluster: string,
  ) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
  }

  /** The API server's Kubernetes version (gitVersion), for the run manifest. */
  async serverVersion(): Promise<string> {
    try {
      return (await this.kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion;
    } catch (e) {
      throw this.wrap(e, 'read the server version');
    }
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '?';
  }

  /** Does the object exist? (404 -> false; anything else is an error.) */
  async exists(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<boolean> {
    try {
      await this.objects.read({
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
      });
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw this.wrap(e, `read ${obj.kind} ${obj.metadata.name}`);
    }
  }

  /** Server-side apply; force so a re-run takes over fields its own earlier run set. */
  async apply(obj: KubeObject): Promise<KubeObject> {
    try {
      return (await this.objects.patch(
        obj as k8s.KubernetesObject,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        k8s.PatchStrategy.ServerSideApply,
      )) as KubeObject;
    } catch (e) {
      throw this.wrap(e, `apply ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`);
    }
  }

  async delete(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): Promise<boolean> {
    try {
      await this.objects.delete(
        { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw this.wrap(e, `delete ${obj.kind} ${obj.metadata.name}`);
    }
  }

  /** Namespaces carrying the label selector (our managed-by / run labels). */
  async namespacesWith(selector: string): Promise<Array<{ name: string; labels: Record<string, string> }>> {
    try {
      const list = await this.core.listNamespace({ labelSelector: selector });
      return list.items.map((n) => ({ name: n.metadata!.name!, labels: n.metadata?.labels ?? {} }));
    } catch (e) {
      throw this.wrap(e, `list namespaces ${selector}`);
    }
  }

  /** Poll until `fn` returns a value (not undefined) or the timeout passes. */
  async until<T>(what: string, fn: () => Promise<T | undefined>, o: WaitOptions): Promise<T> {
    const deadline = Date.now() + o.timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await fn();
        if (v !== undefined) return v;
      } catch (e) {
        if (statusOf(e) !== 404) last = e;
      }
      if (Date.now() >= deadline) {
        throw new SpilloverError(
          {
            message: `${this.cluster}: timed out after ${Math.round(o.timeoutMs / 1000)}s waiting for ${what}`,
            found: last ? String((last as Error).message ?? last).slice(0, 200) : undefined,
            fix: `inspect with \`kubectl --context ${this.kc.getCurrentContext()} get pods -A\`; keep the clusters with --keep to debug`,
          },
          1,
        );
      }
      await sleep(o.pollMs ?? 1000, o.signal);
    }
  }

  /** The LoadBalancer address of a Service (IP, else hostname), once the provider has assigned it. */
  loadBalancerAddress(namespace: string, name: string, o: WaitOptions): Promise<string> {
    return this.until(
      `a LoadBalancer address on Service ${namespace}/${name}`,
      async () => {
        const svc = await this.core.readNamespacedService({ namespace, name });
        const ing = svc.status?.loadBalancer?.ingress?.[0];
        return ing?.ip || ing?.hostname || undefined;
      },
      o,
    );
  }

  /** Resolves once every replica of the Deployment is updated and available. */
  rollout(namespace: string, name: string, o: WaitOptions): Promise<true> {
    return this.until(
      `Deployment ${namespace}/${name} to be available`,
      async () => {
        const d = await this.apps.readNamespacedDeployment({ namespace, name });
        const want = d.spec?.replicas ?? 1;
        const st = d.status ?? {};
        const done =
          (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
          (st.updatedReplicas ?? 0) >= want &&
          (st.availableReplicas ?? 0) >= want;
        return done ? (true as const) : undefined;
      },
      o,
    );
  }

  /** A Running, Ready pod matching the selector: name, IP and node. */
  readyPod(namespace: string, selector: string, o: WaitOptions): Promise<{ name: string; ip: string; node?: string }> {
    return this.until(
      `a ready pod ${namespace}/${selector}`,
      async () => {
        const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selector });
        const p = pods.items.find(
          (x) =>
            x.status?.phase === 'Running' &&
            !x.metadata?.deletionTimestamp &&
            (x.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return p ? { name: p.metadata!.name!, ip: p.status?.podIP ?? '', node: p.spec?.nodeName } : undefined;
      },
      o,
    );
  }

  /** `count` Running, Ready pods matching the selector (every replica of a Deployment), sorted by name. */
  readyPods(
    namespace: string,
    selector: string,
    count: number,
    o: WaitOptions,
  ): Promise<Array<{ name: string; ip: string; node?: string }>> {
    return this.until(
      `${count} ready pods ${namespace}/${selector}`,
      async () => {
        const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selector });
        const ready = pods.items
          .filter(
            (x) =>
              x.status?.phase === 'Running' &&
              !x.metadata?.deletionTimestamp &&
              (x.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
          )
          .map((p) => ({ name: p.metadata!.name!, ip: p.status?.podIP ?? '', node: p.spec?.nodeName }))
          .sort((a, b) => a.name.localeCompare(b.name));
        return ready.length >= count ? ready.slice(0, count) : undefined;
      },
      o,
    );
  }

  /** A Running pod (not necessarily Ready: a paused k6 is Running but serves nothing). */
  runningPod(namespace: string, selector: string, o: WaitOptions): Promise<{ name: string; ip: string }> {
    return this.until(
      `a running pod ${namespace}/${selector}`,
      async () => {
        const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selector });
        const p = pods.items.find((x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp);
        return p ? { name: p.metadata!.name!, ip: p.status?.podIP ?? '' } : undefined;
      },
      o,
    );
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds = 0): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds });
    } catch (e) {
      throw this.wrap(e, `delete pod ${namespace}/${name}`);
    }
  }

  /**
   * Follow a container's log through the API server; each complete line goes to `onLine`. Returns a
   * stop function. The stream ends on its own when the container ends.
   */
  async followLog(
    namespace: string,
    pod: string,
    container: string,
    onLine: (line: string) => void,
  ): Promise<{ stop(): void; ended: Promise<void> }> {
    let buf = '';
    let endedResolve!: () => void;
    const ended = new Promise<void>((r) => (endedResolve = r));
    const sink = new Writable({
      write(chunk, _enc, cb) {
        buf += chunk.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        cb();
      },
      final(cb) {
        if (buf) onLine(buf);
        buf = '';
        endedResolve();
        cb();
      },
    });
    sink.on('close', () => endedResolve());
    const ctl = await new k8s.Log(this.kc).log(namespace, pod, container, sink, { follow: true });
    return { stop: () => ctl.abort(), ended };
  }

  private wrap(e: unknown, what: string): SpilloverError {
    const body = (e as { body?: unknown })?.body;
    let detail = (e as Error)?.message ?? String(e);
    try {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body;
      if (parsed && typeof parsed === 'object' && 'message' in parsed) detail = String((parsed as { message: unknown }).message);
    } catch {
      /* body was not JSON: keep the message */
    }
    return new SpilloverError(
      {
        message: `${this.cluster} (${this.server}): ${what} failed`,
        found: `HTTP ${statusOf(e) ?? '?'}: ${detail}`.slice(0, 400),
        fix: 'check the context, your permissions (kubectl auth can-i), and that Istio CRDs are installed',
      },
      1,
    );
  }
}
