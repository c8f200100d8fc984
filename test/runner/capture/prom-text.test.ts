import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Registry, Counter, Histogram } from 'prom-client';
import { parsePromText, PromParseError } from '../../../src/runner/capture/prom-text.ts';

describe('capture/prom-text', () => {
  it('parses Envoy-style output: dotted Istio cluster names in label values, TYPE lines, Inf and NaN', () => {
    const text = [
      '# TYPE envoy_cluster_upstream_rq_pending_overflow counter',
      'envoy_cluster_upstream_rq_pending_overflow{envoy_cluster_name="outbound|80||a.istio.svc.cluster.local"} 7',
      'envoy_cluster_endpoint_healthy{envoy_cluster_name="svc",envoy_endpoint_address="127.0.1.10:8080"} 0',
      'envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="svc",le="+Inf"} 12',
      'odd_gauge NaN',
      'neg -Inf 1700000000000',
      '',
    ].join('\n');
    const s = parsePromText(text);
    assert.deepEqual(s[0], [
      'envoy_cluster_upstream_rq_pending_overflow',
      { envoy_cluster_name: 'outbound|80||a.istio.svc.cluster.local' },
      7,
    ]);
    assert.equal(s[1][1].envoy_endpoint_address, '127.0.1.10:8080');
    assert.equal(s[2][1].le, '+Inf');
    assert.ok(Number.isNaN(s[3][2]));
    assert.equal(s[4][2], -Infinity);
    assert.equal(s.length, 5);
  });

  it('unescapes label values (backslash, quote, newline)', () => {
    const [[, labels]] = parsePromText('m{a="x\\\\y",b="say \\"hi\\"",c="l1\\nl2"} 1\n');
    assert.deepEqual(labels, { a: 'x\\y', b: 'say "hi"', c: 'l1\nl2' });
  });

  it('names the line of malformed input', () => {
    assert.throws(
      () => parsePromText('ok 1\nbad{a="1" 2\n'),
      (e: unknown) => e instanceof PromParseError && e.line === 2,
    );
    assert.throws(() => parsePromText('m{a="1"} notanumber\n'), PromParseError);
  });

  it('reads back what prom-client writes, sample for sample', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.nat({ max: 1e6 })), { minLength: 1, maxLength: 6 }),
        async (pairs) => {
          const reg = new Registry();
          const c = new Counter({ name: 'x_total', help: 'h', labelNames: ['v'], registers: [reg] });
          const h = new Histogram({ name: 'lat_seconds', help: 'h', buckets: [0.1, 1], registers: [reg] });
          const expected = new Map<string, number>();
          for (const [v, n] of pairs) {
            c.labels(v).inc(n);
            expected.set(v, (expected.get(v) ?? 0) + n);
            h.observe(n / 1e6);
          }
          const samples = parsePromText(await reg.metrics());
          for (const [v, n] of expected) {
            const got = samples.find(([name, l]) => name === 'x_total' && l.v === v);
            assert.equal(got?.[2], n);
          }
          assert.equal(samples.find(([name]) => name === 'lat_seconds_count')?.[2], pairs.length);
        },
      ),
      { numRuns: 40 },
    );
  });
});
