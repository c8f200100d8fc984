/**
 * "One duration module, units in the function names" (issue 12): util/duration.ts is the only place
 * that parses or prints a duration, and what used to have its own parser (k6's params.timeout) or
 * printer (k6's end-of-test summary) goes through it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as duration from '../../src/util/duration.ts';
import { timeoutMs } from '../../src/load/vu/http-body.ts';

const files = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));

describe('util/duration.ts: the one duration module', () => {
  it('no other file in src holds a table of duration units or a unit regex', () => {
    const own = path.join('src', 'util', 'duration.ts');
    const unitTable = /\bms:\s*1\b[^\n]*\bs:\s*1000?\b|\(\?:?ms\|s\|m\|h\)|\(ms\|s\|m\|h\)|\(ns\|us/;
    const hits = files('src')
      .filter((f) => f.endsWith('.ts') && f !== own)
      .filter((f) => unitTable.test(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(hits, []);
  });

  it('every exported function names its unit or its dialect', () => {
    const named = /(Ms|Ns|Seconds)$|^(is|whole)[A-Z]|^(to|envoy)[A-Za-z]*Duration/;
    for (const [name, v] of Object.entries(duration)) if (typeof v === 'function') assert.match(name, named, name);
  });

  it("k6's params.timeout takes every k6 duration (1m30s, 1.5s), a number as ms, and refuses the rest", () => {
    assert.equal(timeoutMs('1m30s', 0), 90_000);
    assert.equal(timeoutMs('1.5s', 0), 1500);
    assert.equal(timeoutMs('250ms', 0), 250);
    assert.equal(timeoutMs(750, 0), 750);
    assert.equal(timeoutMs(undefined, 60_000), 60_000);
    assert.throws(() => timeoutMs('soon', 0), /params\.timeout "soon" is not a duration/);
  });

  it("prints durations as k6's summary does", () => {
    assert.deepEqual([0, 0.0004, 0.5, 1.234, 1500, 62_000].map(duration.formatK6DurationMs), [
      '0s',
      '400ns',
      '500µs',
      '1.23ms',
      '1.5s',
      '1m2s',
    ]);
  });
});
