/**
 * The run manifest's topology for a real-cluster run: the study's four Envoys and two endpoints with
 * istiod's priorities (topology.ts), or for the general topology every Envoy with its role and every
 * pod by the instance name its app reports. The client's endpoint set itself is istiod's to compute
 * there, so it is left for the capture to read from the client's /clusters.
 */
import type { TopologyManifest } from '../../contracts/raw.ts';
import type { Experiment } from '../../experiment/schema.ts';
import { entryService, serviceLocality } from './kube-model.ts';
import { instanceOf, type Proxy } from './proxies.ts';
import { gatewayEndpointLocality, kubeTopology } from './topology.ts';
import { APP_PORT } from './workloads.ts';

type Role = TopologyManifest['envoys'][string]['role'];

function roleOf(spec: Experiment, p: Proxy): Role {
  if (p.name === 'client') return 'client';
  if (!p.service) return 'gateway';
  return p.cluster === spec.client.cluster ? 'a-sidecar' : 'b-sidecar';
}

export function runTopology(
  spec: Experiment,
  c: { proxies: Proxy[]; admin: Record<string, string> },
  addresses: Record<string, string>,
): TopologyManifest {
  if (spec.gateway)
    return kubeTopology({
      spec,
      admin: c.admin,
      localPodIp: c.proxies[1].pod!.ip,
      appPort: APP_PORT,
      gatewayAddress: addresses[spec.gateway.cluster] ?? '',
      gatewayLocality: gatewayEndpointLocality(spec),
    });
  const target = entryService(spec);
  return {
    envoys: Object.fromEntries(c.proxies.map((p) => [p.name, { role: roleOf(spec, p), cluster: p.cluster, admin: c.admin[p.name] }])),
    clientCluster: `outbound|${target.port.number}||${target.host}`,
    endpoints: {},
    instances: Object.fromEntries(
      c.proxies
        .filter((p) => p.service)
        .map((p) => {
          const s = spec.services[p.service!];
          return [
            instanceOf(spec, p),
            {
              service: p.service!,
              cluster: p.cluster,
              locality: serviceLocality(spec, s),
              version: s.version,
              proc: p.name.replace(/-sidecar$/, ''),
            },
          ];
        }),
    ),
  };
}
