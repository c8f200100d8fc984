/**
 * VirtualService route actions (vs-actions.ts) and their load-time validation (validate-routes.ts):
 * the values istiod writes for mirror percentages and header operations, and the bad values istiod
 * refuses, reported with field, expected, found and fix. The full translation is pinned by the
 * route-actions golden and checked against istiod by scripts/mesh-diff-all.ts.
 */
import assert from 'node:assert/strict';
import { validateIstioResources } from '../../src/mesh/validate.ts';
import { headerOperations, mirrorPolicies, percentPerMillion } from '../../src/mesh/vs-actions.ts';
import { parseIstioVersion } from '../../src/mesh/istio-version.ts';
import type { TranslateContext } from '../../src/mesh/context.ts';

const CTX = { file: 'experiments/x.yaml', basePath: 'resources', hosts: ['httpbin.default.svc.cluster.local'] };
const vs = (http: unknown[]) => [
  {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'h', namespace: 'default' },
    spec: { hosts: ['httpbin'], http },
  },
];
const dest = [{ destination: { host: 'httpbin' } }];
const ctxFor = (v: string) => ({ version: parseIstioVersion(v) }) as TranslateContext;

describe('mesh: VirtualService route actions', () => {
  it('mirrors as istiod: mirrorPercentage per million (truncated), legacy mirrorPercent per hundred, 100 % by default, 0 mirrors nothing', () => {
    const c = () => 'm';
    const one = (h: object, v = '1.29') => mirrorPolicies(h, c, ctxFor(v));
    assert.deepEqual(one({ mirror: { host: 'x' }, mirrorPercentage: { value: 0.57 } })[0].runtime_fraction.default_value, {
      numerator: 5699,
      denominator: 'MILLION',
    });
    assert.deepEqual(one({ mirror: { host: 'x' }, mirrorPercent: 25 })[0].runtime_fraction.default_value, {
      numerator: 25,
      denominator: 'HUNDRED',
    });
    assert.deepEqual(one({ mirror: { host: 'x' } })[0].runtime_fraction.default_value, { numerator: 100, denominator: 'HUNDRED' });
    assert.deepEqual(one({ mirror: { host: 'x' }, mirrorPercentage: { value: 0 } }), []);
    assert.equal(one({ mirrors: [{ destination: { host: 'x' } }, { destination: { host: 'y' }, percentage: { value: 0 } }] }).length, 1);
    // DISABLE_SHADOW_HOST_SUFFIX defaults to true from 1.28: the mirrored request keeps its Host.
    assert.equal(one({ mirror: { host: 'x' } })[0].disable_shadow_host_suffix_append, true);
    assert.equal(one({ mirror: { host: 'x' } }, '1.27')[0].disable_shadow_host_suffix_append, undefined);
    assert.equal(one({ mirror: { host: 'x' } })[0].trace_sampled, false);
    assert.equal(percentPerMillion({ value: 50.5 }).numerator, 505000);
  });

  it('writes header operations sorted, set before add, pseudo-headers dropped and :authority as the rewrite', () => {
    const ops = headerOperations({
      request: { set: { 'x-b': '2', 'x-a': '1', ':authority': 'v2' }, add: { 'x-c': '3' }, remove: ['x-d'] },
    });
    assert.deepEqual(
      ops.request_headers_to_add?.map((h) => [h.header.key, h.append_action]),
      [
        ['x-a', 'OVERWRITE_IF_EXISTS_OR_ADD'],
        ['x-b', 'OVERWRITE_IF_EXISTS_OR_ADD'],
        ['x-c', 'APPEND_IF_EXISTS_OR_ADD'],
      ],
    );
    assert.equal(ops.authority, 'v2');
    assert.deepEqual(ops.request_headers_to_remove, ['x-d']);
  });

  it('accepts the valid forms', () => {
    const ok = vs([
      { route: dest, mirror: { host: 'httpbin', subset: 'v2' }, mirrorPercentage: { value: 100 } },
      {
        route: dest,
        mirrors: [{ destination: { host: 'httpbin' }, percentage: { value: 0.5 } }],
        headers: { request: { set: { ':authority': 'x' } } },
      },
      { redirect: { uri: '/new', redirectCode: 302 } },
      { directResponse: { status: 503, body: { string: 'no' } } },
      { route: dest, rewrite: { uriRegexRewrite: { match: '^/a(.*)', rewrite: '/b\\1' } } },
    ]);
    assert.deepEqual(validateIstioResources(ok, CTX), []);
  });

  it('refuses what istiod refuses, naming the field, expected, found and fix', () => {
    const bad = vs([
      { route: dest, mirror: { host: 'httpbin' }, mirrorPercentage: { value: 150 } },
      { route: dest, mirrorPercent: 50 },
      { route: dest, mirror: { host: 'httpbin' }, mirrors: [{ destination: { host: 'httpbin' }, percentage: { value: -1 } }] },
      { route: dest, redirect: { uri: '/x', redirectCode: 304 } },
      { route: dest, rewrite: {} },
      { route: dest, headers: { request: { remove: [':path'] }, response: { set: { host: 'x' } } } },
      { directResponse: { status: 700 } },
    ]);
    const byPath = Object.fromEntries(validateIstioResources(bad, CTX).map((p) => [p.path, p]));
    const at = 'resources[0].spec.http';
    const p = byPath[`${at}[0].mirrorPercentage.value`];
    assert.equal(p.file, 'experiments/x.yaml');
    assert.match(p.expected!, /0 to 100/);
    assert.equal(p.found, '150');
    assert.match(p.fix, /100/);
    assert.ok(byPath[`${at}[1].mirrorPercent`], 'a percentage without mirror');
    assert.ok(byPath[`${at}[2].mirrors`], 'mirror and mirrors');
    assert.ok(byPath[`${at}[2].mirrors[0].percentage.value`]);
    assert.ok(byPath[`${at}[3].route`], 'redirect with route');
    assert.match(byPath[`${at}[3].redirect.redirectCode`].expected!, /301, 302, 303, 307, 308/);
    assert.ok(byPath[`${at}[4].rewrite`]);
    assert.ok(byPath[`${at}[5].headers.request.remove`]);
    assert.ok(byPath[`${at}[5].headers.response.set`]);
    assert.ok(byPath[`${at}[6].directResponse.status`]);
    // Structure first: a misspelt field of a mirror is named with the field it should be.
    const typo = validateIstioResources(vs([{ route: dest, mirror: { hots: 'httpbin' } }]), CTX).find((x) => x.path?.endsWith('.hots'));
    assert.equal(typo?.path, `${at}[0].mirror.hots`);
    assert.match(String(typo?.fix), /host/);
  });
});
