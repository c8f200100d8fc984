import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { importK6, parseCsvTime, parseK6Time } from '../../src/load/k6-import.ts';
import { SpilloverError } from '../../src/errors.ts';
import type { LoadTick, RequestRecord, RunManifest } from '../../src/contracts/raw.ts';

const FIX = path.resolve('test/fixtures/k6');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-k6import-'));
const readNd = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const near = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

describe('load/k6-import: k6 JSON and CSV output to raw results', () => {
  it('parses RFC3339 with ns and an offset, and every CSV timeFormat', () => {
    near(parseK6Time('2026-03-01T12:00:00.512345678+02:00'), T0 + 512.345678, 1e-6);
    near(parseK6Time('2026-03-01T10:00:00Z'), T0);
    assert.ok(Number.isNaN(parseK6Time('yesterday')));
    for (const [s, ms] of [
      ['1772359200', T0],
      ['1772359200512', T0 + 512],
      ['1772359200512345', T0 + 512.345],
      ['1772359200512345678', T0 + 512.345678],
    ] as const) {
      near(parseCsvTime(s), ms, 1e-3);
    }
  });

  for (const [file, precise] of [
    ['run.json', true],
    ['run-unix-milli.csv', false],
  ] as const) {
    it(`imports ${file}: requests from http_req_duration, drops and VUs into ticks, t0 from the data`, async () => {
      const dir = tmp();
      const res = await importK6(path.join(FIX, file), dir, { writeManifest: true });
      assert.equal(res.format, file.endsWith('.json') ? 'json' : 'csv');
      assert.equal(res.t0Epoch, T0);
      assert.equal(res.requests, 3);
      assert.equal(res.dropped, 1);
      const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
      assert.deepEqual(
        recs.map((r) => [r.scenario, r.iter, r.status, r.error, r.method]),
        [
          ['peak', 0, 200, undefined, 'GET'],
          ['peak', 1, 503, undefined, 'GET'],
          ['peak', 2, 0, 'refused', 'GET'],
        ],
      );
      const eps = precise ? 1e-6 : 1e-3;
      near(recs[0].end, 0.512345678, eps);
      near(recs[0].sent, 0.512345678 - 0.012345, eps);
      assert.equal(recs[0].intended, recs[0].sent, 'k6 has no intended start: intended = sent');
      near(recs[2].end - recs[2].sent, 0.00025, 1e-6);
      assert.equal(new Set(recs.map((r) => r.rid)).size, 3);
      if (!precise) assert.equal(recs[0].instance, 'a-0', 'extra_tags are read as tags');
      const ticks = readNd<LoadTick>(path.join(dir, 'raw/load.ndjson'));
      const byT = new Map(ticks.map((t) => [t.t, t]));
      assert.equal(byT.get(1)!.started, 1);
      assert.equal(byT.get(1)!.allocated, 10);
      assert.equal(byT.get(2)!.dropped, 1);
      assert.equal(byT.get(2)!.active, 2);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as RunManifest;
      assert.equal(manifest.engine, 'k6');
      assert.equal(manifest.t0Epoch, T0);
    });
  }

  it('reads a header-driven CSV with other system tags and RFC3339 times, and gzipped JSON', async () => {
    const dir = tmp();
    const res = await importK6(path.join(FIX, 'run-rfc3339.csv'), dir, { t0Epoch: T0 });
    assert.deepEqual([res.requests, res.dropped], [1, 1]);
    near(readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'))[0].end, 0.512345678, 1e-6);
    const gz = path.join(tmp(), 'run.json.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(path.join(FIX, 'run.json'))));
    const dir2 = tmp();
    assert.equal((await importK6(gz, dir2)).requests, 3);
  });

  it('rejects files that are not k6 output, naming the file and line', async () => {
    const bad = path.join(tmp(), 'bad.json');
    fs.writeFileSync(bad, '{"type":"Point","metric":"x","data":{"time":"nope","value":1}}\n');
    await assert.rejects(
      importK6(bad, tmp()),
      (e: unknown) => e instanceof SpilloverError && e.problems[0].line === 1 && /malformed k6 Point/.test(e.message),
    );
    const txt = path.join(tmp(), 'x.txt');
    fs.writeFileSync(txt, 'hello\n');
    await assert.rejects(importK6(txt, tmp()), /not a k6 output file/);
  });
});
