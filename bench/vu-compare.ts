/**
 * npm run bench:vu -- the VU runtime against the plain-data path, in one run on one nginx: the highest
 * constant-arrival-rate each holds within 1 % (and with p99 start lag <= 1 ms), and memory per 1,000
 * VUs of the script. A shorter companion of bench/driver.ts (which also runs wrk, autocannon, fortio,
 * vegeta) for iterating on the VU runtime's hot path; numbers compare only within one run.
 *
 *   npm run bench:vu [-- --trial 3 --only vu|plain]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DriverOptions, LoadResult } from '../src/load/driver.ts';
import { DriverThread } from '../src/load/driver-thread.ts';
import { directScenario } from '../src/load/scenario.ts';
import { which } from '../src/load/k6-engine.ts';
import { Supervisor } from '../src/process/processes.ts';
import { heldSearch } from './open-loop-peers.ts';
import { vuMemoryPer1000, vuScriptBest } from './vu-script.ts';
import { startNginx } from './nginx.ts';

const { values } = parseArgs({ options: { trial: { type: 'string', default: '3' }, only: { type: 'string' } } });
const trialS = Number(values.trial);
const log = (m: string) => process.stderr.write(`${m}\n`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function runLoad(opts: Omit<DriverOptions, 't0Epoch'>): Promise<LoadResult> {
  const thread = await DriverThread.start(opts.scenario);
  try {
    return await thread.run({ ...opts, t0Epoch: Date.now() + 100 });
  } finally {
    await thread.close();
  }
}

async function plainBest(url: string, tmp: string): Promise<{ strict: number; held: number }> {
  let strict = 0;
  const held = await heldSearch(async (rate) => {
    const runDir = fs.mkdtempSync(path.join(tmp, `plain-${rate}-`));
    const scenario = directScenario({ url, rate, duration: trialS, preAllocatedVUs: 256, maxVUs: 4096, gracefulStop: 2 });
    const res = await runLoad({ scenario, runDir, live: false, requestTimeoutMs: 10_000 });
    fs.rmSync(runDir, { recursive: true, force: true });
    const ratio = res.ok / (rate * trialS);
    const pass = ratio >= 0.99 && res.startLagMs.p99 <= 1;
    if (pass && rate > strict) strict = rate;
    log(
      `  plain ${rate}/s: ok ${res.ok}/${rate * trialS} (${(100 * ratio).toFixed(2)} %), start lag p99 ${res.startLagMs.p99.toFixed(3)} ms`,
    );
    return ratio >= 0.99;
  });
  return { strict, held };
}

if (!which('nginx', `${process.env.PATH}:/usr/sbin:/sbin`)) throw new Error('needs nginx: apt-get install -y nginx');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-bench-vu-'));
const sup = new Supervisor(`bench-vu-${process.pid}`);
process.once('SIGINT', () => void sup.stopAll(1000).then(() => process.exit(130)));
try {
  const url = await startNginx(sup, tmp);
  log(`nginx on ${url}; load average ${load()} at ${new Date().toISOString()}`);
  const plain = values.only === 'vu' ? undefined : await plainBest(url, tmp);
  const vu = values.only === 'plain' ? undefined : await vuScriptBest(url, trialS, tmp, runLoad, log);
  const mem = values.only === 'plain' ? undefined : await vuMemoryPer1000(tmp);
  const out = [
    plain && `plain-data path held within 1 % AND p99 lag <= 1 ms: ${plain.strict}/s (${plain.held}/s any lag)`,
    vu && `VU script (http.get + check) held within 1 % AND p99 lag <= 1 ms: ${vu.strict}/s (${vu.held}/s any lag)`,
    plain &&
      vu &&
      `ratio VU / plain: ${(vu.strict / Math.max(1, plain.strict)).toFixed(2)}x strict, ${(vu.held / Math.max(1, plain.held)).toFixed(2)}x held (target >= 0.5x)`,
    mem && `VU memory per VU (1,000 initialised): ${mem.heapKiBPerVu.toFixed(1)} KiB heap, ${mem.rssKiBPerVu.toFixed(1)} KiB RSS`,
    `load average at the end: ${load()} at ${new Date().toISOString()}`,
  ];
  process.stdout.write(out.filter(Boolean).join('\n') + '\n');
} finally {
  await sup.stopAll(1000);
  fs.rmSync(tmp, { recursive: true, force: true });
}
