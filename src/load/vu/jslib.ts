/**
 * The most used jslib.k6.io modules, built in, so scripts that import them by URL run without the
 * network: k6-summary (textSummary, jUnit), k6-utils (random helpers, uuidv4, findBetween) and url
 * (URL, URLSearchParams). Written here from their documented APIs (grafana.com/docs/k6/latest/javascript-api/jslib/),
 * not copied. Any other remote module is refused with the advice to vendor it (bundle.ts).
 */
import crypto from 'node:crypto';
import { summaryText, type SummaryData } from './summary.ts';

/** A remote specifier → the built-in module name, or undefined. */
export function jslibModule(spec: string): string | undefined {
  const m = /^https:\/\/jslib\.k6\.io\/(k6-summary|k6-utils|url)\/[^/]+\/index\.js$/.exec(spec);
  return m ? `jslib:${m[1]}` : undefined;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function makeJslib(name: string): Record<string, unknown> {
  switch (name) {
    case 'jslib:k6-summary':
      return {
        textSummary: (data: SummaryData, o: { indent?: string } = {}) => summaryText(data).replace(/^ {3}/gm, o.indent ?? '   '),
        jUnit: (data: SummaryData, o: { name?: string; classname?: string } = {}) => {
          const cases: string[] = [];
          let failures = 0;
          for (const [metric, m] of Object.entries(data.metrics ?? {})) {
            for (const [expr, r] of Object.entries(m.thresholds ?? {})) {
              const n = esc(`${metric} - ${expr}`);
              if (r.ok) cases.push(`<testcase name="${n}" classname="${esc(o.classname ?? 'Unnamed folder')}" />`);
              else {
                failures++;
                cases.push(
                  `<testcase name="${n}" classname="${esc(o.classname ?? 'Unnamed folder')}"><failure message="failed" /></testcase>`,
                );
              }
            }
          }
          return `<?xml version="1.0"?>\n<testsuites tests="${cases.length}" failures="${failures}">\n<testsuite name="${esc(o.name ?? 'k6 thresholds')}" tests="${cases.length}" failures="${failures}">${cases.join('\n')}\n</testsuite>\n</testsuites>`;
        },
      };
    case 'jslib:k6-utils': {
      const randomIntBetween = (min: number, max: number) => Math.floor(Math.random() * (max - min + 1) + min);
      return {
        randomIntBetween,
        randomItem: <T>(arr: T[]) => arr[Math.floor(Math.random() * arr.length)],
        randomString: (length: number, charset = 'abcdefghijklmnopqrstuvwxyz') => {
          let s = '';
          for (let i = 0; i < length; i++) s += charset[Math.floor(Math.random() * charset.length)];
          return s;
        },
        uuidv4: () => crypto.randomUUID(),
        findBetween: (content: string, left: string, right: string, repeat = false) => {
          const out: string[] = [];
          let from = 0;
          for (;;) {
            const a = content.indexOf(left, from);
            if (a < 0) break;
            const b = content.indexOf(right, a + left.length);
            if (b < 0) break;
            out.push(content.slice(a + left.length, b));
            if (!repeat) return out[0];
            from = b + right.length;
          }
          return repeat ? out : '';
        },
        normalDistributionStages: (maxVus: number, durationSeconds: number, numberOfStages = 10) => {
          const stages = [];
          for (let i = 0; i <= numberOfStages; i++) {
            const x = (i / numberOfStages) * 6 - 3;
            stages.push({
              duration: `${Math.round(durationSeconds / (numberOfStages + 1))}s`,
              target: Math.round(maxVus * Math.exp(-(x * x) / 2)),
            });
          }
          return stages;
        },
      };
    }
    default:
      return { URL, URLSearchParams };
  }
}
