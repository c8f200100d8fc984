/**
 * Sidecar egress scoping (sidecar-scope.ts) and its load-time validation (validate-sidecar.ts): the
 * host forms istiod accepts and what each imports. The translation itself is pinned by the
 * sidecar-egress and sidecar-registry-only goldens and checked against istiod by scripts/mesh-diff-all.ts.
 */
import assert from 'node:assert/strict';
import { egressScope, selectSidecar } from '../../src/mesh/sidecar-scope.ts';
import { Resources } from '../../src/mesh/resources.ts';
import { validateIstioResources } from '../../src/mesh/validate.ts';

const SRC = { file: 'experiments/x.yaml', basePath: 'resources' };
const sidecar = (spec: object, namespace = 'istio', name = 's') => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace },
  spec,
});
const scopeOf = (hosts: string[], labels = { app: 'client' }) =>
  egressScope(new Resources([sidecar({ egress: [{ hosts }] })], SRC), 'istio', labels);

describe('mesh: Sidecar egress scope', () => {
  it('imports by namespace/dnsName: ./*, */*, ns/*, ns/fqdn, wildcards, and ~ excludes', () => {
    const h = 'httpbin.default.svc.cluster.local';
    assert.equal(scopeOf(['./*']).imports(h, 'default', 80), false);
    assert.equal(scopeOf(['./*']).imports('a.istio.svc.cluster.local', 'istio', 80), true);
    assert.equal(scopeOf(['*/*']).imports(h, 'default', 80), true);
    assert.equal(scopeOf(['default/*']).imports(h, 'default', 80), true);
    assert.equal(scopeOf([`default/${h}`]).imports(h, 'default', 80), true);
    assert.equal(scopeOf([`bookinfo/${h}`]).imports(h, 'default', 80), false);
    assert.equal(scopeOf(['*/*.default.svc.cluster.local']).imports(h, 'default', 80), true);
    assert.equal(scopeOf(['~/*']).imports(h, 'default', 80), false);
    assert.equal(scopeOf(['*/*', `~default/${h}`]).imports(h, 'default', 80), false);
    assert.equal(scopeOf(['*/*', `~default/${h}`]).imports('other.default.svc.cluster.local', 'default', 80), true);
  });

  it('picks the Sidecar whose workloadSelector matches, then the namespace-wide one, then the root one', () => {
    const all = new Resources(
      [
        sidecar({ egress: [{ hosts: ['*/*'] }] }, 'istio-system', 'root'),
        sidecar({ egress: [{ hosts: ['*/*'] }] }, 'istio', 'ns'),
        sidecar({ workloadSelector: { labels: { app: 'client' } }, egress: [{ hosts: ['./*'] }] }, 'istio', 'selected'),
      ],
      SRC,
    ).ofKind('Sidecar');
    assert.equal(selectSidecar(all, 'istio', { app: 'client' })?.name, 'selected');
    assert.equal(selectSidecar(all, 'istio', { app: 'other' })?.name, 'ns');
    assert.equal(selectSidecar(all, 'default', { app: 'client' })?.name, 'root');
  });

  it('listens for REGISTRY_ONLY (ALLOW_ANY by default) and limits a listener with a port to that port', () => {
    const r = new Resources(
      [sidecar({ egress: [{ port: { number: 9080 }, hosts: ['*/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })],
      SRC,
    );
    const s = egressScope(r, 'istio', {});
    assert.equal(s.outboundTrafficPolicy, 'REGISTRY_ONLY');
    assert.equal(s.imports('a.b.svc.cluster.local', 'b', 9080), true);
    assert.equal(s.imports('a.b.svc.cluster.local', 'b', 80), false);
    assert.equal(scopeOf(['*/*']).outboundTrafficPolicy, 'ALLOW_ANY');
  });

  it('refuses egress hosts istiod refuses, with the expected forms and a fix', () => {
    const ps = validateIstioResources(
      [sidecar({ egress: [{ hosts: ['reviews', 'default/reviews', 'bad_ns!/*', './*.example.com'] }] }), sidecar({}, 'istio', 'empty')],
      SRC,
    );
    const byPath = Object.fromEntries(ps.map((p) => [p.path, p]));
    assert.match(byPath['resources[0].spec.egress[0].hosts[0]'].message, /namespace\/dnsName/);
    assert.match(byPath['resources[0].spec.egress[0].hosts[0]'].fix, /\*\/reviews/);
    assert.match(byPath['resources[0].spec.egress[0].hosts[1]'].message, /short names/);
    assert.match(byPath['resources[0].spec.egress[0].hosts[1]'].fix, /reviews\.default\.svc\.cluster\.local/);
    assert.ok(byPath['resources[0].spec.egress[0].hosts[2]']);
    assert.equal(byPath['resources[0].spec.egress[0].hosts[3]'], undefined);
    assert.match(byPath['resources[1].spec'].message, /empty/);
    assert.match(byPath['resources[1].spec'].expected!, /egress/);
  });
});
