/**
 * Test helper: replays a recorded run into the live feed the way the files fill up during a run:
 * a request becomes visible when it ended, an access-log line when its request ended plus Envoy's
 * file flush, an outlier-log line at its timestamp plus the flush, a scrape when it returned.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseOutlierLine } from '../../src/analysis/outlier-log.ts';
import { LiveEventFeed, type FeedOptions, type LiveEvent } from '../../src/live/event-feed.ts';
import { LiveRawRun } from '../../src/live/live-raw.ts';
import type { RunManifest } from '../../src/contracts/raw.ts';

const lines = (f: string) =>
  fs.existsSync(f)
    ? fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
    : [];

export function replay(runDir: string, opts: FeedOptions & { flushS: number; tickS: number }): LiveEvent[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8')) as RunManifest;
  const live = new LiveRawRun(manifest);
  const feed: Array<{ at: number; add: () => void }> = [];
  const raw = path.join(runDir, 'raw');
  for (const l of lines(path.join(raw, 'requests.ndjson'))) {
    const r = JSON.parse(l);
    feed.push({ at: r.end + 0.05, add: () => live.addRequest(r) });
  }
  for (const l of lines(path.join(raw, 'load.ndjson'))) {
    const k = JSON.parse(l);
    feed.push({ at: k.t, add: () => live.addTick(k) });
  }
  for (const l of lines(path.join(raw, 'run-events.ndjson'))) {
    const e = JSON.parse(l);
    feed.push({ at: e.t, add: () => live.addRunEvent(e) });
  }
  const envoyDir = path.join(raw, 'envoy');
  for (const envoy of fs.existsSync(envoyDir) ? fs.readdirSync(envoyDir) : []) {
    if (fs.existsSync(path.join(envoyDir, envoy, 'outlier.ndjson'))) live.addOutlierLine(envoy, undefined);
    for (const l of lines(path.join(envoyDir, envoy, 'access.ndjson'))) {
      const o = JSON.parse(l);
      const end = (Number(o.start) * 1000 - manifest.t0Epoch) / 1000 + Number(o.duration ?? 0) / 1000;
      feed.push({ at: end + opts.flushS, add: () => live.addAccess(envoy, o) });
    }
    for (const l of lines(path.join(envoyDir, envoy, 'outlier.ndjson'))) {
      const e = parseOutlierLine(l, manifest.t0Epoch);
      feed.push({ at: (e?.t ?? -Infinity) + opts.flushS, add: () => live.addOutlierLine(envoy, l) });
    }
  }
  for (const f of fs.existsSync(path.join(raw, 'scrapes')) ? fs.readdirSync(path.join(raw, 'scrapes')) : []) {
    for (const l of lines(path.join(raw, 'scrapes', f))) {
      const r = JSON.parse(l);
      feed.push({ at: r.t + (r.ms ?? 0) / 1000, add: () => live.addScrape(r) });
    }
  }
  for (const f of fs.existsSync(path.join(raw, 'clusters')) ? fs.readdirSync(path.join(raw, 'clusters')) : []) {
    for (const l of lines(path.join(raw, 'clusters', f))) {
      const r = JSON.parse(l);
      feed.push({ at: r.t + 0.02, add: () => live.addClusters(r) });
    }
  }
  feed.sort((a, b) => a.at - b.at);
  const ev = new LiveEventFeed(live, opts);
  const out: LiveEvent[] = [];
  let i = 0;
  const end = feed.length ? feed[feed.length - 1].at : 0;
  for (let now = Math.floor(feed[0]?.at ?? 0); now <= end + opts.tickS; now += opts.tickS) {
    while (i < feed.length && feed[i].at <= now) feed[i++].add();
    out.push(...ev.poll(now));
  }
  while (i < feed.length) feed[i++].add();
  out.push(...ev.poll(end + opts.tickS, true));
  return out;
}
