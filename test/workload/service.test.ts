import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { FAULT_PATH, startService, type RunningService } from '../../src/workload/service.ts';
import type { ServiceConfigInput } from '../../src/workload/config.ts';
import { SpilloverError } from '../../src/errors.ts';

const MAIN = fileURLToPath(new URL('../../src/workload/main.ts', import.meta.url));

const config = (over: Partial<ServiceConfigInput['capacity']> = {}): ServiceConfigInput => ({
  name: 'A',
  instance: 'a-0',
  listen: { ip: '127.0.1.1', port: 0 },
  capacity: { concurrency: 1, queue: 1, serviceTime: { distribution: 'fixed', value: '1ms' }, ...over },
  seed: 3,
});

const get = async (svc: RunningService, path = '/') => {
  const r = await request(svc.url + path);
  return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
};
const fault = (svc: RunningService, body: unknown) =>
  request(svc.url + FAULT_PATH, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.body.json());

/**
 * Samples of one metric from the exposition text, checking every sample line is well-formed on the way.
 * Special values are matched case-insensitively, as Prometheus does: prom-client writes NaN as "Nan".
 */
function samples(text: string, name: string): Array<{ labels: string; value: number }> {
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|nan|[+-]inf)$/i;
  const out = [];
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('# HELP ') || l.startsWith('# TYPE ')) continue;
    const m = line.exec(l);
    assert.ok(m, `not a valid exposition line: ${JSON.stringify(l)}`);
    if (m[1] === name) out.push({ labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}
const metric = async (svc: RunningService, name: string, label = '') =>
  samples(await svc.metrics(), name).find((s) => s.labels.includes(label))?.value;

async function until(what: string, cond: () => Promise<boolean>) {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`gave up waiting for ${what}`);
}

describe('workload/service', () => {
  const running: RunningService[] = [];
  const start = async (c = config()) => {
    const s = await startService(c);
    running.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
  });

  it("counts an Envoy mirror's shadow copies apart, and exposes no shadow series without one", async () => {
    const svc = await start(config({ concurrency: 4, queue: 4 }));
    await get(svc);
    assert.equal(samples(await svc.metrics(), 'spillover_service_shadow_requests_total').length, 0, 'no mirror, no new series');
    // What Envoy 1.40's async client puts on a shadow copy, as the app sees it behind the receiving sidecar.
    const shadow = (headers: Record<string, string>) => request(svc.url + '/', { headers }).then((r) => r.body.text());
    await shadow({ 'x-forwarded-for': '192.0.2.2' });
    await shadow({ 'x-envoy-internal': 'true' });
    await shadow({ host: 'a.istio.svc.cluster.local-shadow' });
    await shadow({ 'x-forwarded-for': '127.0.0.9' });
    assert.equal(await metric(svc, 'spillover_service_shadow_requests_total'), 3);
    assert.equal(await metric(svc, 'spillover_service_requests_total', 'outcome="served"'), 5, 'shadow copies are served too');
  });

  it('answers with the service and instance headers, on success and on overload', async () => {
    const svc = await start(config({ concurrency: 1, queue: 0, serviceTime: { distribution: 'fixed', value: '10s' } }));
    const first = request(svc.url + '/');
    await until('the first request to hold the slot', async () => (await metric(svc, 'spillover_service_in_flight')) === 1);
    const refused = await get(svc);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['x-spillover-service'], 'A');
    assert.equal(refused.headers['x-spillover-instance'], 'a-0');
    void first.catch(() => {});
    const ok = await get(await start(), '/anything?x=1');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-spillover-service'], 'A');
    assert.equal(ok.headers['x-spillover-instance'], 'a-0');
    assert.deepEqual(JSON.parse(ok.body), { service: 'A', instance: 'a-0' });
  });

  it('with concurrency 1 and queue 1 the third concurrent request is a 503 "overloaded"; the others are served in order', async () => {
    const svc = await start(config({ concurrency: 1, queue: 1, serviceTime: { distribution: 'fixed', value: '300ms' } }));
    const done: number[] = [];
    const one = get(svc).then((r) => (done.push(1), r));
    const two = get(svc).then((r) => (done.push(2), r));
    await until(
      'one running and one queued',
      async () => (await metric(svc, 'spillover_service_in_flight')) === 1 && (await metric(svc, 'spillover_service_queue_depth')) === 1,
    );
    const three = await get(svc);
    assert.equal(three.status, 503);
    assert.equal(three.body, 'overloaded\n');
    assert.deepEqual([(await one).status, (await two).status], [200, 200]);
    assert.deepEqual(done, [1, 2]);
    assert.equal(await metric(svc, 'spillover_service_requests_total', 'outcome="served"'), 2);
    assert.equal(await metric(svc, 'spillover_service_requests_total', 'outcome="rejected"'), 1);
  });

  it('/metrics is valid exposition with counters, gauges and the service-time histogram', async () => {
    const svc = await start(config({ serviceTime: { distribution: 'fixed', value: '20ms' } }));
    for (let i = 0; i < 3; i++) assert.equal((await get(svc)).status, 200);
    const r = await get(svc, '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const buckets = samples(r.body, 'spillover_service_time_seconds_bucket');
    assert.equal(buckets.find((b) => b.labels.includes('le="0.01"'))?.value, 0);
    assert.equal(buckets.find((b) => b.labels.includes('le="0.025"'))?.value, 3);
    assert.equal(samples(r.body, 'spillover_service_time_seconds_count')[0].value, 3);
    assert.ok(
      samples(r.body, 'spillover_service_requests_total').every(
        (s) => s.labels.includes('service="A"') && s.labels.includes('instance="a-0"'),
      ),
    );
    assert.ok(samples(r.body, 'process_resident_memory_bytes')[0]?.value > 0);
    assert.equal((await get(svc, '/healthz')).status, 200);
  });

  it('faults: error503, reset, stall (released when the fault ends) and back to ok after durationMs', async () => {
    const svc = await start();
    await fault(svc, { mode: 'error503' });
    assert.deepEqual([(await get(svc)).status, (await get(svc)).body], [503, 'fault\n']);
    await fault(svc, { mode: 'reset' });
    await assert.rejects(get(svc), /other side closed|socket|reset/i);
    await fault(svc, { mode: 'stall' });
    let answered = false;
    const stalled = get(svc).then((r) => ((answered = true), r));
    await until('the request to be stalled', async () => (await metric(svc, 'spillover_service_stalled')) === 1);
    assert.equal(answered, false);
    await fault(svc, { mode: 'ok' });
    assert.equal((await stalled).status, 200);
    await fault(svc, { mode: 'error503', durationMs: 50 });
    await until('the fault to expire', async () => (await get(svc)).status === 200);
    const bad = await request(svc.url + FAULT_PATH, { method: 'POST', body: '{"mode":"explode"}' });
    assert.equal(bad.statusCode, 400);
    assert.match(await bad.body.text(), /mode/);
  });

  it('refuses a non-loopback address and reports the field path', async () => {
    const c = { ...config(), listen: { ip: '10.0.0.1', port: 8080 } };
    await assert.rejects(
      startService(c, 'a.json'),
      (e: unknown) => e instanceof SpilloverError && e.problems[0].path === 'listen.ip' && e.problems[0].file === 'a.json',
    );
    const bad = { ...config(), capacity: { concurrency: 0, queue: 1, serviceTime: { distribution: 'fixed', value: '1ms' } } };
    await assert.rejects(startService(bad), (e: unknown) => e instanceof SpilloverError && e.problems[0].path === 'capacity.concurrency');
  });

  it('a taken address is an error naming the address and how to find its holder', async () => {
    const first = await start();
    await assert.rejects(startService({ ...config(), listen: first.address }), (e: unknown) => {
      assert.ok(e instanceof SpilloverError, String(e));
      assert.equal(e.exitCode, 1);
      assert.match(e.message, new RegExp(`${first.address.ip}:${first.address.port} \\(EADDRINUSE\\)[\\s\\S]*ss -ltnp`));
      return true;
    });
  });

  it('runs as a child process: a ready line on stdout, serves, exits 0 on SIGTERM', async function () {
    this.timeout(30_000);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, '--config', JSON.stringify({ ...config(), listen: { ip: '127.0.2.1', port: 0 } })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(readline.createInterface({ input: child.stdout }), 'line')) as [string];
      const ready = JSON.parse(line);
      assert.equal(ready.ready, true);
      assert.equal(ready.ip, '127.0.2.1');
      const r = await request(ready.url);
      assert.equal(r.headers['x-spillover-instance'], 'a-0');
      await r.body.dump();
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      assert.deepEqual(await exited, [0, null]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('as a child process, a bad config exits 2 naming the field', async function () {
    this.timeout(30_000);
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', JSON.stringify({ ...config(), instance: '' })], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(err, /--config instance/);
  });
});
