import assert from 'node:assert/strict';
import { parseK6DurationSeconds } from '../../src/util/duration.ts';
import { isLoopbackAddress, resolveTarget } from '../../src/load/loopback.ts';

describe('load/duration and load/loopback', () => {
  it('parses k6 durations: Go syntax, days, numbers as milliseconds', () => {
    const cases: Array<[unknown, number | undefined]> = [
      ['1m30s', 90],
      ['500ms', 0.5],
      ['1.5h', 5400],
      ['2d', 172800],
      ['1h2m3s4ms', 3723.004],
      ['250us', 0.00025],
      ['0', 0],
      [1500, 1.5],
      ['1500', 1.5],
      ['10 seconds', undefined],
      ['1x', undefined],
      ['', undefined],
      [null, undefined],
      ['s', undefined],
    ];
    for (const [input, want] of cases) {
      const got = parseK6DurationSeconds(input);
      if (want === undefined) assert.equal(got, undefined, String(input));
      else assert.ok(got !== undefined && Math.abs(got - want) < 1e-9, `${input}: ${got}`);
    }
    assert.equal(parseK6DurationSeconds('-1s'), -1);
  });

  it('knows loopback addresses, v4, v6 and v4-mapped', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '[::1]', '::ffff:127.0.0.2']) assert.ok(isLoopbackAddress(a), a);
    for (const a of ['128.0.0.1', '10.0.0.1', '0.0.0.0', '::', '::ffff:10.0.0.1', 'localhost', '1.127.0.0'])
      assert.ok(!isLoopbackAddress(a), a);
  });

  it('resolves names and refuses those that leave loopback', async () => {
    const local = await resolveTarget('localhost', 80, false, 'test');
    assert.ok(isLoopbackAddress(local.address));
    await assert.rejects(resolveTarget('192.0.2.1', 80, false, 'test'), /outside loopback/);
    assert.equal((await resolveTarget('192.0.2.1', 80, true, 'test')).address, '192.0.2.1');
  });
});
