/**
 * Interleaved A/B of the embedded driver: two source trees (a base and the tree under test) take turns
 * against one nginx, one fresh process per trial (bench/driver-ab-child.ts), so the other load on a
 * shared machine falls on both alike. Prints one line per trial (`tag rate {json}` with the 1-minute
 * load average) and, per rate, the medians and how many pairs "new" lost on p99 start lag.
 *
 *   node --import tsx bench/driver-ab.ts --base /tmp/h12bench/base --pairs 8 --rates 4000,8000 [--closed] [--thread]
 *
 * `--base` is a tree with src/load/driver.ts and its node_modules; "new" is this tree. Order alternates
 * within each pair (base first in the 1st, 3rd, ... pair) so neither side always runs right after the
 * other. A base tree from a commit, e.g. the driver before it was split into files (6343b77):
 *
 *   mkdir -p /tmp/h12bench/base && git archive 6343b77 src package.json tsconfig.json | tar -x -C /tmp/h12bench/base
 *   ln -s "$PWD/node_modules" /tmp/h12bench/base/node_modules
 *
 * Measured on the shared 2-core machine at load 2-19 (issue 12): a run's p99 start lag is mostly other
 * processes' preemption, so compare pairs (the summary's median paired difference), never single runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Supervisor } from '../src/process/processes.ts';
import { startNginx } from './nginx.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '/tmp/h12bench/base' },
    pairs: { type: 'string', default: '8' },
    rates: { type: 'string', default: '4000,8000' },
    duration: { type: 'string', default: '3' },
    closed: { type: 'boolean', default: false },
    /** Run through each tree's driver thread (warm-up and rehearsal on a worker) instead of on the child's main thread. */
    thread: { type: 'boolean', default: false },
    out: { type: 'string' },
    /** Directory for V8 CPU profiles of every trial (node --cpu-prof), one file per trial. */
    prof: { type: 'string' },
  },
});
const here = path.dirname(fileURLToPath(import.meta.url));
const trees = { base: path.resolve(values.base), new: path.resolve(here, '..') };
const child = path.join(here, 'driver-ab-child.ts');
const modes = values.rates.split(',').filter(Boolean);
if (values.closed) modes.push('closed');

interface Trial {
  tag: 'base' | 'new';
  mode: string;
  r: { p50: number; p99: number; dropped: number; started: number; cpuUs: number; gcMinor: number; gcMs: number; load: number };
}

const profArgs = (tag: string, mode: string) =>
  values.prof
    ? [
        '--cpu-prof',
        '--cpu-prof-interval',
        '250',
        '--cpu-prof-dir',
        values.prof,
        '--cpu-prof-name',
        `${tag}-${mode}-${Date.now()}.cpuprofile`,
      ]
    : [];

async function trial(sup: Supervisor, url: string, tag: 'base' | 'new', mode: string): Promise<Trial> {
  const mod = path.join(trees[tag], 'src/load/driver.ts');
  const p = sup.start(
    `ab-${tag}`,
    process.execPath,
    [...profArgs(tag, mode), '--import', 'tsx', child, mod, url, mode, values.duration, values.thread ? 'thread' : 'main'],
    {
      cwd: trees[tag],
      captureStdout: true,
      logFile: path.join(tmp, `${tag}.log`),
    },
  );
  let out = '';
  p.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const { code } = await p.exited;
  if (code !== 0) throw new Error(`${tag} ${mode} exited ${code}: ${fs.readFileSync(path.join(tmp, `${tag}.log`), 'utf8').slice(-2000)}`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as Trial['r'];
  return { tag, mode, r };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const sup = new Supervisor(`bench-driver-ab-${process.pid}`);
process.once('SIGINT', () => void sup.stopAll(1000).then(() => process.exit(130)));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-ab-'));
const outFile = values.out;
const emit = (line: string) => {
  console.log(line);
  if (outFile) fs.appendFileSync(outFile, `${line}\n`);
};
try {
  const url = await startNginx(sup, tmp);
  const all: Trial[] = [];
  for (let i = 0; i < Number(values.pairs); i++) {
    for (const mode of modes) {
      const order: Array<'base' | 'new'> = i % 2 === 0 ? ['base', 'new'] : ['new', 'base'];
      for (const tag of order) {
        const t = await trial(sup, url, tag, mode);
        all.push(t);
        emit(`${tag} ${mode} ${JSON.stringify(t.r)}`);
      }
    }
  }
  for (const mode of modes) {
    const side = (tag: string) => all.filter((t) => t.mode === mode && t.tag === tag).map((t) => t.r);
    const b = side('base');
    const n = side('new');
    const worse = n.filter((x, i) => x.p99 > b[i].p99).length;
    const fmt = (xs: Trial['r'][]) =>
      `p50 ${median(xs.map((x) => x.p50)).toFixed(3)} p99 ${median(xs.map((x) => x.p99)).toFixed(3)} ms, dropped ${xs.map((x) => x.dropped).join('/')}, cpu ${median(xs.map((x) => x.cpuUs)).toFixed(1)} µs/req, gc ${median(xs.map((x) => x.gcMinor))}x ${median(xs.map((x) => x.gcMs)).toFixed(1)} ms, started ${median(xs.map((x) => x.started))}`;
    emit(`# ${mode}: base ${fmt(b)}`);
    emit(`# ${mode}: new  ${fmt(n)}`);
    const diff = median(n.map((x, i) => x.p99 - b[i].p99));
    emit(`# ${mode}: new p99 above base in ${worse} of ${n.length} pairs, median paired difference (new - base) ${diff.toFixed(3)} ms`);
  }
} finally {
  await sup.stopAll(1000);
  fs.rmSync(tmp, { recursive: true, force: true });
}
