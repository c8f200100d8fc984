/**
 * The eras run older Envoys (1.36, 1.37) on bootstraps written for the pinned one: every golden
 * bootstrap must be accepted by each non-default release that is installed (`--mode validate`), so a
 * field an older Envoy rejects is found here rather than as a failed era run. The pretest script
 * installs the releases the eras test uses; a release not installed is reported as pending.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { cachedEnvoyPath, ENVOY_VERSION, installableEnvoyVersions } from '../../src/runner/envoy-install.ts';
import { translate } from '../../src/mesh/translate.ts';
import { toYaml } from '../../src/util/yaml.ts';
import { GOLDEN_CASES } from '../mesh/golden-cases.ts';
import { materialize } from '../mesh/real-envoy.ts';

describe('runner: every non-default Envoy release accepts the generated bootstraps', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-envoy-releases-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const version of installableEnvoyVersions().filter((v) => v !== ENVOY_VERSION)) {
    it(`Envoy ${version}`, async function () {
      const bin = cachedEnvoyPath({ version });
      if (process.env.ENVOY_BIN || !fs.existsSync(bin)) this.skip();
      const rejected: string[] = [];
      // Four cases at a time: each validation is its own short-lived Envoy process.
      const validate = async (c: (typeof GOLDEN_CASES)[number]) => {
        const runDir = path.join(dir, version, c.name);
        const plan = c.plan({ runDir });
        await materialize(plan, runDir);
        const { bootstraps } = translate(plan);
        await Promise.all(
          Object.entries(bootstraps).map(async ([name, b]) => {
            const file = path.join(runDir, `${name}.yaml`);
            fs.writeFileSync(file, toYaml(b));
            const r = await execa(bin, ['--mode', 'validate', '-c', file, '--disable-hot-restart', '-l', 'error'], {
              reject: false,
              all: true,
            });
            if (r.exitCode !== 0) rejected.push(`${c.name}/${name}: ${r.all}`);
          }),
        );
      };
      for (let i = 0; i < GOLDEN_CASES.length; i += 4) await Promise.all(GOLDEN_CASES.slice(i, i + 4).map(validate));
      assert.deepEqual(rejected, [], `Envoy ${version} rejected:\n${rejected.join('\n')}`);
    });
  }
});
