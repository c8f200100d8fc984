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
    const r = promtoolCheck(await m.registry.metrics());
    // prom-client's collectDefaultMetrics() names three gauges nodejs_active_*_total; promtool's lint
    // rejects that. They are the library's names, not the harness's: every other line must be clean.
    const own = r.output.split('\n').filter((l) => l.trim() && !/^nodejs_active_(handles|requests|resources)_total non-counter/.test(l));
    assert.deepEqual(own, [], r.output);
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
