/**
 * Normalise once (issue 12, item 3): the loader returns every harness-level duration as a number of ms
 * (`timing`), after the time scale and the floors, so no phase parses a duration string again; the
 * spec keeps the text for what is rendered back.
 */
import assert from 'node:assert/strict';
import { readExperiment } from '../../src/experiment/read-experiment.ts';
import { SCRAPE_INTERVAL_FLOOR_MS, SCRAPE_TIMEOUT_FLOOR_MS, effectiveTiming } from '../../src/experiment/normalise.ts';

/** Every leaf under `timing`: a duration field (its name ends in Ms) must be a finite number. */
function durationLeaves(v: unknown, at = 'timing'): Array<[string, unknown]> {
  if (Array.isArray(v)) return v.flatMap((x, i) => durationLeaves(x, `${at}[${i}]`));
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) =>
      k.endsWith('Ms') ? [[`${at}.${k}`, x] as [string, unknown]] : durationLeaves(x, `${at}.${k}`),
    );
  return [];
}

describe('experiment: durations normalised to ms at load', () => {
  it('failover-kill: every duration the pipeline uses is a number of ms, none a string', () => {
    const exp = readExperiment('experiments/failover-kill.yaml');
    const leaves = durationLeaves(exp.timing);
    assert.ok(leaves.length >= 8, `found ${leaves.length} duration fields`);
    for (const [where, v] of leaves) assert.ok(typeof v === 'number' && Number.isFinite(v), `${where} is ${JSON.stringify(v)}`);
    assert.equal(exp.timing.faults.length, exp.spec.faults.length);
    exp.spec.faults.forEach((f, i) => assert.equal(typeof exp.timing.faults[i].atMs, 'number', `faults[${i}] (${f.at})`));
    // The spec keeps the text the user wrote (rendered back into resolved-experiment.yaml and manifests).
    assert.equal(typeof exp.spec.scrape.interval, 'string');
  });

  it('reads the text once: 1m30s is 90000 ms, 250ms 250, a stall of 1.5s 1500', () => {
    const exp = readExperiment('experiments/peak-load.yaml', {
      set: [
        'load.requestTimeout=1m30s',
        'scrape.interval=250ms',
        'topology.wanDelay=20ms',
        'faults=[{"at":"2s","action":"stall","target":"B","duration":"1.5s"}]',
      ],
    });
    assert.equal(exp.timing.requestTimeoutMs, 90_000);
    assert.equal(exp.timing.wanDelayMs, 20);
    assert.equal(exp.timing.scrape.intervalMs, 250);
    assert.deepEqual(
      exp.timing.faults.map((f) => [f.action, f.atMs, f.durationMs]),
      [['stall', 2000, 1500]],
    );
  });

  it('the time scale is in the ms: faults, set push timing and the push defaults alike; rates and timeouts stay', () => {
    const set = ['faults=[{"at":"10s","action":"unready","target":"B","duration":"4s"}]', 'pushTiming={"debounce":"200ms"}'];
    const one = readExperiment('experiments/peak-load.yaml', { set });
    const tenth = readExperiment('experiments/peak-load.yaml', { set, timeScale: 0.1 });
    assert.equal(tenth.timing.faults[0].atMs, 1000);
    assert.equal(tenth.timing.faults[0].durationMs, 400);
    assert.equal(tenth.timing.push.debounceMs, 20);
    assert.equal(one.timing.push.readinessPeriodMs, 10_000);
    assert.equal(tenth.timing.push.readinessPeriodMs, 1000);
    assert.equal(tenth.timing.requestTimeoutMs, one.timing.requestTimeoutMs);
    // ... and the resolved text records what ran.
    assert.equal(tenth.spec.faults[0].at, '1s');
  });

  it('the scrape floor is applied once, in the loader, and kept beside what was asked', () => {
    const fine = readExperiment('experiments/peak-load.yaml', { set: ['scrape.interval=10ms'] });
    assert.equal(fine.timing.scrape.requestedIntervalMs, 10);
    assert.equal(fine.timing.scrape.intervalMs, SCRAPE_INTERVAL_FLOOR_MS);
    assert.equal(fine.timing.scrape.floorMs, SCRAPE_INTERVAL_FLOOR_MS);
    assert.equal(fine.timing.scrape.timeoutMs, SCRAPE_TIMEOUT_FLOOR_MS);
    const usual = readExperiment('experiments/peak-load.yaml', { set: ['scrape.interval=1s', 'scrape.clustersInterval=20ms'] });
    assert.equal(usual.timing.scrape.intervalMs, 1000);
    assert.equal(usual.timing.scrape.timeoutMs, 900);
    // /clusters was never floored; its timeout has the floor.
    assert.equal(usual.timing.scrape.clustersIntervalMs, 20);
    assert.equal(usual.timing.scrape.clustersTimeoutMs, SCRAPE_TIMEOUT_FLOOR_MS);
    assert.deepEqual(effectiveTiming(usual.timing).scrape, usual.timing.scrape);
  });
});
