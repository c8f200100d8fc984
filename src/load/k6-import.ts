/**
 * k6 output → the raw-results format (src/runner/raw.ts), so a run by a real k6 is analysed by the
 * same code as one by the embedded driver. Parses k6's documented output shapes (facts §3.1–3.2):
 * `--out json` NDJSON (Metric + Point lines, RFC3339 times with ns) and `--out csv` (header-driven,
 * any timeFormat), either possibly gzipped.
 *
 * What k6 does not record is left out rather than invented: requests carry no intended start (k6
 * measures from the send, so intended = sent), no backend identity unless the script tagged it
 * (`service`/`instance` tags are read when present), and `iter` only when the `iter` system tag is on.
 * A request's send time is its end time minus http_req_duration (which excludes connect/blocked).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';
import { SpilloverError } from '../errors.ts';
import { RAW, type LoadTick } from '../contracts/raw.ts';
import { writeStandaloneManifest } from './standalone-manifest.ts';
import { NdjsonSink } from './ndjson-sink.ts';

export interface K6Point {
  metric: string;
  /** Unix ms (fractional: sub-ms precision kept). */
  time: number;
  value: number;
  tags: Record<string, string>;
  metadata: Record<string, string>;
}

export interface ImportOptions {
  /** Scenario time zero (Unix ms). Default: the earliest instant in the file (a request's send or a point's time). */
  t0Epoch?: number;
  /** Write a minimal manifest.json when the run directory has none (the standalone `spillover import`). */
  writeManifest?: boolean;
}

export interface ImportResult {
  format: 'json' | 'csv';
  t0Epoch: number;
  requests: number;
  dropped: number;
  points: number;
  scenarios: string[];
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** RFC3339 with up to ns → Unix ms, keeping the sub-ms part that Date.parse would drop. */
export function parseK6Time(s: string): number {
  const m = RFC3339.exec(s);
  if (!m) return NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  return whole + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/** CSV timestamps: unix (s, k6's default), unix_milli, unix_micro, unix_nano or RFC3339; told apart by form and size. */
export function parseCsvTime(s: string): number {
  if (s.includes('T')) return parseK6Time(s);
  const n = Number(s);
  if (!Number.isFinite(n)) return NaN;
  if (n < 1e11) return n * 1000;
  if (n < 1e14) return n;
  if (n < 1e17) return n / 1000;
  return n / 1e6;
}

const parseKv = (s: string | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const part of s.split('&')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
};

function openLines(file: string): AsyncIterable<string> {
  let stream: NodeJS.ReadableStream = fs.createReadStream(file);
  if (file.endsWith('.gz')) stream = stream.pipe(zlib.createGunzip());
  return readline.createInterface({ input: stream, crlfDelay: Infinity });
}

async function detectFormat(file: string): Promise<'json' | 'csv'> {
  for await (const line of openLines(file)) {
    const t = line.trim();
    if (!t) continue;
    if (t.startsWith('{')) return 'json';
    if (t.startsWith('metric_name,')) return 'csv';
    break;
  }
  throw new SpilloverError({
    file,
    message: 'not a k6 output file',
    expected: 'k6 --out json (NDJSON of Metric/Point lines) or --out csv (header starting metric_name,)',
    fix: 'pass the file written by k6 run --out json=FILE or --out csv=FILE',
  });
}

/** Every Point in a k6 JSON or CSV output file, in file order. */
export async function* readK6Points(file: string, format?: 'json' | 'csv'): AsyncGenerator<K6Point> {
  const fmt = format ?? (await detectFormat(file));
  if (fmt === 'json') {
    let lineNo = 0;
    for await (const line of openLines(file)) {
      lineNo++;
      if (!line.trim()) continue;
      let obj: {
        type?: string;
        metric?: string;
        data?: { time?: string; value?: number; tags?: Record<string, string> | null; metadata?: Record<string, string> };
      };
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new SpilloverError({
          file,
          line: lineNo,
          message: 'not JSON',
          found: (e as Error).message,
          expected: 'one k6 JSON output object per line',
        });
      }
      if (obj.type !== 'Point') continue;
      const time = parseK6Time(String(obj.data?.time));
      if (!obj.metric || !Number.isFinite(time) || typeof obj.data?.value !== 'number') {
        throw new SpilloverError({
          file,
          line: lineNo,
          path: 'data',
          message: 'malformed k6 Point',
          expected: '{"type":"Point","metric":…,"data":{"time":RFC3339,"value":number,"tags":{…}}}',
          found: line.slice(0, 160),
        });
      }
      yield { metric: obj.metric, time, value: obj.data.value, tags: obj.data.tags ?? {}, metadata: obj.data.metadata ?? {} };
    }
    return;
  }
  let stream: NodeJS.ReadableStream = fs.createReadStream(file);
  if (file.endsWith('.gz')) stream = stream.pipe(zlib.createGunzip());
  const parser = stream.pipe(parseCsv({ columns: true, skip_empty_lines: true, relax_column_count: false }));
  let row = 1;
  for await (const rec of parser as AsyncIterable<Record<string, string>>) {
    row++;
    const time = parseCsvTime(rec.timestamp);
    const value = Number(rec.metric_value);
    if (!rec.metric_name || !Number.isFinite(time) || !Number.isFinite(value)) {
      throw new SpilloverError({
        file,
        line: row,
        message: 'malformed k6 CSV row',
        expected: 'metric_name,timestamp,metric_value,… as written by k6 --out csv',
        found: JSON.stringify(rec).slice(0, 160),
      });
    }
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (k === 'metric_name' || k === 'timestamp' || k === 'metric_value' || k === 'extra_tags' || k === 'metadata') continue;
      if (v !== '') tags[k] = v;
    }
    Object.assign(tags, parseKv(rec.extra_tags));
    yield { metric: rec.metric_name, time, value, tags, metadata: parseKv(rec.metadata) };
  }
}

/** k6 error_code (transport errors, status 0) → raw.ts error kind. */
export function k6ErrorKind(code: string | undefined): string | undefined {
  if (!code) return undefined;
  const n = Number(code);
  if (n >= 1400 && n < 1600) return undefined; // 1000 + HTTP status: a response, not a transport error
  if (n === 1050 || n === 1211) return 'timeout';
  if (n === 1212) return 'refused';
  if (n === 1220 || n === 1201) return 'reset';
  if (n >= 1300 && n < 1400) return 'tls'; // k6's TLS error range (1300 general, 1310 unknown authority, ...)
  return 'other';
}

/** Convert a k6 output file into `runDir`'s raw files (appending). */
export async function importK6(file: string, runDir: string, opts: ImportOptions = {}): Promise<ImportResult> {
  if (!fs.existsSync(file))
    throw new SpilloverError({
      file,
      message: 'k6 output file not found',
      fix: 'pass the FILE given to k6 run --out json=FILE (or csv=FILE)',
    });
  const format = await detectFormat(file);
  let t0 = opts.t0Epoch;
  const scenarios = new Set<string>();
  if (t0 === undefined) {
    let min = Infinity;
    for await (const p of readK6Points(file, format)) {
      const start = p.metric === 'http_req_duration' ? p.time - p.value : p.time;
      if (start < min) min = start;
    }
    if (min === Infinity)
      throw new SpilloverError({ file, message: 'no data points in the k6 output', fix: 'check that k6 ran (and wrote to this file)' });
    t0 = Math.floor(min);
  }
  const req = new NdjsonSink(path.join(runDir, RAW.requests));
  const tickSink = new NdjsonSink(path.join(runDir, RAW.loadTicks));
  type Acc = { started: number; dropped: number; active: number; allocated: number };
  const ticks = new Map<number, Map<string, Acc>>();
  const acc = (sec: number, scenario: string) => {
    let m = ticks.get(sec);
    if (!m) ticks.set(sec, (m = new Map()));
    let a = m.get(scenario);
    if (!a) m.set(scenario, (a = { started: 0, dropped: 0, active: 0, allocated: 0 }));
    return a;
  };
  const gauges: Array<{ sec: number; metric: string; value: number }> = [];
  let id = 0,
    dropped = 0,
    points = 0;
  const rs = (ms: number) => Math.round(((ms - t0!) / 1000) * 1e6) / 1e6;
  try {
    for await (const p of readK6Points(file, format)) {
      points++;
      const scenario = p.tags.scenario || 'default';
      const sec = Math.max(1, Math.ceil((p.time - t0) / 1000));
      switch (p.metric) {
        case 'http_req_duration': {
          scenarios.add(scenario);
          const sent = rs(p.time - p.value);
          const status = Number(p.tags.status ?? 0) || 0;
          const error = status === 0 ? (k6ErrorKind(p.tags.error_code) ?? 'other') : undefined;
          const iter = Number(p.metadata.iter ?? p.tags.iter);
          id++;
          req.writeObject({
            id,
            scenario,
            iter: Number.isFinite(iter) ? iter : 0,
            intended: sent,
            sent,
            end: rs(p.time),
            status,
            ...(error ? { error } : {}),
            ...(p.tags.service ? { service: p.tags.service } : {}),
            ...(p.tags.instance ? { instance: p.tags.instance } : {}),
            rid: p.tags.rid ?? p.metadata.rid ?? `k6-${id}`,
            ...(p.tags.method ? { method: p.tags.method } : {}),
            ...(p.tags.url ? { url: p.tags.url } : {}),
          });
          break;
        }
        case 'iterations':
          scenarios.add(scenario);
          acc(sec, scenario).started += p.value;
          break;
        case 'dropped_iterations':
          scenarios.add(scenario);
          acc(sec, scenario).dropped += p.value;
          dropped += p.value;
          break;
        case 'vus':
        case 'vus_max':
          gauges.push({ sec, metric: p.metric, value: p.value });
          break;
      }
    }
    // vus / vus_max carry no scenario tag in k6: attribute them to the only scenario, or to "all".
    const gaugeScenario = scenarios.size === 1 ? [...scenarios][0] : 'all';
    for (const g of gauges) {
      const a = acc(g.sec, gaugeScenario);
      if (g.metric === 'vus') a.active = g.value;
      else a.allocated = g.value;
    }
    for (const sec of [...ticks.keys()].sort((a, b) => a - b)) {
      for (const [scenario, a] of ticks.get(sec)!) {
        // k6 has no record of the schedule itself; what was due is what started plus what was dropped.
        const tick: LoadTick = {
          t: sec,
          scenario,
          target: a.started + a.dropped,
          started: a.started,
          dropped: a.dropped,
          active: a.active,
          allocated: a.allocated,
        };
        tickSink.writeObject(tick);
      }
    }
  } finally {
    req.close();
    tickSink.close();
  }
  if (opts.writeManifest) {
    writeStandaloneManifest(runDir, {
      experiment: 'k6-import',
      backend: 'external',
      engine: 'k6',
      t0Epoch: t0,
      outcome: 'ok',
      warnings: ['imported from k6 output: no intended start times (k6 measures latency from the send), no backend identity unless tagged'],
      resolved: { importedFrom: path.resolve(file), format },
    });
  }
  return { format, t0Epoch: t0, requests: id, dropped, points, scenarios: [...scenarios] };
}
