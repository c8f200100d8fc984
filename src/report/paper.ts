/**
 * Paper figures: the figures of a run (rebuilt from its raw data in a print theme), or of a sweep or
 * eras directory (their specs re-themed), as SVG with the font embedded, PDF with the font embedded
 * (pdfkit + svg-to-pdfkit), or 300 dpi PNG. Byte-reproducible: the same raw data give the same bytes
 * (no clock: the PDF dates are fixed, its ID follows from them).
 */
import fs from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { Resvg } from '@resvg/resvg-js';
import { SpilloverError } from '../errors.ts';
import { analyzeRun } from '../analysis/read-run.ts';
import { buildFigures, type FigureTheme } from './figures.ts';
import { renderSvg } from './render.ts';

export type PaperFormat = 'svg' | 'pdf' | 'png';
export type PaperSize = 'one-column' | 'two-column';

/** One column ≈ 3.3 in, two columns ≈ 7 in, at 96 px per inch; 7-9 pt type. */
export const PRINT_THEMES: Record<PaperSize, FigureTheme> = {
  'one-column': { width: 270, height: 130, labelFont: 7, axisFont: 8, titleFont: 9 },
  'two-column': { width: 600, height: 190, labelFont: 8, axisFont: 9, titleFont: 10 },
};

export const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

function fontBytes(): Buffer {
  if (!fs.existsSync(FONT_FILE))
    throw new SpilloverError({
      file: FONT_FILE,
      message: 'the DejaVu Sans font file is missing; paper figures embed it',
      fix: 'apt-get install -y fonts-dejavu-core',
    });
  return fs.readFileSync(FONT_FILE);
}

/** The SVG with DejaVu Sans embedded as a data-URL @font-face, so it renders the same anywhere. */
export function embedFont(svg: string, font: Buffer): string {
  const style = `<defs><style>@font-face{font-family:"DejaVu Sans";src:url(data:font/ttf;base64,${font.toString('base64')}) format("truetype");}</style></defs>`;
  return svg.replace(/(<svg[^>]*>)/, `$1${style}`);
}

export function svgToPdf(svg: string, font: Buffer): Promise<Buffer> {
  const w = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1] ?? 600);
  const h = Number(/<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1] ?? 400);
  const fixed = new Date(0);
  const doc = new PDFDocument({
    size: [w * 0.75, h * 0.75],
    margin: 0,
    info: { CreationDate: fixed, ModDate: fixed, Producer: 'spillover', Creator: 'spillover' },
  });
  doc.registerFont('DejaVu Sans', font);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  // pdfkit rejects a zero-length dash gap; "1,0" (vega's solid p50 line) is simply solid.
  SVGtoPDF(doc, svg.replace(/ stroke-dasharray="1,0"/g, ''), 0, 0, {
    width: w * 0.75,
    height: h * 0.75,
    assumePt: false,
    fontCallback: () => 'DejaVu Sans',
  });
  doc.end();
  return done;
}

/** Print fonts for a spec made elsewhere (sweep and eras figures). */
function rethemeSpec(spec: Record<string, unknown>, t: FigureTheme): Record<string, unknown> {
  const config = (spec.config ?? {}) as Record<string, Record<string, unknown>>;
  return {
    ...spec,
    config: {
      ...config,
      font: 'DejaVu Sans',
      axis: { ...(config.axis ?? {}), labelFontSize: t.axisFont, titleFontSize: t.axisFont + 1 },
      legend: { ...(config.legend ?? {}), labelFontSize: t.axisFont, titleFontSize: t.axisFont },
      title: { ...(config.title ?? {}), fontSize: t.titleFont },
      header: { labelFontSize: t.axisFont, titleFontSize: t.axisFont },
    },
  };
}

async function specsOf(dir: string, t: FigureTheme): Promise<Array<{ name: string; spec: Record<string, unknown> }>> {
  if (fs.existsSync(path.join(dir, 'manifest.json')) && fs.existsSync(path.join(dir, 'raw'))) {
    const { analysis } = await analyzeRun(dir);
    return buildFigures(analysis, t).map((f) => ({ name: f.name, spec: f.spec }));
  }
  const figs = path.join(dir, 'figures');
  if ((fs.existsSync(path.join(dir, 'sweep.json')) || fs.existsSync(path.join(dir, 'eras.json'))) && fs.existsSync(figs)) {
    return fs
      .readdirSync(figs)
      .filter((f) => f.endsWith('.vl.json'))
      .sort()
      .map((f) => ({ name: f.replace(/\.vl\.json$/, ''), spec: rethemeSpec(JSON.parse(fs.readFileSync(path.join(figs, f), 'utf8')), t) }));
  }
  throw new SpilloverError({
    file: dir,
    message: 'not a run, sweep or eras directory',
    expected: 'a run directory (manifest.json and raw/), or a directory with sweep.json or eras.json and figures/',
    fix: 'name e.g. results/peak-load/<run-id>',
  });
}

export async function paperFigures(
  dir: string,
  format: PaperFormat,
  size: PaperSize,
  outDir = path.join(dir, 'paper', size),
): Promise<string[]> {
  const font = fontBytes();
  const t = PRINT_THEMES[size];
  const specs = await specsOf(dir, t);
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const { name, spec } of specs) {
    const svg = await renderSvg(spec);
    const file = path.join(outDir, `${name}.${format}`);
    if (format === 'svg') fs.writeFileSync(file, embedFont(svg, font));
    else if (format === 'pdf') fs.writeFileSync(file, await svgToPdf(svg, font));
    else
      fs.writeFileSync(
        file,
        new Resvg(svg, {
          fitTo: { mode: 'zoom', value: 300 / 96 },
          font: { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
          background: 'white',
        })
          .render()
          .asPng(),
      );
    files.push(file);
  }
  return files;
}
