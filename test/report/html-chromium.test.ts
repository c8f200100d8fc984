/**
 * The HTML report in a real browser: Debian's `chromium` (apt-get install -y chromium) driven by
 * playwright-core. Skips only when no chromium binary is installed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeReport } from '../../src/report/index.ts';
import { writeSyntheticRun } from '../fixtures/runs/synthetic-run.ts';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && fs.existsSync(p));

describe('report/html in headless Chromium', function () {
  this.timeout(60000);
  let dir: string;
  before(function () {
    if (!CHROMIUM) this.skip(); // no chromium binary: apt-get install -y chromium
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-html-'));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['synthetic', 'k6-like run without Envoy data', 'recorded peak-load run'] as const) {
    const envoy = kind !== 'k6-like run without Envoy data';
    it(`renders every chart offline with no console errors (${kind})`, async () => {
      const run = path.join(dir, kind.split(' ')[0]);
      if (kind === 'recorded peak-load run') fs.cpSync(fileURLToPath(new URL('../fixtures/runs/peak-load-r01/', import.meta.url)), run, { recursive: true });
      else writeSyntheticRun(run, { rps: 30, durationS: 25, ejectAtS: 8, ejectForS: 9, envoy });
      const { reportPath } = await writeReport(run, { png: false });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        const network: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (r) => {
          if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) network.push(r.url());
        });
        await page.goto(pathToFileURL(reportPath).href);
        await page.evaluate(() => (window as unknown as { spilloverCharts: Promise<unknown[]> }).spilloverCharts.then((r) => r.length));
        const charts = await page.$$eval('.chart', (els) => els.map((e) => ({ name: e.getAttribute('data-figure'), svg: !!e.querySelector('svg'), marks: e.querySelectorAll('svg path, svg rect, svg line').length })));
        assert.deepEqual(charts.map((c) => c.name), envoy ? ['redirect', 'outcomes', 'latency', 'ejections'] : ['redirect', 'outcomes', 'latency']);
        for (const c of charts) {
          assert.ok(c.svg, `${c.name}: no svg`);
          assert.ok(c.marks > 10, `${c.name}: only ${c.marks} marks drawn`);
        }
        assert.deepEqual(problems, []);
        assert.deepEqual(network, [], 'the report must not fetch anything');
      } finally {
        await browser.close();
      }
    });
  }
});
