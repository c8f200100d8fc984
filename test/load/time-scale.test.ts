/**
 * `--time-scale` on the load side: `spillover load` scales a scenario from flags with the same function
 * as a scenario file and an experiment (experiment/time-scale.ts), and refuses a factor above 1 exactly
 * as `spillover run` does (issue 12: it used to accept `--time-scale 5`).
 */
import assert from 'node:assert/strict';
import { cli } from './run-cli.ts';

describe('load: --time-scale is applied once and bounded like run', () => {
  it('load <url> scales its duration through experiment/time-scale.ts (rates stay): 2 s at 4/s with F = 0.5 is 1 s of 4/s', async () => {
    const r = await cli(['load', 'http://127.0.0.1:1/', '--rate', '4', '--duration', '2s', '--time-scale', '0.5', '--plan']);
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out) as { timeScale: number; scenarios: Array<{ times: number[] }> };
    assert.equal(plan.timeScale, 0.5);
    assert.deepEqual(plan.scenarios[0].times, [0, 0.25, 0.5, 0.75]);
  });

  for (const f of ['5', '1.5', '0', '-1']) {
    it(`--time-scale ${f} is refused by load (direct and scenario file) and by run, naming the flag`, async () => {
      const runs = [
        ['load', 'http://127.0.0.1:1/', '--rate', '4', '--duration', '2s', '--time-scale', f, '--plan'],
        ['load', '--scenario', 'scenarios/peak-load.js', '--env', 'TARGET=http://127.0.0.1:1', '--time-scale', f, '--plan'],
        ['run', 'experiments/peak-load.yaml', '--time-scale', f, '--dry-run'],
      ];
      for (const args of runs) {
        const r = await cli(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
        assert.match(r.err, /--time-scale/, args.join(' '));
        assert.match(r.err, /<= 1/, args.join(' '));
        assert.equal(r.out, '', `${args.join(' ')} printed no plan`);
      }
    });
  }
});
