/** `spillover mesh diff` refuses bad input and a missing Go with exit 2 and leaves nothing behind. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';

async function run(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stderr: string }> {
  const saved = { ...process.env };
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((s: string) => ((stderr += s), true)) as never;
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    const code = await main(['node', 'spillover', ...args]);
    return { code, stderr };
  } finally {
    process.stderr.write = write;
    process.env = saved;
    process.exitCode = undefined;
  }
}

describe('cli: spillover mesh diff', () => {
  it('names the experiment it cannot find', async () => {
    const r = await run(['mesh', 'diff', 'no-such-experiment'], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no-such-experiment: no such experiment/);
  });

  it('without Go and without a built helper: exit 2, what to install, nothing created in the cache', async () => {
    const cache = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-nogo-')), 'cache');
    const r = await run(['mesh', 'diff', 'peak-load'], { PATH: '/nonexistent', SPILLOVER_CACHE: cache, SPILLOVER_ISTIO_CONFIG: undefined });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /Go is needed to build the istiod-config helper[\s\S]*expected: go 1\.26 or newer on PATH[\s\S]*SPILLOVER_ISTIO_CONFIG/,
    );
    assert.equal(fs.existsSync(cache), false);
  });

  it('a SPILLOVER_ISTIO_CONFIG that does not exist is named', async () => {
    const r = await run(['mesh', 'diff', 'peak-load'], { SPILLOVER_ISTIO_CONFIG: '/nonexistent/istiod-config' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SPILLOVER_ISTIO_CONFIG: the istiod-config binary it names does not exist/);
  });
});
