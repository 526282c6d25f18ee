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

/**
 * Scores of one channel on a common 0–1 scale. "max": divided by the channel's best (BM25 and other unbounded
 * scores; the best match of each channel is 1); "absolute": kept as they are, clipped to 0–1 (cosine
 * similarity, already on that scale: a weak best match stays weak).
 */
export function normalizeScores(list: readonly { id: number; score: number }[], how: "max" | "absolute"): Map<number, number> {
  const out = new Map<number, number>();
  const max = list.reduce((m, c) => Math.max(m, c.score), 0);
  for (const c of list) out.set(c.id, Math.min(1, Math.max(0, how === "max" ? (max > 0 ? c.score / max : 0) : c.score)));
  return out;
}

/**
 * CombSUM: Σ w × normalised score over the channels a candidate appears in. Score-based, unlike RRF: a channel
 * whose best match is far ahead of the rest keeps that lead in the fusion, and a candidate that one channel
 * ranks 2nd by a hair no longer ties with one it ranks 2nd by a mile.
 */
export function combSum(channels: ReadonlyArray<ReadonlyMap<number, number>>, weights: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  channels.forEach((scores, c) => {
    const w = weights[c] ?? 1;
    for (const [id, score] of scores) out.set(id, (out.get(id) ?? 0) + w * score);
  });
  return out;
}
