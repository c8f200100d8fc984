import fs from 'node:fs';
import path from 'node:path';
import { distance } from 'fastest-levenshtein';

/** The closest known name to a mistyped one, or undefined when nothing is close enough to help. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  // A third of the word may be wrong: "consecutiveErrors" vs "consecutive5xxErrors" qualifies, "foo" vs "seed" not.
  return best !== undefined && bestScore <= Math.max(2, Math.ceil(word.length / 3)) ? best : undefined;
}

/**
 * For a file that does not exist: the sibling with the same extension whose name is closest, as a
 * path written the way the user wrote theirs (e.g. "experiments/peak-load.yaml" for "experiments/peak-lod.yaml").
 */
export function similarFile(file: string): string | undefined {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((f) => path.extname(f) === ext && f !== path.basename(file));
  } catch {
    return undefined;
  }
  const base = path.basename(file, ext);
  const guess = didYouMean(
    base,
    names.map((f) => path.basename(f, ext)),
  );
  return guess === undefined ? undefined : path.join(dir, guess + ext);
}
