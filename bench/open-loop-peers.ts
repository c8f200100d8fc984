/**
 * Open-loop peers for bench/driver.ts, built from the Go module proxy: fortio (Istio's own load
 * generator; `go install fortio.org/fortio@v1.66.5`) and vegeta (`go install
 * github.com/tsenart/vegeta/v12@v12.13.0`). Each is asked for a fixed rate for a few seconds; it
 * "holds" a rate when at least 99 % of the due requests were answered 200 (the driver's criterion).
 * The highest held rate comes from the same doubling-then-bisection search as the driver's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { which } from '../src/load/k6-engine.ts';

const goBin = (name: string) => which(name) ?? [path.join(os.homedir(), 'go', 'bin', name)].find((p) => fs.existsSync(p));

/** Doubling from 2000/s, then bisection to within 6 %: the highest rate `holds` returned true for. */
export async function heldSearch(holds: (rate: number) => Promise<boolean>): Promise<number> {
  let lo = 0;
  let hi = 0;
  for (let rate = 2000; rate <= 256_000; rate *= 2) {
    if (await holds(rate)) lo = rate;
    else {
      hi = rate;
      break;
    }
  }
  if (lo === 0)
    for (const rate of [1000, 500])
      if (await holds(rate)) {
        lo = rate;
        hi = rate * 2;
        break;
      }
  while (hi > 0 && lo > 0 && hi - lo > Math.max(250, lo * 0.06)) {
    const mid = Math.round((lo + hi) / 2 / 50) * 50;
    if (await holds(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export async function fortioBest(url: string, seconds: number, log: (m: string) => void): Promise<number | undefined> {
  const bin = goBin('fortio');
  if (!bin) {
    log('  fortio: not installed (go install fortio.org/fortio@v1.66.5)');
    return undefined;
  }
  return heldSearch(async (rate) => {
    const { stdout } = await execa(bin, ['load', '-qps', String(rate), '-c', '64', '-t', `${seconds}s`, '-json', '-', '-quiet', url], {
      reject: false,
    });
    const r = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { RetCodes?: Record<string, number>; ActualQPS: number };
    const ok = r.RetCodes?.['200'] ?? 0;
    const held = ok >= 0.99 * rate * seconds;
    log(
      `  fortio -c64 ${rate}/s: ${ok}/${rate * seconds} answered 200 (actual ${r.ActualQPS.toFixed(0)}/s) -> ${held ? 'holds' : 'does not hold'}`,
    );
    return held;
  });
}

export async function vegetaBest(url: string, seconds: number, log: (m: string) => void): Promise<number | undefined> {
  const bin = goBin('vegeta');
  if (!bin) {
    log('  vegeta: not installed (go install github.com/tsenart/vegeta/v12@v12.13.0)');
    return undefined;
  }
  return heldSearch(async (rate) => {
    const attack = execa(bin, ['attack', '-rate', `${rate}/1s`, '-duration', `${seconds}s`], {
      input: `GET ${url}\n`,
      encoding: 'buffer',
      reject: false,
    });
    const results = (await attack).stdout as unknown as Buffer;
    const { stdout } = await execa(bin, ['report', '-type=json'], { input: results, reject: false });
    const r = JSON.parse(stdout) as { status_codes?: Record<string, number>; rate: number };
    const ok = r.status_codes?.['200'] ?? 0;
    const held = ok >= 0.99 * rate * seconds;
    log(`  vegeta ${rate}/s: ${ok}/${rate * seconds} answered 200 (sent ${r.rate.toFixed(0)}/s) -> ${held ? 'holds' : 'does not hold'}`);
    return held;
  });
}
