/**
 * The live event lines against the report's events, on a recorded real run replayed as its files
 * filled up: the same events, at the same times, with the same causes; ejections released at once.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { analyzeRun } from '../../src/analysis/read-run.ts';
import { replay } from './recorded-run-feed.ts';

const RUN = fileURLToPath(new URL('../fixtures/runs/peak-load-r01/', import.meta.url));
const key = (e: { t: number; kind: string; envoy: string; host: string; service: string; cause: string; source: string }) =>
  `${e.t.toFixed(3)} ${e.kind} ${e.envoy} ${e.host} ${e.service} [${e.source}] ${e.cause}`;

describe('live events (recorded run replayed)', () => {
  it("print exactly the report's events, each once, with the same times and causes", async () => {
    const { analysis } = await analyzeRun(RUN);
    const live = replay(RUN, { lagS: 0.6, flushS: 0.1, tickS: 0.25 });
    assert.deepEqual(live.map(key).sort(), analysis.events.map(key).sort());
    assert.equal(new Set(live.map((e) => e.id)).size, live.length);
    assert.ok(
      analysis.events.some((e) => e.kind === 'eject'),
      'the fixture has an ejection',
    );
  });

  it('releases an ejection from the outlier log on the first tick after the log shows it', () => {
    const live = replay(RUN, { lagS: 0.6, flushS: 0.1, tickS: 0.25 });
    const ej = live.filter((e) => e.kind === 'eject' || e.kind === 'uneject');
    assert.ok(ej.length >= 2);
    for (const e of ej) assert.ok(e.liveAt - (e.t + 0.1) <= 0.25 + 1e-9, `${e.kind} at ${e.t} released at ${e.liveAt}`);
  });

  it('holds back what /clusters saw until a late outlier log can no longer move it', async () => {
    const { analysis } = await analyzeRun(RUN);
    // Envoy flushing its files 0.5 s late: /clusters shows the ejection first.
    const hasty = replay(RUN, { lagS: 0, requestLagS: 0, flushS: 0.5, tickS: 0.25 });
    const hastyEjects = hasty.filter((e) => e.kind === 'eject');
    assert.ok(
      hastyEjects.some((e) => e.source === 'clusters'),
      'without waiting, the /clusters stand-in is printed',
    );
    assert.notDeepEqual(hasty.map(key).sort(), analysis.events.map(key).sort());
    const settled = replay(RUN, { lagS: 0.5 + 0.25 + 0.25, flushS: 0.5, tickS: 0.25 });
    assert.deepEqual(settled.map(key).sort(), analysis.events.map(key).sort());
  });
});

describe('live event identity', () => {
  it('tells apart events of one Envoy at one instant from different sources', async () => {
    const { eventId } = await import('../../src/live/event-feed.ts');
    const base = {
      t: 5.169,
      kind: 'capture-gap' as const,
      envoy: 'client',
      host: '',
      service: '',
      offeredRps: 1,
      achievedRps: 1,
      cause: '',
      detail: '',
    };
    assert.notEqual(eventId({ ...base, source: 'scrape' }), eventId({ ...base, source: 'clusters' }));
    assert.equal(
      eventId({ ...base, source: 'scrape', detail: 'grew' }),
      eventId({ ...base, source: 'scrape', detail: 'other' }),
      'a growing detail is the same event',
    );
  });
});
