import assert from 'node:assert/strict';
import { parseOutlierLog, parseRfc3339Ms } from '../../src/analysis/outlier-log.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('analysis/outlier-log', () => {
  it('reads RFC 3339 stamps with 0 to 9 fractional digits at ms precision', () => {
    assert.equal(parseRfc3339Ms('2026-01-01T12:00:41Z'), T0 + 41000);
    assert.equal(parseRfc3339Ms('2026-01-01T12:00:41.2Z'), T0 + 41200);
    assert.equal(parseRfc3339Ms('2026-01-01T12:00:41.123456789Z'), T0 + 41123.456789);
    assert.equal(parseRfc3339Ms('2026-01-01T13:00:41.5+01:00'), T0 + 41500);
    assert.equal(parseRfc3339Ms('yesterday'), undefined);
  });

  it('handles the UNEJECT quirks: meaningless type/enforced, secs_since_last_action as a string; keeps unenforced detections apart', () => {
    const text = [
      '{"type":"CONSECUTIVE_GATEWAY_FAILURE","timestamp":"2026-01-01T12:00:41.199Z","cluster_name":"outbound|80||a.istio.svc.cluster.local","upstream_url":"127.0.1.10:8080","action":"EJECT","num_ejections":0,"enforced":false,"eject_consecutive_event":{}}',
      '{"type":"CONSECUTIVE_5XX","timestamp":"2026-01-01T12:00:41.2Z","cluster_name":"outbound|80||a.istio.svc.cluster.local","upstream_url":"127.0.1.10:8080","action":"EJECT","num_ejections":1,"enforced":true,"eject_consecutive_event":{}}',
      'not json at all',
      '{"type":"CONSECUTIVE_5XX","timestamp":"2026-01-01T12:01:42.001Z","secs_since_last_action":"60","cluster_name":"outbound|80||a.istio.svc.cluster.local","upstream_url":"tcp://127.0.1.10:8080","action":"UNEJECT","num_ejections":1,"enforced":false}',
      '',
    ].join('\n');
    const ev = parseOutlierLog(text, T0);
    assert.equal(ev.length, 3);
    assert.deepEqual(
      ev.map((e) => [e.action, e.enforced, e.type]),
      [
        ['EJECT', false, 'CONSECUTIVE_GATEWAY_FAILURE'],
        ['EJECT', true, 'CONSECUTIVE_5XX'],
        ['UNEJECT', true, undefined],
      ],
    );
    assert.equal(ev[1].t, 41.2);
    assert.equal(ev[2].secsSinceLastAction, 60);
    assert.equal(ev[2].host, '127.0.1.10:8080');
  });
});
