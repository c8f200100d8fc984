/**
 * `analyzeRun(runDir)`: read a run directory (raw.ts layout) and analyze it. The only I/O in
 * src/analysis; requests and access logs are streamed into typed columns so a million-request run
 * stays far below the memory a million parsed objects would take.
 */
import fs from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SpilloverError } from '../errors.ts';
import {
  RAW,
  clustersFile,
  envoyFile,
  scrapeFile,
  type ClustersRecord,
  type LoadTick,
  type RequestRecord,
  type RunEvent,
  type RunManifest,
  type ScrapeRecord,
} from '../contracts/raw.ts';
import { AccessColumnsBuilder, type AccessColumns } from './access-log.ts';
import { analyze, type Analysis, type AnalyzeOptions, type RawRun } from './analyze.ts';
import { USED_METRICS } from './events.ts';
import { parseOutlierLog, type OutlierEvent } from './outlier-log.ts';
import { DEST, RequestColumnsBuilder, destOfService } from './request-columns.ts';

/**
 * Streams a file as batches of lines (one batch per ~1 MB read), awaiting `fn` so a slow consumer (a
 * CSV writer) applies backpressure. Empty lines are skipped; numbers are 1-based file line numbers.
 */
export async function forEachLineBatch(file: string, fn: (lines: string[], lineNos: number[]) => void | Promise<void>): Promise<void> {
  let carry = '';
  let lineNo = 0;
  let lines: string[] = [];
  let nos: number[] = [];
  const take = (line: string) => {
    lineNo++;
    if (line.trim() === '') return;
    lines.push(line);
    nos.push(lineNo);
  };
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = carry + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
    if (lines.length) await fn(lines, nos);
    lines = [];
    nos = [];
  }
  if (carry !== '') take(carry);
  if (lines.length) await fn(lines, nos);
}

/**
 * NDJSON in batches of parsed values. A malformed line is bad input, except the very last line of a
 * file, which an interrupted run may have left half-written: that one is skipped.
 */
export async function forEachJsonBatch<T>(
  file: string,
  fn: (values: T[]) => void | Promise<void>,
  keep?: (line: string) => boolean,
): Promise<{ truncatedTail: boolean }> {
  let pendingBad: { lineNo: number; text: string } | undefined;
  await forEachLineBatch(file, async (lines, nos) => {
    const values: T[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (pendingBad) throw badLine(file, pendingBad.lineNo, pendingBad.text);
      if (keep && !keep(lines[i])) continue;
      try {
        values.push(JSON.parse(lines[i]) as T);
      } catch {
        pendingBad = { lineNo: nos[i], text: lines[i] };
      }
    }
    if (values.length) await fn(values);
  });
  return { truncatedTail: pendingBad !== undefined };
}

export const forEachJsonLine = <T>(file: string, fn: (value: T) => void, keep?: (line: string) => boolean) =>
  forEachJsonBatch<T>(
    file,
    (values) => {
      for (const v of values) fn(v);
    },
    keep,
  );

const badLine = (file: string, line: number, text: string) =>
  new SpilloverError({
    file,
    line,
    message: 'not a JSON line',
    expected: 'one JSON object per line (NDJSON)',
    found: text.slice(0, 80),
    fix: 'repair or remove the line; only a half-written last line is tolerated',
  });

const exists = (p: string) => fs.existsSync(p);

const UNREMARKABLE = [/"flags":"-"/, /"code":[1-4]\d\d[,}]/, /"attempts":1[,}]/];

async function readLines<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  if (exists(file)) await forEachJsonLine<T>(file, (v) => out.push(v));
  return out;
}

async function names(dir: string, suffix: string): Promise<string[]> {
  if (!exists(dir)) return [];
  return (await readdir(dir))
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.slice(0, -suffix.length))
    .sort();
}

export async function readManifest(runDir: string): Promise<RunManifest> {
  const file = path.join(runDir, RAW.manifest);
  if (!exists(file)) {
    throw new SpilloverError({
      file,
      message: 'no manifest.json: this is not a run directory',
      expected: 'a directory written by `spillover run`/`experiment` or `spillover import`',
      found: 'missing file',
      fix: 'pass the run directory (results/<experiment>/<runId>)',
    });
  }
  let m: RunManifest;
  try {
    m = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new SpilloverError({
      file,
      message: 'manifest.json is not valid JSON',
      expected: 'a JSON object',
      found: String((e as Error).message),
      fix: 're-run or restore the manifest',
    });
  }
  for (const k of ['experiment', 'runId', 't0Epoch'] as const) {
    if (m?.[k] === undefined)
      throw new SpilloverError({
        file,
        path: k,
        message: `manifest has no ${k}`,
        expected: k === 't0Epoch' ? 'Unix ms of scenario time zero' : 'a string',
        found: 'undefined',
        fix: 'the run writer must fill it (see src/runner/raw.ts RunManifest)',
      });
  }
  return m;
}

export interface ReadOptions {
  /** Sees every batch of parsed requests as it streams by (the report writes requests.csv from it). */
  onRequests?: (batch: RequestRecord[]) => void | Promise<void>;
}

export async function readRawRun(runDir: string, ro: ReadOptions = {}): Promise<RawRun> {
  const manifest = await readManifest(runDir);
  const t0 = manifest.t0Epoch;
  const rb = new RequestColumnsBuilder(1 << 16);
  // `clients:` form: each client's files (raw.ts clientLoadDir), every record tagged with its client.
  const listed = manifest.topology?.clients;
  const sources: Array<[string | undefined, string]> = listed
    ? Object.entries(listed).map(([name, c]) => [name, path.join(runDir, c.dir, RAW.requests)])
    : [[undefined, path.join(runDir, RAW.requests)]];
  const perClient: Record<string, RequestColumnsBuilder> = {};
  for (const [client, reqFile] of sources) {
    const cb = client ? (perClient[client] = new RequestColumnsBuilder()) : undefined;
    if (!exists(reqFile)) continue;
    await forEachJsonBatch<RequestRecord>(reqFile, async (batch) => {
      for (const r of batch) {
        rb.add(r);
        if (cb) (cb.add(r), (r.client = client));
      }
      await ro.onRequests?.(batch);
    });
  }

  const requests = rb.build();
  const clientRequests = listed ? Object.fromEntries(Object.entries(perClient).map(([n, b]) => [n, b.build()])) : undefined;
  let requestsHaveDest = false;
  for (let i = 0; i < requests.n && !requestsHaveDest; i++) requestsHaveDest = requests.dest[i] === DEST.A || requests.dest[i] === DEST.B;
  const endpoints = manifest.topology?.endpoints ?? {};
  const destOf = (upstream: string) => destOfService(endpoints[upstream]?.service);
  const access: Record<string, AccessColumns> = {};
  const outlier: Record<string, OutlierEvent[]> = {};
  const envoyRoot = path.join(runDir, RAW.envoyDir);
  const envoyNames = exists(envoyRoot)
    ? (await readdir(envoyRoot, { withFileTypes: true }))
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  for (const name of envoyNames) {
    const af = envoyFile(runDir, name, 'access.ndjson');
    if (exists(af)) {
      const b = new AccessColumnsBuilder(t0, destOf);
      // With the driver's own record of who served what, an unremarkable access-log line (2xx-4xx, no
      // flag, one attempt) adds nothing: skip parsing it. Anything else, or any doubt, is parsed.
      const keep = requestsHaveDest ? (line: string) => !UNREMARKABLE.every((re) => re.test(line)) : undefined;
      await forEachJsonLine<Record<string, unknown>>(af, (o) => b.add(o), keep);
      access[name] = b.build();
    }
    const of = envoyFile(runDir, name, 'outlier.ndjson');
    if (exists(of)) outlier[name] = parseOutlierLog(await readFile(of, 'utf8'), t0);
  }
  const scrapes: Record<string, ScrapeRecord[]> = {};
  for (const n of await names(path.join(runDir, RAW.scrapesDir), '.ndjson')) {
    const recs: ScrapeRecord[] = [];
    await forEachJsonLine<ScrapeRecord>(scrapeFile(runDir, n), (r) => {
      if (r.samples) r.samples = r.samples.filter(([name]) => USED_METRICS.test(name));
      recs.push(r);
    });
    scrapes[n] = sortByT(recs);
  }
  const clusters: Record<string, ClustersRecord[]> = {};
  for (const n of await names(path.join(runDir, RAW.clustersDir), '.ndjson'))
    clusters[n] = sortByT(await readLines<ClustersRecord>(clustersFile(runDir, n)));
  return {
    manifest,
    requests,
    ...(clientRequests ? { clientRequests } : {}),
    loadTicks: sortByT(
      (
        await Promise.all(
          Object.values(listed ?? { client: { dir: '.' } }).map((c) => readLines<LoadTick>(path.join(runDir, c.dir, RAW.loadTicks))),
        )
      ).flat(),
    ),
    access,
    outlier,
    scrapes,
    clusters,
    runEvents: sortByT(await readLines<RunEvent>(path.join(runDir, RAW.runEvents))),
  };
}

const sortByT = <T extends { t: number }>(a: T[]) => a.sort((x, y) => x.t - y.t);

export async function analyzeRun(runDir: string, opts?: AnalyzeOptions, ro?: ReadOptions): Promise<{ raw: RawRun; analysis: Analysis }> {
  const raw = await readRawRun(runDir, ro);
  return { raw, analysis: analyze(raw, opts) };
}
