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
