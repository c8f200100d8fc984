/**
 * The warm-up (load/warm-up.ts) is started explicitly, never by importing the driver: a module that
 * starts a worker thread when it is imported made every importer pay for it (issue 12). Each case runs
 * in a fresh process, whose Worker constructor counts the threads started and the files they run.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';

const driver = new URL('../../src/load/driver.ts', import.meta.url).href;

/** Runs `body` (ESM, `driver` in scope as the module's URL) in a fresh node with tsx; returns the workers it started. */
async function workersStartedBy(body: string): Promise<string[]> {
  const script = `
import { createRequire, syncBuiltinESMExports } from 'node:module';
const wt = createRequire(import.meta.url)('node:worker_threads');
const started = [];
const Real = wt.Worker;
wt.Worker = class extends Real {
  constructor(file, opts) {
    started.push(opts && opts.eval ? 'eval:' + String(file).slice(0, 40) : String(file));
    super(file, opts);
  }
};
syncBuiltinESMExports();
const driver = ${JSON.stringify(driver)};
${body}
process.stdout.write(JSON.stringify(started));
process.exit(0);
`;
  const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

describe('load/warm-up: started explicitly, from a real worker file', function () {
  this.timeout(60_000);

  it('importing the driver starts no thread', async () => {
    assert.deepEqual(await workersStartedBy('await import(driver);'), []);
  });

  it('warmUp() runs warm-up-server.js on one thread, once per process however often it is called', async () => {
    const started = await workersStartedBy('const m = await import(driver); await m.warmUp(); await m.warmUp();');
    assert.equal(started.length, 1, started.join(', '));
    assert.match(started[0], /^file:.*\/src\/load\/warm-up-server\.js$/);
  });
});
