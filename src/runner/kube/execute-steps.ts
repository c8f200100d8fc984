/**
 * `up`'s execution of the step list (steps.ts): groups in parallel, in order; every object applied
 * server-side. On existing clusters each object is checked first: one that exists without our labels
 * is never taken over (the run stops), and one we create is recorded in the run's state before it
 * exists, so teardown deletes exactly that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SpilloverError } from '../../errors.ts';
import type { BackendContext } from '../backend.ts';
import type { KubeClient } from './kube-client.ts';
import { MANAGED_BY, runLabels } from './names.ts';
import { manifestYaml, resolveCall } from './render.ts';
import { saveState, type KubeState } from './kube-state.ts';
import { federationObjects } from './steps.ts';
import { TIMEOUTS, type ClusterRef, type Step } from './step-types.ts';
import type { Tools } from './tools.ts';
import { validateAll, type KubeObject } from './validate.ts';

export interface ExecuteDeps {
  mode: 'kind' | 'kube';
  tools: Tools;
  repo: string;
  state: KubeState;
  refs: ClusterRef[];
  client: (ref: ClusterRef) => KubeClient;
  timeouts: typeof TIMEOUTS;
  pollMs: number;
}

export class StepExecutor {
  /** East-west gateway address per cluster, as the gateway-address steps find them. */
  readonly addresses: Record<string, string> = {};

  constructor(
    private readonly d: ExecuteDeps,
    private readonly ctx: BackendContext,
  ) {}

  private refOf(cluster: string): ClusterRef {
    return this.d.refs.find((r) => r.name === cluster)!;
  }

  /** Apply, remembering what we created; refuse to take over objects somebody else owns. */
  async applyObjects(ref: ClusterRef, objects: KubeObject[]): Promise<void> {
    const c = this.d.client(ref);
    for (const obj of objects) {
      if (this.d.mode === 'kube') {
        if (await c.exists(obj)) {
          const meta = { name: obj.metadata.name, namespace: obj.metadata.namespace };
          const cur = (await c.objects.read({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: meta })) as KubeObject;
          const ours = cur.metadata?.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY['app.kubernetes.io/managed-by'];
          if (obj.kind === 'Namespace' && !ours) continue; // use it as it is; pods opt into injection themselves
          if (!ours) {
            throw new SpilloverError({
              message: `${ref.name} (${ref.context}): ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name} already exists and was not created by spillover`,
              fix: 'spillover never overwrites or deletes objects it did not create: remove or rename it, or run on other clusters',
            });
          }
        } else {
          const { apiVersion, kind, metadata } = obj;
          this.d.state.created.push({ context: ref.context, apiVersion, kind, name: metadata.name, namespace: metadata.namespace });
          saveState(this.d.state);
        }
      }
      await c.apply(obj);
    }
  }

  private async tool(s: Extract<Step, { kind: 'tool' }>) {
    await this.d.tools.run(resolveCall(s.call, this.ctx.runDir, this.d.repo), { signal: this.ctx.signal });
    if (s.call.cmd === 'kind' && s.call.args[0] === 'create') this.ctx.event({ kind: 'phase', what: `cluster ${s.call.args[3]} created` });
    if (s.call.cmd === 'istioctl' && s.call.args[0] === 'install' && !this.d.state.istioInstalled.includes(s.call.args[2])) {
      this.d.state.istioInstalled.push(s.call.args[2]);
      saveState(this.d.state);
    }
  }

  /** The secret holds credentials: it goes from istioctl's stdout to the API server and nowhere else. */
  private async remoteSecret(s: Extract<Step, { kind: 'remote-secret' }>) {
    const { stdout } = await this.d.tools.run(resolveCall(s.call, this.ctx.runDir, this.d.repo), { signal: this.ctx.signal });
    const labels = runLabels(this.ctx.runId);
    const objs = parseAllDocuments(stdout)
      .map((doc) => doc.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => Boolean(o?.kind))
      .map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...labels } } }));
    await this.applyObjects(this.refOf(s.cluster), objs);
  }

  private async federate(s: Extract<Step, { kind: 'federate' }>) {
    const objs = federationObjects(this.ctx.experiment, this.ctx.runId, this.addresses, false);
    validateAll(objs.map((obj) => ({ obj, where: s.file })));
    fs.writeFileSync(path.join(this.ctx.runDir, s.file), manifestYaml(objs));
    await this.applyObjects(this.refOf(s.cluster), objs);
  }

  private async runOne(s: Step): Promise<void> {
    this.ctx.log(s.title);
    const wait = { pollMs: this.d.pollMs, signal: this.ctx.signal };
    switch (s.kind) {
      case 'tool':
        return this.tool(s);
      case 'write':
        return;
      case 'apply':
        return this.applyObjects(this.refOf(s.cluster), s.objects);
      case 'rollout':
        await this.d.client(this.refOf(s.cluster)).rollout(s.namespace, s.name, { ...wait, timeoutMs: this.d.timeouts.rolloutMs });
        return;
      case 'gateway-address':
        this.addresses[s.cluster] = await this.d
          .client(this.refOf(s.cluster))
          .loadBalancerAddress(s.namespace, s.service, { ...wait, timeoutMs: this.d.timeouts.gatewayMs });
        this.ctx.log(`${s.cluster}: east-west gateway at ${this.addresses[s.cluster]}`);
        return;
      case 'federate':
        return this.federate(s);
      case 'remote-secret':
        return this.remoteSecret(s);
    }
  }

  /** Steps of one group at once, groups in order; an abort stops between groups. */
  async run(steps: Step[]): Promise<void> {
    for (let i = 0; i < steps.length;) {
      const g = steps[i].group;
      let j = i + 1;
      while (g && j < steps.length && steps[j].group === g) j++;
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      await Promise.all(steps.slice(i, j).map((s) => this.runOne(s)));
      i = j;
    }
  }
}
