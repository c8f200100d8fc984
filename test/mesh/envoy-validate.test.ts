/**
 * Every bootstrap the golden cases generate must be accepted by the real Envoy (`--mode validate`):
 * a golden file that Envoy rejects would only preserve a mistake.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { translate } from '../../src/mesh/translate.ts';
import { toYaml } from '../../src/util/yaml.ts';
import { GOLDEN_CASES } from './golden-cases.ts';
import { envoyBin, materialize } from './real-envoy.ts';

describe('mesh: real Envoy accepts every generated bootstrap', function () {
  this.timeout(180_000);
  let bin: string;
  let dir: string;
  before(async () => {
    bin = await envoyBin();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-mesh-validate-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const c of GOLDEN_CASES) {
    it(`${c.name}`, async () => {
      const runDir = path.join(dir, c.name);
      const plan = c.plan({ runDir });
      await materialize(plan, runDir);
      const { bootstraps } = translate(plan);
      // Validation runs are independent processes; run the proxies of one case side by side.
      await Promise.all(
        Object.entries(bootstraps).map(async ([name, b]) => {
          const file = path.join(runDir, `${name}.yaml`);
          fs.writeFileSync(file, toYaml(b));
          const r = await execa(bin, ['--mode', 'validate', '-c', file, '--disable-hot-restart', '-l', 'error'], {
            reject: false,
            all: true,
          });
          assert.equal(r.exitCode, 0, `Envoy rejected ${c.name}/${name}:\n${r.all}`);
        }),
      );
    });
  }
});
