import hnswlib from "hnswlib-node";
import type { BruteforceSearch } from "hnswlib-node";
import type { AnnHit } from "./hnsw-index.js";

/** Points shared by the most labels that a search also scans exactly (~0.1 ms for 2,048 384-d points). */
const HEAVY_POINTS = 2048;
/** Membership changes after which the heavy points are chosen again (at the next search); more in a large index. */
const HEAVY_REFRESH = 1024;

/** What HeavyPoints needs of a group of labels sharing one point. */
export interface HeavyGroup {
  /** Label of the group's hnswlib point. */
  readonly rep: number;
  readonly members: ReadonlySet<number>;
}

/**
 * The HEAVY_POINTS points with the most members (at least two), scanned exactly beside the graph search. A point
 * that many records share (the same short fact stated by many users) is still one node of the graph, and a graph
 * search can miss it like any node (in a sparse region of the hash embedder's space it often does), but missing
 * it loses all of its labels at once: on the 100k benchmark corpus most queries whose ANN recall was zero were
 * asking for exactly one such point.
 *
 * Holds the chosen groups by point label and a brute-force hnswlib index of their points under the same labels,
 * brought up to date lazily and incrementally.
 */
export class HeavyPoints<G extends HeavyGroup> {
  private readonly heavy = new Map<number, G>();
  private index: BruteforceSearch | null = null;
  private changes = Infinity;

  /**
   * @param groups the live groups by point label (read, never written)
   * @param pointOf the stored vector of a live point
   */
  constructor(
    private readonly dim: number,
    private readonly groups: ReadonlyMap<number, G>,
    private readonly pointOf: (rep: number) => number[],
  ) {}

  /** Counts one membership change (a label added or removed). */
  changed(): void {
    this.changes++;
  }

  /** `graph` (nearest points, nearest first) merged with the nearest heavy points that pass; at most `n`. */
  merge(graph: AnnHit[], vector: Float32Array, n: number, passes: (group: G) => boolean): AnnHit[] {
    const index = this.refreshed();
    if (this.heavy.size === 0 || n <= 0) return graph;
    // Over-fetched, then filtered here: a filter inside the scan would test every heavy group's members.
    const found = index.searchKnn(Array.from(vector), Math.min(this.heavy.size, n * 4));
    // Nothing farther than the graph's n-th point can enter the result.
    const bound = graph.length >= n ? graph[graph.length - 1]!.distance : Infinity;
    const seen = new Set(graph.map((h) => h.label));
    const merged = [...graph];
    for (let i = 0; i < found.neighbors.length && found.distances[i]! < bound; i++) {
      const rep = found.neighbors[i]!;
      const group = this.heavy.get(rep)!;
      // A group that has since lost all its members, or whose point label went to another vector, is skipped.
      if (this.groups.get(rep) !== group || seen.has(rep) || !passes(group)) continue;
      merged.push({ label: rep, distance: found.distances[i]! });
    }
    if (merged.length === graph.length) return graph;
    return merged.sort((a, b) => a.distance - b.distance).slice(0, n);
  }

  /**
   * The index, its groups chosen again at the first search after HEAVY_REFRESH membership changes (or one per 64
   * points): two passes over the groups (a size histogram, then the pick), and only the points that joined or
   * left the set are added to or removed from the index.
   */
  private refreshed(): BruteforceSearch {
    // Each pass visits every group: in a large index, refresh less often.
    if (this.index && this.changes < Math.max(HEAVY_REFRESH, this.groups.size >> 6)) return this.index;
    const counts = new Map<number, number>();
    for (const g of this.groups.values()) if (g.members.size > 1) counts.set(g.members.size, (counts.get(g.members.size) ?? 0) + 1);
    // The smallest size that still fits, and how many groups of exactly that size do.
    let threshold = 2;
    let room = HEAVY_POINTS;
    for (const size of [...counts.keys()].sort((a, b) => b - a)) {
      const count = counts.get(size)!;
      threshold = size;
      if (count >= room) break;
      room -= count;
    }
    const chosen = new Map<number, G>();
    for (const g of this.groups.values()) {
      const size = g.members.size;
      if (size < 2 || size < threshold) continue;
      if (size === threshold) {
        if (room === 0) continue;
        room--;
      }
      chosen.set(g.rep, g);
    }
    let index = this.index;
    if (!index) {
      index = this.index = new hnswlib.BruteforceSearch("cosine", this.dim);
      index.initIndex(HEAVY_POINTS);
    }
    for (const [rep, group] of this.heavy) {
      if (chosen.get(rep) === group) continue;
      index.removePoint(rep);
      this.heavy.delete(rep);
    }
    for (const [rep, group] of chosen) {
      if (this.heavy.has(rep)) continue;
      index.addPoint(this.pointOf(rep), rep);
      this.heavy.set(rep, group);
    }
    this.changes = 0;
    return index;
  }
}
