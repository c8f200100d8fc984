/**
 * Commander's own usage errors (unknown option, missing argument...) in the shape of every other bad
 * input: where (the flag or command), what, expected, found and fix. Commander still prints the usage
 * after it (showHelpAfterError) and exits 2 through main.ts.
 */
import { formatProblem, type ProblemDetail } from '../errors.ts';

export function commanderProblem(text: string): ProblemDetail {
  const [first, ...rest] = text
    .trim()
    .replace(/^error: /, '')
    .split('\n');
  const hint = rest.join(' ').match(/\(Did you mean (.+)\?\)/)?.[1];
  const quoted = [...first.matchAll(/'([^']*)'/g)].map((m) => m[1]);
  const fix = hint ? `did you mean ${hint}?` : 'see the usage below (or spillover <command> --help)';
  let m: RegExpMatchArray | null;
  if ((m = first.match(/^unknown option '([^']+)'/))) {
    return { file: m[1], message: 'unknown option', expected: 'an option of this command (listed below)', found: m[1], fix };
  }
  if ((m = first.match(/^unknown command '([^']+)'/))) {
    return {
      file: m[1],
      message: 'unknown command',
      expected: 'run, experiment, load, report, compare, sweep, rerun, import, doctor, cleanup',
      found: m[1],
      fix,
    };
  }
  if ((m = first.match(/^missing required argument '([^']+)'/))) {
    return {
      file: `<${m[1]}>`,
      message: `the ${m[1]} argument is missing`,
      expected: `spillover <command> <${m[1]}>`,
      found: 'nothing',
      fix: 'see the usage below',
    };
  }
  if ((m = first.match(/^option '([^' ]+)[^']*' argument missing/))) {
    return { file: m[1], message: 'the option needs a value', expected: `${m[1]} <value>`, found: `${m[1]} with nothing after it`, fix };
  }
  if ((m = first.match(/^required option '([^' ]+)[^']*' not specified/))) {
    return {
      file: m[1],
      message: 'a required option is missing',
      expected: quoted[0] ?? m[1],
      found: 'nothing',
      fix: `add ${quoted[0] ?? m[1]}`,
    };
  }
  if ((m = first.match(/^too many arguments(?: for '([^']+)')?\. (.*)$/))) {
    return {
      file: m[1] ? `spillover ${m[1]}` : 'spillover',
      message: 'too many arguments',
      expected: m[2],
      found: 'more',
      fix: 'quote values with spaces; options start with --',
    };
  }
  if ((m = first.match(/^option '([^' ]+)[^']*' argument '([^']*)' is invalid\.?\s*(.*)$/))) {
    return {
      file: m[1],
      message: 'invalid value',
      expected: m[3] || undefined,
      found: JSON.stringify(m[2]),
      fix: 'use one of the allowed values',
    };
  }
  return { message: first, found: quoted[0], fix };
}

/** For commander's configureOutput: writes the problem instead of commander's one-line error. */
export function outputCommanderError(str: string, write: (s: string) => void): void {
  write(`spillover: ${formatProblem(commanderProblem(str))}\n`);
}
