/**
 * An experiment file as a YAML document: syntax and alias errors as problems with their lines, a
 * mapping at the top, and the line of any path (for every later problem).
 */
import { LineCounter, parseDocument, isNode, visit, type Document } from 'yaml';
import { SpilloverError, type ProblemDetail } from '../errors.ts';

export function readYamlMapping(text: string, display: string): { doc: Document; lineCounter: LineCounter; raw: unknown } {
  const lineCounter = new LineCounter();
  // logLevel 'error': yaml's own warnings (a mapping used as a key...) would go to stderr as Node
  // process warnings; what such input means is reported as a problem below instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length) {
    // yaml reports some errors twice (once per node it touches); one line per distinct error is enough.
    const seen = new Set<string>();
    const problems: ProblemDetail[] = [];
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      const first = e.message.split('\n')[0];
      const message = /Maximum call stack/.test(first)
        ? 'YAML nested too deeply to read (the parser ran out of stack)'
        : `YAML syntax error: ${first}`;
      if (seen.has(`${line} ${message}`)) continue;
      seen.add(`${line} ${message}`);
      const src = line ? text.split('\n')[line - 1]?.trim() : undefined;
      problems.push({
        file: display,
        line,
        message,
        expected: 'YAML: "key: value" lines indented with spaces, lists of "- item"',
        found: src ? JSON.stringify(src.length > 80 ? `${src.slice(0, 77)}...` : src) : undefined,
        fix: 'fix the YAML (indentation uses spaces; a list item starts with "- "; quote values containing ": ")',
      });
    }
    throw new SpilloverError(problems);
  }
  let raw: unknown;
  try {
    // Aliases are resolved here: one used before its anchor, or a billion-laughs expansion, fails now.
    raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (e) {
    throw new SpilloverError({
      file: display,
      line: aliasLine(doc, lineCounter),
      message: `YAML error: ${(e as Error).message.split('\n')[0]}`,
      expected: 'every alias (*name) after its anchor (&name), and at most 1000 alias uses in all',
      fix: 'define an anchor (&name) before any alias (*name) that uses it, and do not nest aliases to expand the document',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpilloverError({
      file: display,
      message: 'the experiment must be a YAML mapping',
      expected: 'apiVersion, kind, metadata, ...',
      found: Array.isArray(raw) ? 'a list' : raw === null ? 'an empty document' : String(raw),
      fix: 'start from experiments/peak-load.yaml: top-level fields are written "name: value", without a leading "- "',
    });
  }
  return { doc, lineCounter, raw };
}

/** The line of the alias to blame: the first one that resolves to nothing, else the first one. */
function aliasLine(doc: Document, lc: LineCounter): number | undefined {
  let first: number | undefined;
  let broken: number | undefined;
  visit(doc, {
    Alias(_, node) {
      const line = node.range ? lc.linePos(node.range[0]).line : undefined;
      first ??= line;
      if (broken === undefined && !node.resolve(doc)) broken = line;
    },
  });
  return broken ?? first;
}

export function lineOf(doc: Document, lc: LineCounter, p: ReadonlyArray<PropertyKey>): number | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n) as Array<string | number>, true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}
