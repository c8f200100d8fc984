/**
 * Errors a user can act on. Every bad-input error names where (file and field path), what was
 * expected, what was found, and how to fix it; the CLI prints it without a stack trace and exits 2.
 */
export interface ProblemDetail {
  /** File the problem is in, relative to the working directory when possible. */
  file?: string;
  /** Field path inside the file, dotted with [i] for list items, e.g. `load.stages[2].duration`. */
  path?: string;
  /** 1-based line, when known. */
  line?: number;
  expected?: string;
  found?: string;
  fix?: string;
  message: string;
}

export class SpilloverError extends Error {
  readonly problems: ProblemDetail[];
  /** Process exit code: 2 for bad input (the default), 1 for a failed run, 130 for an interrupt. */
  readonly exitCode: number;

  constructor(problems: ProblemDetail | ProblemDetail[], exitCode = 2) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join('\n'));
    this.name = 'SpilloverError';
    this.problems = list;
    this.exitCode = exitCode;
  }
}

export function formatProblem(p: ProblemDetail): string {
  const e = escapeInvisible;
  const where = [p.file && (p.line ? `${e(p.file)}:${p.line}` : e(p.file)), p.path && e(p.path)].filter(Boolean).join(' ');
  const parts = [where ? `${where}: ${e(p.message, true)}` : e(p.message, true)];
  if (p.expected) parts.push(`  expected: ${e(p.expected)}`);
  if (p.found !== undefined) parts.push(`  found: ${e(p.found, true)}`);
  if (p.fix) parts.push(`  fix: ${e(p.fix, true)}`);
  return parts.join('\n');
}

/**
 * Characters a terminal shows as nothing or as a space: C0/C1 controls, no-break and other odd
 * spaces, zero-width characters, bidi controls, the BOM, Unicode tag characters. In an error they
 * are the very thing to see (a zero-width space in a key makes it unknown), so they are written as
 * \uXXXX. Newlines are kept where a caller asks (multi-line messages, a tool's last lines of output).
 */
const INVISIBLE =
  /[\u0000-\u0009\u000B-\u001F\u007F-\u00A0\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDC7F]/g;

export function escapeInvisible(s: string, keepNewlines = false): string {
  const out = s.replace(INVISIBLE, (c) =>
    c === '\t'
      ? '\\t'
      : c === '\r'
        ? '\\r'
        : c.length === 2
          ? `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`
          : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
  return keepNewlines ? out : out.replaceAll('\n', '\\n');
}

// Duck-typed as well: a module graph loaded twice (tests importing the CLI in-process) has two classes.
export const isSpilloverError = (e: unknown): e is SpilloverError =>
  e instanceof SpilloverError || ((e as Error)?.name === 'SpilloverError' && Array.isArray((e as SpilloverError).problems));
