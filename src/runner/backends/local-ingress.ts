/** Where the load enters when the client is outside the mesh and calls its cluster's ingress gateway. */
import { ingressGatewaysOf, type MeshPlan } from '../../mesh/plan.ts';
import type { BackendContext, Deployment } from '../backend.ts';

/** client.ingress: the load comes from outside the mesh, straight to its cluster's ingress gateway, with the named Host. */
export function ingressEntry(ctx: BackendContext, plan: MeshPlan): Deployment['entry'] | undefined {
  const want = ctx.experiment.spec.client.ingress;
  const gw = ingressGatewaysOf(plan).find((g) => g.cluster === plan.client.cluster);
  if (!want || !gw) return undefined;
  return { url: `http://${want.host}${want.port === 80 ? '' : `:${want.port}`}`, connectTo: `${gw.ip}:${want.port}` };
}
