/**
 * Mesh metrics from a recorded run's own records: the overflow counters follow Envoy's, ejections
 * follow the events, and the exposition passes promtool.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { statAcrossClusters } from '../../src/analysis/cluster-name.ts';
import { MeshMetrics } from '../../src/live/mesh-metrics.ts';
import { Tail } from '../../src/live/tail.ts';
import type { RunManifest, ScrapeRecord } from '../../src/contracts/raw.ts';
import { promtoolAvailable, promtoolCheck } from '../runner/capture/promtool.ts';
import { replay } from './recorded-run-feed.ts';

const RUN = fileURLToPath(new URL('../fixtures/runs/peak-load-r01/', import.meta.url));

describe('live mesh metrics', () => {
  it('count overflows by limit as Envoy did, and ejections by Envoy and host', async () => {
    const manifest = JSON.parse(fs.readFileSync(RUN + 'manifest.json', 'utf8')) as RunManifest;
    const m = new MeshMetrics();
    m.reset(manifest.topology);
    const recs = fs
      .readFileSync(RUN + 'raw/scrapes/client.ndjson', 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ScrapeRecord);
    for (const r of recs) m.onScrape(r);
    const last = recs.filter((r) => r.ok && r.samples).at(-1)!;
    const want = statAcrossClusters(last.samples!, 'upstream_rq_pending_overflow') ?? 0;
    for (const e of replay(RUN, { lagS: 0.6, flushS: 0.1, tickS: 0.25 })) m.onEvent(e);
    const text = await m.text();
    assert.match(
      text,
      new RegExp(`spillover_mesh_circuit_breaker_overflows_total\\{envoy="client",limit="pending_or_requests"\\} ${want}\\n`),
    );
    const aAddr = Object.entries(manifest.topology!.endpoints).find(([, e]) => e.service === 'A')![0];
    assert.match(
      text,
      new RegExp(`spillover_mesh_ejections_total\\{envoy="client",host="${aAddr.replace(/\./g, '\\.')}",service="A"\\} 1\\n`),
    );
    assert.match(
      text,
      new RegExp(`spillover_mesh_host_ejected\\{envoy="client",host="${aAddr.replace(/\./g, '\\.')}",service="A"\\} 0\\n`),
      'A returned',
    );
    if (promtoolAvailable()) {
      const r = promtoolCheck(text);
      assert.ok(r.ok, r.output);
    }
  });
});

describe('live tail', () => {
  it('returns whole lines only, a half-written one on the next call', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tail-')), 'x.ndjson');
    const t = new Tail(f);
    assert.deepEqual(t.lines(), []);
    fs.writeFileSync(f, '{"a":1}\n{"b":');
    assert.deepEqual(t.lines(), ['{"a":1}']);
    fs.appendFileSync(f, '"é"}\n\n{"c":3}\n');
    assert.deepEqual(t.lines(), ['{"b":"é"}', '{"c":3}']);
    assert.deepEqual(t.lines(), []);
    t.close();
  });
});
