/**
 * The fault-control endpoint answers only the harness (issue 11): with a control token, a fault without
 * it or with a wrong one is refused (403) and changes nothing; the harness's token works. The token
 * reaches a service started as the harness starts it through its environment, not its command line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER, FAULT_PATH, startService, type RunningService } from '../../src/workload/service.ts';

const MAIN = fileURLToPath(new URL('../../src/workload/main.ts', import.meta.url));
const TOKEN = 'f'.repeat(32);
const config = {
  name: 'A',
  instance: 'a-0',
  listen: { ip: '127.0.1.1', port: 0 },
  capacity: { concurrency: 1, queue: 1, serviceTime: { distribution: 'fixed', value: '1ms' } },
};

const fault = async (url: string, headers: Record<string, string>) => {
  const r = await request(url + FAULT_PATH, { method: 'POST', headers, body: JSON.stringify({ mode: 'error503' }) });
  await r.body.text();
  return r.statusCode;
};
const status = async (url: string) => {
  const r = await request(url + '/work');
  await r.body.text();
  return r.statusCode;
};

describe('workload: the fault-control endpoint accepts only the harness', function () {
  this.timeout(30_000);

  it("no token or a wrong one: 403 and no fault; the run's token: the fault applies", async () => {
    const svc: RunningService = await startService(config, 'test', { controlToken: TOKEN });
    try {
      assert.equal(await fault(svc.url, {}), 403);
      assert.equal(await fault(svc.url, { [CONTROL_TOKEN_HEADER]: 'e'.repeat(32) }), 403);
      assert.equal(await fault(svc.url, { [CONTROL_TOKEN_HEADER]: TOKEN.slice(1) }), 403);
      assert.equal(await status(svc.url), 200, 'a refused fault changed nothing');
      assert.equal(await fault(svc.url, { [CONTROL_TOKEN_HEADER]: TOKEN }), 200);
      assert.equal(await status(svc.url), 503);
    } finally {
      await svc.close();
    }
  });

  it('the service process takes the token from SPILLOVER_CONTROL_TOKEN', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', JSON.stringify(config)], {
      env: { ...process.env, [CONTROL_TOKEN_ENV]: TOKEN },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
      const { url } = JSON.parse(line) as { url: string };
      assert.equal(await fault(url, {}), 403);
      assert.equal(await fault(url, { [CONTROL_TOKEN_HEADER]: TOKEN }), 200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
