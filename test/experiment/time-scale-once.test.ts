/**
 * One place applies the time scale (issue 12, item 3): experiment/time-scale.ts scales the experiment
 * (loader) and the scenario (the scenario readers that `run` and `spillover load` share), so the same
 * script at the same factor gets the same schedule through `run` and through `load --time-scale`.
 */
import assert from 'node:assert/strict';
import { scaleScenarioDurations } from '../../src/experiment/time-scale.ts';
import { readScenario } from '../../src/load/scenario.ts';
import { planSchedule } from '../../src/load/schedule.ts';
import type { Scenario } from '../../src/load/types.ts';
import { prepareRun } from '../../src/orchestrate/prepare.ts';
import { cli } from '../load/run-cli.ts';

const round = (times: number[]) => times.map((t) => Math.round(t * 1e6) / 1e6);

describe('time scale: one function for the experiment and its scenario', () => {
  it('run and load --time-scale give peak-load the same stage ms and the same schedule', async () => {
    const f = 0.1;
    const { exp, scenario } = await prepareRun({ experimentFile: 'experiments/peak-load.yaml', timeScale: f });
    const run = scenario as Scenario;
    const env = Object.entries(exp.spec.load.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    const r = await cli(['load', '--scenario', exp.scenarioPath, ...env, '--time-scale', String(f), '--plan']);
    assert.equal(r.code, 0, r.err);
    const load = JSON.parse(r.out) as { timeScale: number; scenarios: Array<{ scenario: string; times: number[] }> };
    assert.equal(load.timeScale, f);
    assert.deepEqual(
      load.scenarios.map((s) => s.times),
      planSchedule(run).map((p) => round(p.times)),
    );

    // Both are the unscaled scenario through scaleScenarioDurations: stage ms are the file's x F.
    const unscaled = await readScenario(exp.scenarioPath, { env: exp.spec.load.env });
    // (as plain data: the script's arrays come from the sandbox's realm)
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    assert.deepEqual(plain(run.scenarios), plain(unscaled.scenarios.map((s) => scaleScenarioDurations(s, f))));
    const stages = (s: Scenario) => s.scenarios.flatMap((x) => ('stages' in x ? x.stages.map((st) => Math.round(st.duration * 1000)) : []));
    assert.ok(stages(run).length > 0, 'peak-load has stages');
    assert.deepEqual(
      stages(run),
      stages(unscaled).map((ms) => Math.round(ms * f)),
    );
  });

  it('scales every duration field an executor has, and nothing else', () => {
    const s = {
      executor: 'ramping-vus',
      startTime: 10,
      gracefulStop: 30,
      gracefulRampDown: 20,
      stages: [{ duration: 60, target: 7 }],
      startVUs: 3,
    };
    assert.deepEqual(scaleScenarioDurations(s, 0.5), {
      executor: 'ramping-vus',
      startTime: 5,
      gracefulStop: 15,
      gracefulRampDown: 10,
      stages: [{ duration: 30, target: 7 }],
      startVUs: 3,
    });
    const it = { executor: 'per-vu-iterations', startTime: 0, gracefulStop: 30, maxDuration: 600, vus: 2, iterations: 9 };
    assert.deepEqual(scaleScenarioDurations(it, 0.1), { ...it, gracefulStop: 3, maxDuration: 60 });
    assert.equal(scaleScenarioDurations(it, 1), it);
  });
});
