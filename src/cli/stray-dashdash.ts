/**
 * `npm run experiment peak-load -- --time-scale 0.1` needs the `--` (it tells npm the rest is not its
 * own); copied to the binary, commander reads everything after it as operands and stops with "too
 * many arguments". No spillover command takes an operand that starts with "-", so a `--` followed
 * by a flag is a stray one: dropped, with a hint.
 */
export function dropStrayDashDash(argv: string[], warn: (m: string) => void): string[] {
  const i = argv.indexOf('--', 2);
  if (i < 0 || i + 1 >= argv.length || !argv[i + 1].startsWith('-')) return argv;
  warn(
    `spillover: ignoring the "--" before ${argv[i + 1]}: npm needs it (npm run experiment <name> -- ${argv[i + 1]} ...), the spillover command does not`,
  );
  return [...argv.slice(0, i), ...argv.slice(i + 1)];
}
