/**
 * The comparison as JUnit XML, for CI dashboards: one test case per key figure and per threshold.
 * Informational figures and unchanged figures pass; a gated figure that moved and a failed threshold
 * fail, with the change in the failure message.
 *
 * Written by hand to the schema CI tools validate against (Jenkins' junit-10.xsd, a copy in
 * test/fixtures/junit/): junit-report-builder put a `skipped` attribute on <testsuites>, which that
 * schema does not allow, so Jenkins' xunit plugin refused the whole file. Inside a test case the
 * failure precedes system-out, as the schema's sequence requires.
 */
import type { ComparisonResult } from './compare.ts';
import { formatActual } from './expect.ts';

interface Case {
  classname: string;
  name: string;
  out: string;
  failure?: { message: string; type: string };
}

// XML 1.0 allows no C0 controls but tab, LF and CR (nor lone surrogates, U+FFFE/U+FFFF).
const XML_INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const clean = (s: string) => s.replace(XML_INVALID, '\uFFFD');
const attr = (s: string) =>
  clean(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
const cdata = (s: string) => `<![CDATA[${clean(s).replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

export function comparisonJUnit(r: ComparisonResult, names: { base: string; cand: string }): string {
  const cases: Case[] = [];
  for (const f of r.figures) {
    const med = (m: number | null) => (m === Infinity ? 'never' : m === null ? 'none' : String(m));
    cases.push({
      classname: `${r.experiment.cand}.figures`,
      name: f.field,
      out: `${f.label}: ${f.note}; baseline median ${med(f.base.median)}, candidate median ${med(f.cand.median)}, p=${f.p.toFixed(4)}`,
      failure: f.changed && f.gate && !f.improved ? { message: `${f.label} ${f.note} (p=${f.p.toFixed(4)})`, type: 'changed' } : undefined,
    });
  }
  for (const e of r.expectations) {
    cases.push({
      classname: `${r.experiment.cand}.expect`,
      name: `${e.field} ${e.condition}`,
      out: `typical value ${formatActual(e.field, e.actual)}; ${e.runsOk}/${e.runs} runs meet it`,
      failure: e.ok
        ? undefined
        : { message: `${e.field} ${e.condition} not met: typical value ${formatActual(e.field, e.actual)}`, type: 'threshold' },
    });
  }
  const failures = cases.filter((c) => c.failure).length;
  const suite = `spillover compare ${r.experiment.cand}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(suite)}" tests="${cases.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${attr(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">`,
    '    <properties>',
    `      <property name="baseline" value="${attr(names.base)}"/>`,
    `      <property name="candidate" value="${attr(names.cand)}"/>`,
    '    </properties>',
  ];
  for (const c of cases) {
    lines.push(`    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}">`);
    if (c.failure) lines.push(`      <failure message="${attr(c.failure.message)}" type="${attr(c.failure.type)}"/>`);
    lines.push(`      <system-out>${cdata(c.out)}</system-out>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
