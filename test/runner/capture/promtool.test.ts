import assert from 'node:assert/strict';
import fs from 'node:fs';
import { promtoolAvailable, promtoolCheck } from './promtool.ts';

const exists = (p: string) => fs.existsSync(new URL(p, import.meta.url));

describe('capture/promtool: the harness /metrics pass `promtool check metrics`', function () {
  before(function () {
    if (!promtoolAvailable()) this.skip(); // needs Debian package `prometheus` (provides promtool)
  });

  it('the helper can fail: promtool rejects a counter without _total and a metric without HELP', () => {
    const r = promtoolCheck('# TYPE bad_counter counter\nbad_counter 1\n');
    assert.equal(r.ok, false, r.output);
  });

  it("the services' /metrics (src/workload/metrics.ts)", async function () {
    if (!exists('../../../src/workload/metrics.ts')) this.skip(); // the services land with another issue
    const { createServiceMetrics } = await import('../../../src/workload/metrics.ts');
    const m = createServiceMetrics('A', 'a-0', { inFlight: () => 1, queued: () => 0, stalled: () => 0 });
    m.requests.labels('served').inc(3);
    m.serviceTime.observe(0.004);
    const text = await m.registry.metrics();
    const r = promtoolCheck(text);
    // Clean, prom-client's default metrics included (its nodejs_active_*_total gauges are dropped).
    assert.ok(r.ok, r.output);
    assert.match(text, /^# TYPE nodejs_active_handles gauge$/m, 'the per-type gauge stays');
    assert.match(text, /^process_resident_memory_bytes\{/m);
  });

  it("a running service's /metrics endpoint, after traffic and a fault", async () => {
    const { startService, FAULT_PATH } = await import('../../../src/workload/service.ts');
    const svc = await startService({
      name: 'A',
      instance: 'a-0',
      listen: { ip: '127.0.1.1', port: 0 },
      capacity: { concurrency: 1, queue: 1, serviceTime: { distribution: 'fixed', value: '1ms' } },
    });
    try {
      for (let i = 0; i < 3; i++) await (await fetch(`${svc.url}/work`)).text();
      await (await fetch(svc.url + FAULT_PATH, { method: 'POST', body: JSON.stringify({ mode: 'error503' }) })).text();
      await (await fetch(`${svc.url}/work`)).text();
      const r = promtoolCheck(await (await fetch(`${svc.url}/metrics`)).text());
      assert.ok(r.ok, r.output);
    } finally {
      await svc.close();
    }
  });

  it("the load driver's /metrics (src/load/metrics.ts)", async function () {
    if (!exists('../../../src/load/metrics.ts')) this.skip(); // the driver lands with another issue
    const { LoadMetrics } = await import('../../../src/load/metrics.ts');
    const m = new LoadMetrics();
    m.httpReqs.labels('peak', '200').inc();
    m.vus.labels('peak').set(2);
    const r = promtoolCheck(await m.registry.metrics());
    assert.ok(r.ok, r.output);
  });
});
