// Retrieval scores against evidence ids (LoCoMo's retrieval accuracy and friends), aggregated per category.

import { round } from "./stats.js";

export interface RankScore {
  r5: number;
  r10: number;
  r20: number;
  hit10: number;
  mrr: number;
}

export const METRICS: readonly (keyof RankScore)[] = ["r5", "r10", "r20", "hit10", "mrr"];
export const METRIC_LABELS: Record<keyof RankScore, string> = { r5: "R@5", r10: "R@10", r20: "R@20", hit10: "Hit@10", mrr: "MRR" };

/**
 * `ranked`: evidence-comparable ids in rank order, already de-duplicated. recall@k = |evidence ∩ top-k| /
 * |evidence|; MRR over the top 20 (0 when no evidence is retrieved).
 */
export function scoreRanking(ranked: readonly string[], evidence: readonly string[]): RankScore {
  const gold = new Set(evidence);
  const recallAt = (k: number) => ranked.slice(0, k).filter((id) => gold.has(id)).length / gold.size;
  const first = ranked.slice(0, 20).findIndex((id) => gold.has(id));
  return {
    r5: recallAt(5),
    r10: recallAt(10),
    r20: recallAt(20),
    hit10: ranked.slice(0, 10).some((id) => gold.has(id)) ? 1 : 0,
    mrr: first < 0 ? 0 : 1 / (first + 1),
  };
}

/** Means of scores grouped by a key ("1".."4" for categories) plus "all". */
export class ScoreTable {
  private readonly sums = new Map<string, { n: number; s: RankScore }>();

  add(group: string, score: RankScore): void {
    for (const key of [group, "all"]) {
      const entry = this.sums.get(key) ?? { n: 0, s: { r5: 0, r10: 0, r20: 0, hit10: 0, mrr: 0 } };
      entry.n++;
      for (const m of METRICS) entry.s[m] += score[m];
      this.sums.set(key, entry);
    }
  }

  /** { group: { n, r5, … } } with means rounded to 3 decimals, groups in key order, "all" last. */
  summary(): Record<string, RankScore & { n: number }> {
    const keys = [...this.sums.keys()].filter((k) => k !== "all").sort();
    if (this.sums.has("all")) keys.push("all");
    return Object.fromEntries(
      keys.map((k) => {
        const { n, s } = this.sums.get(k)!;
        return [k, { n, r5: round(s.r5 / n), r10: round(s.r10 / n), r20: round(s.r20 / n), hit10: round(s.hit10 / n), mrr: round(s.mrr / n) }];
      }),
    );
  }
}

/** Keeps the first occurrence of each id: several records of one turn count once, at their best rank. */
export function dedupe(ids: Iterable<string | undefined>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const id of ids) if (id !== undefined && !seen.has(id)) (seen.add(id), out.push(id));
  return out;
}
