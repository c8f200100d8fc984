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

  for (const name of ['peak-load-r01', 'blocked-ejections', 'closed-loop', 'interrupted']) {
    it(`no text box in any chart overlaps another or leaves the chart (recorded ${name})`, async () => {
      const run = path.join(dir, `ov-${name}`);
      fs.cpSync(fileURLToPath(new URL(`../fixtures/runs/${name}/`, import.meta.url)), run, { recursive: true });
      const { reportPath } = await writeReport(run, { png: false });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
        await page.goto(pathToFileURL(reportPath).href);
        await page.evaluate(() => (window as unknown as { spilloverCharts: Promise<unknown[]> }).spilloverCharts.then((r) => r.length));
        const charts = await page.$$eval('.chart', (els) =>
          els.map((e) => {
            const svg = e.querySelector('svg')!;
            const box = svg.getBoundingClientRect();
            const texts = [...svg.querySelectorAll('text')]
              .filter((t) => (t.textContent ?? '').trim() !== '')
              .map((t) => {
                const r = t.getBoundingClientRect();
                return { text: t.textContent ?? '', x0: r.left, x1: r.right, y0: r.top, y1: r.bottom };
              })
              .filter((r) => r.x1 > r.x0 && r.y1 > r.y0);
            return { name: e.getAttribute('data-figure'), box: { x0: box.left, x1: box.right, y0: box.top, y1: box.bottom }, texts };
          }),
        );
        assert.ok(charts.length >= 3);
        const EPS = 0.5;
        for (const c of charts) {
          assert.ok(c.texts.length > 5, `${c.name}: only ${c.texts.length} texts`);
          for (const t of c.texts)
            assert.ok(
              t.x0 >= c.box.x0 - EPS && t.x1 <= c.box.x1 + EPS && t.y0 >= c.box.y0 - EPS && t.y1 <= c.box.y1 + EPS,
              `${name} ${c.name}: "${t.text}" leaves the chart`,
            );
          for (let i = 0; i < c.texts.length; i++) {
            for (let j = i + 1; j < c.texts.length; j++) {
              const p = c.texts[i];
              const q = c.texts[j];
              const overlap = Math.min(p.x1, q.x1) - Math.max(p.x0, q.x0) > EPS && Math.min(p.y1, q.y1) - Math.max(p.y0, q.y0) > EPS;
              assert.ok(!overlap, `${name} ${c.name}: "${p.text}" overlaps "${q.text}"`);
            }
          }
        }
      } finally {
        await browser.close();
      }
    });
  }

  for (const kind of ['synthetic', 'k6-like run without Envoy data', 'recorded peak-load run'] as const) {
    const envoy = kind !== 'k6-like run without Envoy data';
    it(`renders every chart offline with no console errors (${kind})`, async () => {
      const run = path.join(dir, kind.split(' ')[0]);
      if (kind === 'recorded peak-load run')
        fs.cpSync(fileURLToPath(new URL('../fixtures/runs/peak-load-r01/', import.meta.url)), run, { recursive: true });
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
        const charts = await page.$$eval('.chart', (els) =>
          els.map((e) => ({
            name: e.getAttribute('data-figure'),
            svg: !!e.querySelector('svg'),
            marks: e.querySelectorAll('svg path, svg rect, svg line').length,
          })),
        );
        assert.deepEqual(
          charts.map((c) => c.name),
          envoy ? ['redirect', 'outcomes', 'latency', 'ejections'] : ['redirect', 'outcomes', 'latency'],
        );
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
