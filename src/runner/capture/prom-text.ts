/**
 * Prometheus text exposition (0.0.4) → flat `[name, labels, value]` samples, the shape raw.ts stores.
 *
 * Written here rather than taken from npm: the one candidate (parse-prometheus-text-format, a single
 * release) folds histograms into per-family objects, so the flat sample names (`_bucket`, `_sum`) that
 * the raw contract keeps would have to be rebuilt, and it returns values as strings.
 */
import type { Sample } from '../../contracts/telemetry.ts';

export class PromParseError extends Error {
  constructor(
    readonly line: number,
    readonly found: string,
    message: string,
  ) {
    super(`line ${line}: ${message}: ${JSON.stringify(found.slice(0, 120))}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  let lineNo = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const raw = text.slice(start, end);
    start = end + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(parseSampleLine(line, lineNo));
  }
  return out;
}

function parseSampleLine(line: string, lineNo: number): Sample {
  const m = NAME.exec(line);
  if (!m) throw new PromParseError(lineNo, line, 'expected a metric name');
  const name = m[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const lm = NAME.exec(line.slice(i));
      if (!lm) throw new PromParseError(lineNo, line, 'expected a label name');
      i += lm[0].length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new PromParseError(lineNo, line, 'expected ="value" after a label name');
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new PromParseError(lineNo, line, 'unterminated label value');
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          value += e === 'n' ? '\n' : e;
        } else value += c;
      }
      labels[lm[0]] = value;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest[0] === '') throw new PromParseError(lineNo, line, 'expected a value');
  const value = parseValue(rest[0]);
  if (value === undefined) throw new PromParseError(lineNo, line, 'expected a number, NaN, +Inf or -Inf');
  return [name, labels, value];
}

function parseValue(s: string): number | undefined {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}
