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
  const where = [p.file && (p.line ? `${p.file}:${p.line}` : p.file), p.path].filter(Boolean).join(' ');
  const parts = [where ? `${where}: ${p.message}` : p.message];
  if (p.expected) parts.push(`  expected: ${p.expected}`);
  if (p.found !== undefined) parts.push(`  found: ${p.found}`);
  if (p.fix) parts.push(`  fix: ${p.fix}`);
  return parts.join('\n');
}

// Duck-typed as well: a module graph loaded twice (tests importing the CLI in-process) has two classes.
export const isSpilloverError = (e: unknown): e is SpilloverError =>
  e instanceof SpilloverError || ((e as Error)?.name === 'SpilloverError' && Array.isArray((e as SpilloverError).problems));
