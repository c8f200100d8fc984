/**
 * Number formats shared by the narrative and the tables, so words and tables cannot disagree
 * ("100 %" beside "99.6 %"), and the report's one vocabulary for rates:
 * - offered: the schedule's rate (open loop only; a closed loop has none);
 * - achieved: requests actually sent per second (what the terminal's progress line calls achieved);
 * - succeeded: requests answered 2xx/3xx; "success ratio" is succeeded / sent.
 */
export const pc = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
export const s1 = (t: number) => `${t.toFixed(1)} s`;
export const s2 = (t: number) => `${t.toFixed(2)} s`;
export const rps = (x: number | null) => (x === null ? 'n/a' : `${Math.round(x)} req/s`);

/** "at offered 193 req/s (achieved 158 req/s)", or "at 158 req/s achieved" in a closed loop. */
export function loadAt(offered: number | null, achieved: number | null): string {
  if (offered === null) return achieved === null ? '' : `at ${rps(achieved)} achieved`;
  return `at offered ${rps(offered)} (achieved ${rps(achieved)})`;
}

export const GLOSSARY =
  "Words: offered = the rate the scenario schedules (open loop); achieved = requests actually sent per second; success ratio = requests answered 2xx/3xx over requests sent; redirect = traffic moved to B because A was ejected, marked unhealthy or no upstream was healthy (not B's normal share of load balancing).";
