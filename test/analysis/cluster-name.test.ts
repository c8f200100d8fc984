import assert from 'node:assert/strict';
import { clusterSeriesKey, clusterValue, statAcrossClusters } from '../../src/analysis/cluster-name.ts';
import type { Sample } from '../../src/contracts/telemetry.ts';

const FULL = 'outbound|80||a.istio.svc.cluster.local';

describe('analysis/cluster-name', () => {
  it('finds a stat under the full Istio cluster name (stats_tags regex in the bootstrap)', () => {
    const s: Sample[] = [
      ['envoy_cluster_upstream_rq_pending_overflow', { envoy_cluster_name: FULL }, 4],
      ['envoy_cluster_upstream_rq_pending_overflow', { envoy_cluster_name: 'outbound|80||b.istio.svc.cluster.local' }, 100],
    ];
    assert.equal(clusterValue(s, clusterSeriesKey(FULL, 'upstream_rq_pending_overflow')), 4);
  });

  it('finds it under the truncated label Envoy produces without that regex (rest of the name leaks into the metric)', () => {
    const s: Sample[] = [
      ['envoy_cluster_istio_svc_cluster_local_upstream_rq_pending_overflow', { envoy_cluster_name: 'outbound|80||a' }, 6],
    ];
    assert.equal(clusterValue(s, clusterSeriesKey(FULL, 'upstream_rq_pending_overflow')), 6);
    assert.equal(clusterValue(s, clusterSeriesKey(FULL, 'upstream_rq_total')), undefined);
  });

  it('sums a stat across clusters without picking up longer stats that share the suffix', () => {
    const s: Sample[] = [
      ['envoy_cluster_upstream_rq_pending_overflow', { envoy_cluster_name: 'inbound|8080||' }, 2],
      ['envoy_cluster_istio_svc_cluster_local_upstream_rq_pending_overflow', { envoy_cluster_name: 'outbound|80||a' }, 3],
      ['envoy_cluster_retry_upstream_rq_pending_overflow', { envoy_cluster_name: 'x' }, 50],
      ['envoy_http_upstream_rq_pending_overflow', { envoy_http_conn_manager_prefix: 'x' }, 70],
    ];
    assert.equal(statAcrossClusters(s, 'upstream_rq_pending_overflow'), 5);
  });
});
