/**
 * Every manifest the real-cluster backends apply is checked against the Kubernetes and Istio schemas
 * before anything is applied: a typo found after two clusters and two control planes came up costs ten
 * minutes, found here it costs nothing.
 *
 * Schemas come from maintained packages: `kubernetes-models` (the Kubernetes OpenAPI) and
 * `@kubernetes-models/istio` (Istio's CRD OpenAPI, which is also what the API server checks). Both
 * check types, enums and required fields; neither rejects unknown fields (the OpenAPI documents do not
 * forbid them), so misplaced fields in the experiment's Istio resources are caught by the experiment
 * loader's own Istio validation instead. `networking.istio.io/v1` is the same proto as `v1beta1` and
 * is checked with that schema. k6-operator's TestRun has no published model package; its schema is
 * transcribed in k6-testrun-schema.ts.
 */
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as iop from '@kubernetes-models/istio/install.istio.io/v1alpha1';
import * as netA3 from '@kubernetes-models/istio/networking.istio.io/v1alpha3';
import * as netB1 from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import * as secB1 from '@kubernetes-models/istio/security.istio.io/v1beta1';
import * as telA1 from '@kubernetes-models/istio/telemetry.istio.io/v1alpha1';
import { SpilloverError, type ProblemDetail } from '../../errors.ts';
import { validateTestRun } from './k6-testrun-schema.ts';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

type Model = new (data: never) => { validate(): void };
const groups: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'batch/v1': batch,
  'install.istio.io/v1alpha1': iop,
  'networking.istio.io/v1alpha3': netA3,
  'networking.istio.io/v1beta1': netB1,
  'security.istio.io/v1beta1': secB1,
  'telemetry.istio.io/v1alpha1': telA1,
};
/** Istio's v1 APIs are the same protos as these older versions, which the model package covers. */
const ALIASES: Record<string, string> = {
  'networking.istio.io/v1': 'networking.istio.io/v1beta1',
  'security.istio.io/v1': 'security.istio.io/v1beta1',
  'telemetry.istio.io/v1': 'telemetry.istio.io/v1alpha1',
};

/** Problems with one object; empty when it validates. `where` names the file it was written to. */
export function checkObject(obj: KubeObject, where: string): ProblemDetail[] {
  const at = `${obj?.kind ?? '?'} ${obj?.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj?.metadata?.name ?? '?'}`;
  if (!obj || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    return [{ file: where, message: 'not a Kubernetes object', expected: 'apiVersion and kind', found: JSON.stringify(obj)?.slice(0, 80) }];
  }
  if (obj.apiVersion === 'k6.io/v1alpha1' && obj.kind === 'TestRun') return validateTestRun(obj, where);
  const schemaVersion = ALIASES[obj.apiVersion] ?? obj.apiVersion;
  const Ctor = groups[schemaVersion]?.[obj.kind] as Model | undefined;
  if (!Ctor) {
    return [
      {
        file: where,
        path: 'apiVersion/kind',
        message: `${at}: no schema known for ${obj.apiVersion} ${obj.kind}`,
        expected: [...Object.keys(groups), ...Object.keys(ALIASES)].join(', '),
        fix: 'add the group to src/runner/kube/validate.ts (from kubernetes-models or @kubernetes-models/istio)',
      },
    ];
  }
  try {
    new Ctor({ ...structuredClone(obj), apiVersion: schemaVersion } as never).validate();
    return [];
  } catch (e) {
    const err = e as { errors?: Array<{ instancePath?: string; message?: string; params?: unknown }>; message: string };
    const list = err.errors?.length ? err.errors : [{ instancePath: '', message: err.message }];
    return list.map((x) => ({
      file: where,
      path: x.instancePath ? x.instancePath.replace(/^\//, '').replace(/\//g, '.') : undefined,
      message: `${at} does not match the ${obj.apiVersion} ${obj.kind} schema: ${x.message}`,
      found: x.params ? JSON.stringify(x.params) : undefined,
      fix: 'fix the generator (src/runner/kube) or the experiment resource it came from',
    }));
  }
}

/** Throw one SpilloverError listing every problem of every object. */
export function validateAll(items: Array<{ obj: KubeObject; where: string }>): void {
  const problems = items.flatMap((i) => checkObject(i.obj, i.where));
  if (problems.length) throw new SpilloverError(problems);
}
