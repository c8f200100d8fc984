/** vega-lite spec → SVG (vega's headless renderer) → PNG (resvg), both byte-stable for a given spec. */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { VlSpec } from './figures.ts';

/**
 * The spec without interaction parameters. Zooming means nothing in a static image, and a bound
 * interval makes vega clip the marks with ids from a process-wide counter, which would make the SVG
 * depend on how many figures the process rendered before.
 */
export function staticSpec(spec: VlSpec): VlSpec {
  const strip = (o: VlSpec): VlSpec => {
    const { params: _params, layer, vconcat, ...rest } = o as VlSpec & { params?: unknown; layer?: VlSpec[]; vconcat?: VlSpec[] };
    return { ...rest, ...(layer ? { layer: layer.map(strip) } : {}), ...(vconcat ? { vconcat: vconcat.map(strip) } : {}) };
  };
  return strip(spec);
}

export async function renderSvg(spec: VlSpec): Promise<string> {
  const vg = compile(staticSpec(spec) as never).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** 2× scale: sharp at print size without the file getting large. */
export function svgToPng(svg: string): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return r.render().asPng();
}
