/**
 * Istio's part of the plan, per cluster (istio.io multi-primary multi-network): istio-system with its
 * network and the plug-in CA, istiod, the east-west gateway and its AUTO_PASSTHROUGH Gateway where the
 * topology has one, and for `discovery: multi-primary` a remote secret from every cluster to every
 * other, so each istiod reads every cluster's endpoints.
 */
import { runLabels } from './names.ts';
import { cacertsSecret } from './cacerts.ts';
import { controlPlane, crossNetworkGateway, eastWestGateway, ingressGatewayOperator, istioSystemNamespace } from './istio-manifests.ts';
import { eastWestClusters, eastWestPort } from './kube-model.ts';
import { PINS } from './versions.ts';
import { kubeconfigArgs } from './steps-kind.ts';
import type { Step, StepsInput } from './step-types.ts';

const contextOf = (input: StepsInput, cluster: string) => input.clusters.find((x) => x.name === cluster)!.context;

function istioctlInstall(input: StepsInput, cluster: string, file: string) {
  return {
    cmd: 'istioctl',
    args: [
      'install',
      '--context',
      contextOf(input, cluster),
      '-y',
      '-f',
      `{run}/kube/${cluster}/${file}`,
      ...kubeconfigArgs(input, cluster),
    ],
  };
}

function namespaceAndOperators(input: StepsInput, gateways: string[]): Step[] {
  const spec = input.exp.spec;
  const labels = runLabels(input.runId);
  const steps: Step[] = input.clusters.map((c) => {
    const network = spec.topology.clusters[c.name].network;
    return {
      kind: 'apply',
      group: 'istio-ns',
      cluster: c.name,
      file: `kube/${c.name}/00-istio-system.yaml`,
      title: `${c.name}: namespace istio-system (network ${network}) and the plug-in CA secret cacerts`,
      objects: [istioSystemNamespace(network, labels), cacertsSecret(input.cas[c.name], labels)],
    };
  });
  for (const c of input.clusters) {
    steps.push({
      kind: 'write',
      cluster: c.name,
      file: `kube/${c.name}/10-istio-control-plane.yaml`,
      title: `${c.name}: IstioOperator for istiod (input of istioctl)`,
      objects: [controlPlane(spec, c.name, labels)],
    });
    if (gateways.includes(c.name))
      steps.push({
        kind: 'write',
        cluster: c.name,
        file: `kube/${c.name}/11-eastwest-gateway.yaml`,
        title: `${c.name}: IstioOperator for the east-west gateway (input of istioctl)`,
        objects: [eastWestGateway(spec, c.name, labels)],
      });
  }
  return steps;
}

/** istioctl create-remote-secret, kind's API servers named as the other kind nodes reach them. */
function remoteSecretSteps(input: StepsInput): Step[] {
  const steps: Step[] = [];
  for (const from of input.clusters)
    for (const to of input.clusters) {
      if (from === to) continue;
      const server = from.kindName ? ['--server', `https://${from.kindName}-control-plane:6443`] : [];
      steps.push({
        kind: 'remote-secret',
        group: 'remote-secrets',
        from: from.name,
        cluster: to.name,
        title: `${to.name}: remote secret for ${from.name} (its istiod reads ${from.name}'s endpoints)`,
        call: {
          cmd: 'istioctl',
          args: ['create-remote-secret', '--context', from.context, '--name', from.name, ...server, ...kubeconfigArgs(input, from.name)],
        },
      });
    }
  return steps;
}

export function istioSteps(input: StepsInput): Step[] {
  const spec = input.exp.spec;
  const gateways = eastWestClusters(spec);
  const steps = namespaceAndOperators(input, gateways);
  for (const c of input.clusters)
    steps.push({
      kind: 'tool',
      group: 'istiod',
      title: `${c.name}: install istiod ${PINS.istio}`,
      call: istioctlInstall(input, c.name, '10-istio-control-plane.yaml'),
    });
  const withGateway = input.clusters.filter((c) => gateways.includes(c.name));
  for (const c of withGateway)
    steps.push({
      kind: 'tool',
      group: 'eastwest',
      title: `${c.name}: install the east-west gateway`,
      call: istioctlInstall(input, c.name, '11-eastwest-gateway.yaml'),
    });
  for (const c of withGateway)
    steps.push({
      kind: 'apply',
      group: 'expose',
      cluster: c.name,
      file: `kube/${c.name}/12-cross-network-gateway.yaml`,
      title: `${c.name}: AUTO_PASSTHROUGH Gateway on ${eastWestPort(spec)} (expose-services)`,
      objects: [crossNetworkGateway(spec, runLabels(input.runId))],
    });
  steps.push(...ingressSteps(input));
  if (spec.topology.discovery === 'multi-primary') steps.push(...remoteSecretSteps(input));
  return steps;
}

/** The ingress gateway of each cluster that has one: its IstioOperator, then istioctl install (its Gateways are the experiment's resources). */
function ingressSteps(input: StepsInput): Step[] {
  const spec = input.exp.spec;
  const withIngress = input.clusters.filter((c) => spec.topology.clusters[c.name].ingressGateway);
  return withIngress.flatMap((c): Step[] => [
    {
      kind: 'write',
      cluster: c.name,
      file: `kube/${c.name}/13-ingress-gateway.yaml`,
      title: `${c.name}: IstioOperator for the ingress gateway istio-ingressgateway (input of istioctl)`,
      objects: [ingressGatewayOperator(spec, c.name, runLabels(input.runId))],
    },
    {
      kind: 'tool',
      group: 'ingress',
      title: `${c.name}: install the ingress gateway`,
      call: istioctlInstall(input, c.name, '13-ingress-gateway.yaml'),
    },
  ]);
}
