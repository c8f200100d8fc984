import assert from 'node:assert/strict';
import { flattenClusters } from '../../../src/runner/capture/clusters-json.ts';

describe('capture/clusters-json', () => {
  it('flattens /clusters?format=json, reading protobuf-JSON defaults (omitted priority 0, false flags, string counters)', () => {
    const json = {
      cluster_statuses: [
        {
          name: 'outbound|80||a.istio.svc.cluster.local',
          host_statuses: [
            {
              address: { socket_address: { address: '127.0.1.10', port_value: 8080 } },
              stats: [
                { name: 'rq_total', value: '41' },
                { name: 'rq_error', value: '1' },
                { name: 'cx_active', type: 'GAUGE', value: '1' },
              ],
              health_status: { failed_outlier_check: true, eds_health_status: 'HEALTHY' },
              locality: { region: 'r1', zone: 'z1' },
            },
            {
              address: { socket_address: { address: '127.0.1.20', port_value: 15443 } },
              stats: [{ name: 'rq_total', value: '9' }],
              health_status: { eds_health_status: 'HEALTHY' },
              priority: 1,
            },
          ],
        },
        { name: 'no_hosts' },
      ],
    };
    const hosts = flattenClusters(json);
    assert.equal(hosts.length, 2);
    assert.deepEqual(hosts[0], {
      cluster: 'outbound|80||a.istio.svc.cluster.local',
      address: '127.0.1.10:8080',
      priority: 0,
      locality: 'r1/z1/',
      healthy: false,
      flags: ['failed_outlier_check'],
      rqTotal: 41,
      rqError: 1,
      rqActive: 0,
      cxActive: 1,
    });
    assert.equal(hosts[1].priority, 1);
    assert.equal(hosts[1].healthy, true);
    assert.equal(hosts[1].locality, undefined);
  });

  it('treats a non-routable EDS status as unhealthy', () => {
    const [h] = flattenClusters({
      cluster_statuses: [
        {
          name: 'c',
          host_statuses: [
            { address: { socket_address: { address: '127.0.0.1', port_value: 1 } }, health_status: { eds_health_status: 'DRAINING' } },
          ],
        },
      ],
    });
    assert.equal(h.healthy, false);
    assert.deepEqual(h.flags, ['eds_draining']);
  });

  it('rejects a body that is not a clusters document', () => {
    assert.throws(() => flattenClusters({ stats: [] }), /cluster_statuses/);
  });
});
