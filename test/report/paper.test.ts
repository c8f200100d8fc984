/**
 * Paper figures: print-themed, fonts embedded, and the same bytes from the same raw data.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { paperFigures, FONT_FILE } from '../../src/report/paper.ts';
import { isSpilloverError } from '../../src/errors.ts';

const RUN = fileURLToPath(new URL('../fixtures/runs/peak-load-r01/', import.meta.url));

describe('paper figures (spillover figures)', function () {
  this.timeout(120000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-paper-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  before(function () {
    if (!fs.existsSync(FONT_FILE)) this.skip();
  });

  it('PDF, SVG and PNG are byte-identical when regenerated, and embed the font', async () => {
    for (const format of ['pdf', 'svg', 'png'] as const) {
      const a = await paperFigures(RUN, format, 'one-column', path.join(tmp, `a-${format}`));
      const b = await paperFigures(RUN, format, 'one-column', path.join(tmp, `b-${format}`));
      assert.deepEqual(
        a.map((f) => path.basename(f)),
        ['redirect', 'outcomes', 'latency', 'ejections'].map((n) => `${n}.${format}`),
      );
      for (let i = 0; i < a.length; i++)
        assert.ok(fs.readFileSync(a[i]).equals(fs.readFileSync(b[i])), `${a[i]} differs between two generations`);
      const first = fs.readFileSync(a[0]);
      if (format === 'pdf') {
        assert.equal(first.subarray(0, 5).toString(), '%PDF-');
        assert.match(first.toString('latin1'), /\/FontFile2/, 'the font program is embedded');
      }
      if (format === 'svg') assert.match(first.toString('utf8'), /@font-face\{font-family:"DejaVu Sans";src:url\(data:font\/ttf;base64,/);
      if (format === 'png') assert.equal(first.subarray(1, 4).toString(), 'PNG');
    }
  });

  it('one- and two-column sizes differ in width; a directory that is no run is a clear error', async () => {
    const [one] = await paperFigures(RUN, 'svg', 'one-column', path.join(tmp, 'one'));
    const [two] = await paperFigures(RUN, 'svg', 'two-column', path.join(tmp, 'two'));
    const width = (f: string) => Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(fs.readFileSync(f, 'utf8'))![1]);
    assert.ok(width(one) < 400 && width(two) > width(one) * 1.8, `${width(one)} / ${width(two)}`);
    await assert.rejects(
      paperFigures(tmp, 'svg', 'one-column'),
      (e: unknown) => isSpilloverError(e) && /not a run, sweep or eras directory/.test(e.message),
    );
  });
});
