/**
 * "Did you mean" suggestions for misspelt names (instructions, stages,
 * flags, commands). Returns the closest candidate within a small edit
 * distance, or undefined when nothing is close enough to be a likely typo.
 */
export function suggest(word: string, candidates: Iterable<string>, options: { caseInsensitive?: boolean } = {}): string | undefined {
  const norm = (s: string): string => (options.caseInsensitive ? s.toLowerCase() : s);
  const w = norm(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, norm(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // Allow roughly one edit per three characters, at least one, at most three.
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  return bestDistance > 0 && bestDistance <= limit ? best : undefined;
}

/** Damerau-Levenshtein (optimal string alignment) distance: a transposition counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}
