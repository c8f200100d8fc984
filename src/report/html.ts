/**
 * report.html: one self-contained file with interactive charts. vega, vega-lite and vega-embed are
 * inlined from node_modules (no CDN: the report must open offline and years later).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Analysis } from '../analysis/analyze.ts';
import type { Figure } from './figures.ts';
import { narrative } from './narrative.ts';
import { summaryRows } from './tables.ts';
import { clientTableHtml } from './client-table.ts';
import { leadLines } from './lead.ts';
import { diagnosisRows, observedWords } from './diagnosis-section.ts';
import { GLOSSARY } from './words.ts';

const require = createRequire(import.meta.url);
let libs: string | undefined;

/** The three UMD bundles, read once per process. */
function inlineLibraries(): string {
  libs ??= ['vega/build/vega.min.js', 'vega-lite/build/vega-lite.min.js', 'vega-embed/build/vega-embed.min.js']
    .map((p) => `<script>${readFileSync(libPath(p), 'utf8').replace(/<\/script/gi, '<\\/script')}</script>`)
    .join('\n');
  return libs;
}

/** Package root found from its entry point: some of these packages do not export package.json. */
function libPath(p: string): string {
  const [pkg, ...rest] = p.split('/');
  let dir = path.dirname(require.resolve(pkg));
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) !== pkg) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${pkg} package directory`);
    dir = up;
  }
  return path.join(dir, ...rest);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON inside <script>: "</" and U+2028/9 must not end the script or break the parser. */
const jsonForScript = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

export function reportHtml(a: Analysis, figures: Figure[]): string {
  const s = a.summary;
  const rows = summaryRows(s)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('\n');
  const figs = figures
    .map(
      (f, i) =>
        `<section class="figure"><h2>${esc(f.title)}</h2><div class="chart" id="fig-${i}" data-figure="${esc(f.name)}"></div><p class="caption">${esc(f.caption)}</p></section>`,
    )
    .join('\n');
  const caveats = s.warnings.length
    ? s.warnings.map((w) => `<li>${esc(w)}</li>`).join('')
    : '<li>The translation reported no caveats for this run.</li>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(s.experiment)} ${esc(s.runId)}: Spillover report</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #111; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; }
th { font-weight: 600; } .caption { color: #444; font-size: 0.9em; } .figure { margin: 2em 0; }
</style>
${inlineLibraries()}
</head>
<body>
<h1>${esc(s.experiment)}: run ${esc(s.runId)}</h1>
${leadLines(s)
  .map((p) => `<p class="lead"><strong>${esc(p)}</strong></p>`)
  .join('\n')}
<h2>What happened</h2>
<ul>${narrative(a)
    .map((p) => `<li>${esc(p)}</li>`)
    .join('\n')}</ul>
<p class="caption">${esc(GLOSSARY)}</p>
<h2>Configuration diagnosis</h2>
<ul class="diagnosis">${
    diagnosisRows(a)
      .map(
        (r) =>
          `<li><strong>${esc(r.finding.title)}.</strong> ${esc(r.finding.effect)} <em>Source: ${esc(r.finding.source)}.</em> <strong>In this run: ${esc(observedWords(r.observed))}.</strong></li>`,
      )
      .join('\n') || '<li>No known pitfall found in this configuration.</li>'
  }</ul>
<h2>Summary</h2>
<table>${rows}</table>${clientTableHtml(s, esc)}
${figs}
<h2>Caveats</h2>
<ul>${caveats}</ul>
<script id="specs" type="application/json">${jsonForScript(figures.map((f) => f.spec))}</script>
<script>
const specs = JSON.parse(document.getElementById('specs').textContent);
window.spilloverCharts = Promise.all(specs.map((spec, i) => vegaEmbed('#fig-' + i, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })));
</script>
</body>
</html>
`;
}
