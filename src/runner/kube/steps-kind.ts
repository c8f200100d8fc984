/**
 * kind's part of the plan: create the clusters (in parallel, each into a run-local kubeconfig), start
 * cloud-provider-kind for LoadBalancer addresses, build the images and load them into each cluster.
 */
import { cloudProviderContainer, DOCKER_RUN_LABEL, labelValue } from './names.ts';
import { K6_IMAGE, PINS, SERVICE_IMAGE } from './versions.ts';
import type { Step, StepsInput } from './step-types.ts';

export const kubeconfigArgs = (input: StepsInput, cluster: string) => {
  const f = input.clusters.find((x) => x.name === cluster)!.kubeconfig;
  return f ? ['--kubeconfig', f] : [];
};

function createSteps(input: StepsInput): Step[] {
  return input.clusters.map((c) => ({
    kind: 'tool',
    group: 'create',
    title: `create kind cluster ${c.kindName} for ${c.name}`,
    call: {
      cmd: 'kind',
      args: [
        'create',
        'cluster',
        '--name',
        c.kindName!,
        '--config',
        `{run}/kube/kind/${c.name}.yaml`,
        '--wait',
        '120s',
        ...kubeconfigArgs(input, c.name),
      ],
    },
  }));
}

function cloudProviderStep(runId: string): Step {
  return {
    kind: 'tool',
    title: 'LoadBalancer addresses for kind: cloud-provider-kind on the kind docker network',
    call: {
      cmd: 'docker',
      args: [
        'run',
        '-d',
        '--name',
        cloudProviderContainer(runId),
        '--label',
        `${DOCKER_RUN_LABEL}=${labelValue(runId)}`,
        '--network',
        'kind',
        '-v',
        '/var/run/docker.sock:/var/run/docker.sock',
        PINS.cloudProviderKindImage,
      ],
    },
  };
}

export function kindSteps(input: StepsInput, useK6: boolean): Step[] {
  const steps: Step[] = [...createSteps(input), cloudProviderStep(input.runId)];
  steps.push({
    kind: 'tool',
    title: 'build the service image from src/workload (deploy/service/Dockerfile)',
    call: { cmd: 'docker', args: ['build', '-t', SERVICE_IMAGE, '-f', '{repo}/deploy/service/Dockerfile', '{repo}'] },
  });
  if (useK6)
    steps.push({
      kind: 'tool',
      title: 'build k6 with xk6 (deploy/k6/Dockerfile)',
      call: { cmd: 'docker', args: ['build', '-t', K6_IMAGE, '--build-arg', `K6_VERSION=${PINS.k6}`, '{repo}/deploy/k6'] },
    });
  for (const c of input.clusters) {
    steps.push({
      kind: 'tool',
      group: 'load-images',
      title: `load the service image into ${c.kindName}`,
      call: { cmd: 'kind', args: ['load', 'docker-image', SERVICE_IMAGE, '--name', c.kindName!] },
    });
  }
  if (useK6) {
    const c = input.clusters.find((x) => x.name === input.exp.spec.client.cluster)!;
    steps.push({
      kind: 'tool',
      title: `load the k6 image into ${c.kindName}`,
      call: { cmd: 'kind', args: ['load', 'docker-image', K6_IMAGE, '--name', c.kindName!] },
    });
  }
  return steps;
}
