/**
 * "Did you mean …?" for configuration mistakes: the closest known name to a
 * misspelt key or value.
 */

/** The Levenshtein edit distance between two strings (insertions, deletions, substitutions). */
export function editDistance(first: string, second: string): number {
  if (first === second) return 0;
  if (first.length === 0) return second.length;
  if (second.length === 0) return first.length;
  let previousRow = Array.from({ length: second.length + 1 }, (_, index) => index);
  for (let row = 1; row <= first.length; row += 1) {
    const currentRow = [row];
    for (let column = 1; column <= second.length; column += 1) {
      const substitutionCost = first[row - 1] === second[column - 1] ? 0 : 1;
      currentRow.push(
        Math.min(
          (previousRow[column] ?? 0) + 1,
          (currentRow[column - 1] ?? 0) + 1,
          (previousRow[column - 1] ?? 0) + substitutionCost,
        ),
      );
    }
    previousRow = currentRow;
  }
  return previousRow[second.length] ?? 0;
}

/**
 * The candidate closest to `input`, when it is close enough to be a likely typo:
 * at most a third of the candidate's length in edits (at least 1, at most 3),
 * compared case-insensitively. Undefined when nothing is close.
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const lowered = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lowered, candidate.toLowerCase());
    const allowed = Math.min(3, Math.max(1, Math.floor(candidate.length / 3)));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "channel"?)` or the empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const match = closestMatch(input, candidates);
  return match === undefined ? "" : ` (did you mean ${JSON.stringify(match)}?)`;
}
