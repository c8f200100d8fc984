/**
 * Benchmark (not a test): `spillover report` on a generated 1,000,000-request run.
 * Targets: ≤ 10 s and ≤ 512 MB peak RSS on the project machine. Prints the ratio to a plain streaming
 * read (readline + JSON.parse of every line) of the same requests.ndjson, measured in the same run,
 * so the number means something on any machine. Each measurement runs in a fresh child process so its
 * peak RSS is its own.
 *
 *   npm run bench:analysis [-- --requests 1000000 --keep]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};

async function child(mode: string, dir: string): Promise<void> {
  const t = performance.now();
  if (mode === 'report') {
    const { main } = await import('../src/cli/main.ts');
    const code = await main(['node', 'spillover', 'report', dir]);
    if (code !== 0) process.exit(code);
  } else {
    let n = 0;
    let ok = 0;
    const rl = readline.createInterface({ input: fs.createReadStream(path.join(dir, 'raw/requests.ndjson')), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line) continue;
      const r = JSON.parse(line) as { status: number };
      n++;
      if (r.status === 200) ok++;
    }
    if (n === 0 || ok > n) process.exit(1);
  }
  const ms = performance.now() - t;
  const u = process.resourceUsage();
  process.stderr.write(`BENCH ${JSON.stringify({ ms, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssMB: u.maxRSS / 1024 })}\n`);
}

function measure(mode: string, dir: string): { ms: number; cpuMs: number; maxRssMB: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = /BENCH (\{.*\})/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${mode} failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(m[1]);
}

async function run(): Promise<void> {
  const n = Number(arg('--requests', '1000000'));
  const rps = 2000;
  const durationS = Math.ceil(n / rps);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-bench-analysis-'));
  try {
    const { writeSyntheticRun } = await import('../test/fixtures/runs/synthetic-run.ts');
    const tg = performance.now();
    writeSyntheticRun(dir, { rps, durationS, ejectAtS: durationS * 0.4, ejectForS: durationS * 0.3 });
    const size = (f: string) => (fs.statSync(path.join(dir, f)).size / 2 ** 20).toFixed(0);
    console.log(
      `generated ${n} requests in ${((performance.now() - tg) / 1000).toFixed(1)} s: requests.ndjson ${size('raw/requests.ndjson')} MB, client access log ${size('raw/envoy/client/access.ndjson')} MB`,
    );
    const plain = measure('plain', dir);
    const report = measure('report', dir);
    const ratio = report.ms / plain.ms;
    const line = (what: string, m: typeof plain) =>
      console.log(
        `${what.padEnd(40)} ${(m.ms / 1000).toFixed(2)} s wall, ${(m.cpuMs / 1000).toFixed(2)} s CPU, peak RSS ${m.maxRssMB.toFixed(0)} MB`,
      );
    line('plain streaming read of requests.ndjson:', plain);
    line('spillover report:', report);
    console.log(
      `ratio report / plain read: ${ratio.toFixed(2)}x wall time, ${(report.cpuMs / plain.cpuMs).toFixed(2)}x CPU time, ${(report.maxRssMB / plain.maxRssMB).toFixed(2)}x peak RSS`,
    );
    console.log(
      `load average during the run: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores (wall times are only comparable on an idle machine)`,
    );
    const okTime = report.ms <= 10000;
    const okMem = report.maxRssMB <= 512;
    console.log(`targets: time ≤ 10 s ${okTime ? 'met' : 'MISSED'}; peak RSS ≤ 512 MB ${okMem ? 'met' : 'MISSED'}`);
    if (!okTime || !okMem) process.exitCode = 1;
  } finally {
    if (args.includes('--keep')) console.log(`kept: ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--child') await child(args[1], args[2]);
else await run();
