/** One parsed record per non-empty line of an ndjson file of a recorded run (run events, scrapes). */
import fs from 'node:fs';

export const ndjsonLines = <T>(f: string): T[] =>
  fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
