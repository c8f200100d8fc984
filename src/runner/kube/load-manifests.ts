/**
 * k6 inside the client's cluster, in the mesh: the experiment's scenario script in a ConfigMap, run
 * either by one Job (the default) or by k6-operator's TestRun with `parallelism` runner pods for
 * scale-out. k6 starts paused (its REST API on localhost:6565) so the run can start the scenario at
 * its own t0 after the telemetry is already flowing -- the same trick k6-operator's starter uses.
 * Native sidecars let the Job complete while its sidecar keeps running until k6 has exited.
 */
import path from 'node:path';
import type { ResolvedExperiment } from '../../experiment/read-experiment.ts';
import { K6_NAME, LOAD_NAMESPACE } from './names.ts';
import { proxyConfigAnnotation } from './istio-manifests.ts';
import { INJECT, istioLocalityLabel } from './workloads.ts';
import { K6_IMAGE } from './versions.ts';
import { clientLocality, entryService } from './kube-model.ts';
import type { KubeObject } from './validate.ts';

export const K6_API_PORT = 6565;
const SCRIPT_DIR = '/scripts';

export function k6Env(exp: ResolvedExperiment): Record<string, string> {
  const target = entryService(exp.spec);
  return { TARGET: `http://${target.host}${target.port.number === 80 ? '' : `:${target.port.number}`}`, ...exp.spec.load.env };
}

/** k6 arguments after `run`: JSON samples on stdout (streamed off the pod log), nothing else there. */
export function k6RunArgs(exp: ResolvedExperiment): string[] {
  const env = Object.entries(k6Env(exp)).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return ['--quiet', '--log-output=stderr', '--out', 'json=/dev/stdout', ...env];
}

export function scriptConfigMap(exp: ResolvedExperiment, script: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${K6_NAME}-script`, namespace: LOAD_NAMESPACE, labels },
    data: { [path.basename(exp.scenarioPath)]: script },
  };
}

const podMeta = (exp: ResolvedExperiment, labels: Record<string, string>) => ({
  labels: {
    ...labels,
    app: K6_NAME,
    ...INJECT,
    ...istioLocalityLabel(clientLocality(exp.spec)),
  },
  annotations: { 'sidecar.istio.io/nativeSidecar': 'true', ...proxyConfigAnnotation() },
});

export function k6Job(exp: ResolvedExperiment, labels: Record<string, string>, image = K6_IMAGE): KubeObject {
  const file = path.basename(exp.scenarioPath);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: K6_NAME, namespace: LOAD_NAMESPACE, labels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: podMeta(exp, labels),
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'k6',
              image,
              imagePullPolicy: 'IfNotPresent',
              args: ['run', '--paused', `--address=localhost:${K6_API_PORT}`, ...k6RunArgs(exp), `${SCRIPT_DIR}/${file}`],
              volumeMounts: [{ name: 'script', mountPath: SCRIPT_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'script', configMap: { name: `${K6_NAME}-script` } }],
        },
      },
    },
  };
}

export function k6TestRun(exp: ResolvedExperiment, parallelism: number, labels: Record<string, string>, image = K6_IMAGE): KubeObject {
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: K6_NAME, namespace: LOAD_NAMESPACE, labels },
    spec: {
      parallelism,
      script: { configMap: { name: `${K6_NAME}-script`, file: path.basename(exp.scenarioPath) } },
      args: k6RunArgs(exp),
      runner: { image, metadata: podMeta(exp, labels) },
      // The initializer pod would run outside the paused-start handshake and needs no mesh.
      initializer: { image, metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } } },
      starter: { metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } } },
    },
  };
}
