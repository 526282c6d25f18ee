/**
 * Reciprocal-rank fusion: Σ w / (k + rank) over the lists a candidate appears in (rank from 1), with an
 * optional weight per list.
 */
export function reciprocalRankFusion(lists: ReadonlyArray<readonly number[]>, k = 60, weights: readonly number[] = []): Map<number, number> {
  const scores = new Map<number, number>();
  lists.forEach((list, l) => {
    const w = weights[l] ?? 1;
    list.forEach((id, i) => scores.set(id, (scores.get(id) ?? 0) + w / (k + i + 1)));
  });
  return scores;
}
