/** Reciprocal-rank fusion: Σ 1 / (k + rank) over the lists a candidate appears in (rank from 1). */
export function reciprocalRankFusion(lists: ReadonlyArray<readonly number[]>, k = 60): Map<number, number> {
  const scores = new Map<number, number>();
  for (const list of lists) {
    list.forEach((id, i) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + i + 1)));
  }
  return scores;
}
