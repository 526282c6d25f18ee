import { AnnIndex, type AnnHit, type AnnIndexOptions } from "./hnsw-index.js";
import { HeavyPoints } from "./heavy-points.js";
import { checkDim, checkLabel, MAX_LABEL } from "./labels.js";
import type { AnnSaveMeta, AnnSidecarMeta } from "./sidecar.js";
import { vectorKey } from "./vector-key.js";

/** Labels whose vectors are byte-identical; they share one hnswlib point. */
interface Group {
  /** hnswlib label of the group's point: its first member's label, kept after that member leaves. */
  readonly rep: number;
  /** `vectorKey` of the vector. */
  readonly key: number;
  readonly members: Set<number>;
  /** `members` ascending, built by `search` when needed and dropped on change. */
  sorted: number[] | null;
  /** The point as a Float32Array while `vectorOf` keeps it (see `held`). */
  vector: Float32Array | null;
  /** Read by `vectorOf` since the eviction sweep last passed it: spared once (the clock algorithm's bit). */
  referenced: boolean;
}

// Squared distance between unit vectors (2 × cosine distance) under which a key match is the same vector.
const SAME_POINT = 1e-6;
/** Memory for the vectors `vectorOf` keeps (about 11k at 384 dimensions). */
const RECENT_VECTOR_BYTES = 16 * 1024 * 1024;

/**
 * An AnnIndex that keeps one hnswlib point per distinct vector. Records with the same text have byte-identical
 * embeddings, and many copies of one point wreck hnswlib's graph: copies are at distance 0 from each other, so
 * their neighbour lists fill up with one another and the search walk cannot get past them (measured on 30k
 * 64-d vectors drawn from 500 distinct ones: recall@10 0.43, 57 of 100 queries at zero; 0.85 without copies).
 * Here each distinct vector is one point, the representative of a group of labels (members); a search returns
 * the members of the nearest points, all at their point's distance.
 *
 * It has AnnIndex's interface in terms of labels: `size`, `has`, `add`, `remove`, `search`, `save`, `load`.
 * Invariants: every label is a member of exactly one group; every group has at least one member and exactly
 * one live hnswlib point, labelled `rep`; `byRep` holds exactly the live hnswlib labels. Member labels and
 * point labels are separate namespaces that usually coincide.
 */
export class DedupAnnIndex {
  private readonly groupOf = new Map<number, Group>();
  private readonly byRep = new Map<number, Group>();
  /**
   * Groups by key. Two different vectors with one key (a 53-bit collision) stay apart; the second one's group
   * is just not listed here, so its later copies get points of their own: only deduplication is lost.
   */
  private readonly byKey = new Map<number, Group>();

  /** The heaviest groups, scanned exactly by `search`. */
  private readonly heavy: HeavyPoints<Group>;
  /**
   * Groups whose `vector` is held, oldest first, at most RECENT_VECTOR_BYTES of vectors: a clock (second chance)
   * rather than a strict LRU, so that a read of a held vector costs one flag and no Map operation.
   */
  private readonly held = new Set<Group>();

  private constructor(private readonly ann: AnnIndex) {
    this.heavy = new HeavyPoints(ann.dim, this.byRep, (rep) => ann.point(rep));
  }

  static create(options: AnnIndexOptions): DedupAnnIndex {
    return new DedupAnnIndex(AnnIndex.create(options));
  }

  /**
   * Loads an index saved by `save`, or returns `null` (never throws) as `AnnIndex.load` does, and also when
   * the sidecar's groups are missing or do not match the index file's points.
   */
  static load(
    path: string,
    expected: { dim: number },
    onReject?: (reason: string) => void,
  ): { index: DedupAnnIndex; meta: AnnSidecarMeta } | null {
    const loaded = AnnIndex.load(path, expected, onReject);
    if (!loaded) return null;
    const index = new DedupAnnIndex(loaded.index);
    const groups = loaded.meta.groups;
    const problem = typeof groups === "string" ? index.restore(groups) : "sidecar has no groups";
    if (problem !== null) {
      onReject?.(problem);
      return null;
    }
    return { index, meta: loaded.meta };
  }

  get dim(): number {
    return this.ann.dim;
  }

  /** Live labels. */
  get size(): number {
    return this.groupOf.size;
  }

  /** hnswlib points, i.e. distinct live vectors. */
  get points(): number {
    return this.ann.size;
  }

  has(label: number): boolean {
    return this.groupOf.has(label);
  }

  /** Up to `n` live labels spread evenly over the index (insertion order), for spot checks. O(size). */
  sample(n: number): number[] {
    const out: number[] = [];
    const stride = Math.max(1, Math.floor(this.groupOf.size / Math.max(1, n)));
    let i = 0;
    for (const label of this.groupOf.keys()) {
      if (i++ % stride === 0) out.push(label);
      if (out.length >= n) break;
    }
    return out;
  }

  /**
   * The (unit-length) vector of a live label; undefined when the label is not in the index. Read by `load` when
   * given, else out of hnswlib (whose getPoint builds a JS array element by element: ~35–150 µs at 384 dimensions).
   * The recently read ones are kept as Float32Arrays (a clock: see `held`), so a scope searched again reads them
   * at no cost.
   */
  vectorOf(label: number, load?: (label: number) => Float32Array | undefined): Float32Array | undefined {
    const group = this.groupOf.get(label);
    if (!group) return undefined;
    if (group.vector) {
      group.referenced = true;
      return group.vector;
    }
    const budget = Math.max(1, Math.floor(RECENT_VECTOR_BYTES / (this.dim * 4)));
    while (this.held.size >= budget) {
      const oldest: Group = this.held.values().next().value!;
      this.held.delete(oldest);
      if (oldest.referenced) {
        oldest.referenced = false;
        this.held.add(oldest);
      } else {
        oldest.vector = null;
      }
    }
    // The caller's copy (a primary-key read of the vector table, ~10 µs) when it has one, normalised as hnswlib
    // normalises its points; hnswlib's own otherwise.
    const loaded = load?.(label);
    group.vector = loaded ? unit(loaded) : Float32Array.from(this.ann.point(group.rep));
    group.referenced = false;
    this.held.add(group);
    return group.vector;
  }

  /** Inserts `label`, or replaces its vector. Costs no hnswlib insertion when the vector is already held. */
  add(label: number, vector: Float32Array): void {
    checkLabel(label);
    checkDim(vector, this.dim);
    const key = vectorKey(vector);
    const current = this.groupOf.get(label);
    if (current) {
      // Replaying the change log re-adds labels unchanged.
      if (current.key === key && this.sameVector(current, vector)) return;
      this.remove(label);
    }
    let group = this.byKey.get(key);
    if (group && !this.sameVector(group, vector)) group = undefined;
    if (!group) {
      group = { rep: this.freeRep(label), key, members: new Set(), sorted: null, vector: null, referenced: false };
      this.ann.add(group.rep, vector);
      this.byRep.set(group.rep, group);
      if (!this.byKey.has(key)) this.byKey.set(key, group);
    }
    group.members.add(label);
    group.sorted = null;
    this.groupOf.set(label, group);
    this.heavy.changed();
  }

  remove(label: number): void {
    const group = this.groupOf.get(label);
    if (!group) return;
    this.groupOf.delete(label);
    group.members.delete(label);
    group.sorted = null;
    this.heavy.changed();
    // The point stands for the group while it has members, even when it was labelled with `label`.
    if (group.members.size > 0) return;
    this.held.delete(group);
    group.vector = null;
    this.ann.remove(group.rep);
    this.byRep.delete(group.rep);
    if (this.byKey.get(group.key) === group) this.byKey.delete(group.key);
  }

  /**
   * The `k` nearest labels, nearest first; the members of one point come in ascending label order. hnswlib is
   * asked for `k` points: each has a member (that passes `filter`, which it applies to members), so `k` points
   * yield `k` labels whenever that many exist.
   *
   * The points with the most members are also scanned exactly and merged in (see `HeavyPoints`): missing one
   * of them in the graph walk would lose all of its labels at once.
   */
  search(vector: Float32Array, k: number, filter?: (label: number) => boolean): AnnHit[] {
    const n = Math.floor(k);
    const passes = filter ? (group: Group) => this.anyMember(group, filter) : () => true;
    const graph = filter ? this.ann.search(vector, n, (rep) => passes(this.byRep.get(rep)!)) : this.ann.search(vector, n);
    const points = this.heavy.merge(graph, vector, n, passes);
    const hits: AnnHit[] = [];
    for (const point of points) {
      const group = this.byRep.get(point.label)!;
      const members = group.members.size === 1 ? group.members : (group.sorted ??= [...group.members].sort((a, b) => a - b));
      for (const label of members) {
        if (hits.length >= n) return hits;
        if (!filter || filter(label)) hits.push({ label, distance: point.distance });
      }
    }
    return hits;
  }

  /** `AnnIndex.save`, with the groups in the sidecar. */
  save(path: string, meta: AnnSaveMeta): AnnSidecarMeta {
    return this.ann.save(path, { ...meta, groups: this.encodeGroups() });
  }

  private anyMember(group: Group, filter: (label: number) => boolean): boolean {
    for (const label of group.members) if (filter(label)) return true;
    return false;
  }

  /**
   * Confirms a key match. hnswlib keeps only the normalised point, which float rounding makes differ from a
   * normalisation done here in the last bits, so this compares directions: equal bytes always pass, and
   * different vectors would pass only by also colliding on the key while being too close for search to tell.
   */
  private sameVector(group: Group, vector: Float32Array): boolean {
    const point = this.ann.point(group.rep);
    let squares = 0;
    for (let i = 0; i < vector.length; i++) squares += vector[i]! * vector[i]!;
    // hnswlib leaves a zero vector as it is.
    const scale = squares > 0 ? 1 / Math.sqrt(squares) : 0;
    let distance = 0;
    for (let i = 0; i < vector.length; i++) {
      const d = vector[i]! * scale - point[i]!;
      distance += d * d;
    }
    return distance <= SAME_POINT;
  }

  /** The point label of a new group: its first member's, unless an older group's point still has it. */
  private freeRep(label: number): number {
    if (!this.byRep.has(label)) return label;
    // Taken only when that member left a group that others keep; row ids never come near the top.
    let rep = MAX_LABEL;
    while (this.byRep.has(rep)) rep--;
    return rep;
  }

  /**
   * Groups as base64 of little-endian u32 words, per group: rep, key (high, low), member count, members.
   * Count 0 means the one member `rep`, the usual case, which keeps the sidecar to 16 bytes per point.
   */
  private encodeGroups(): string {
    const words: number[] = [];
    for (const group of this.byRep.values()) {
      const alone = group.members.size === 1 && group.members.has(group.rep);
      words.push(group.rep, Math.floor(group.key / 2 ** 32), group.key >>> 0, alone ? 0 : group.members.size);
      if (!alone) for (const label of group.members) words.push(label);
    }
    const array = Uint32Array.from(words);
    return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");
  }

  /** Fills the maps from `encodeGroups`' output; returns what is wrong with it, or null. */
  private restore(encoded: string): string | null {
    const bytes = Buffer.from(encoded, "base64");
    if (bytes.length % 4 !== 0) return "sidecar groups are not whole u32 words";
    // Copied: a decoded Buffer may sit at an offset that a Uint32Array cannot view.
    const words = new Uint32Array(Uint8Array.from(bytes).buffer);
    for (let i = 0; i < words.length; ) {
      if (i + 4 > words.length) return "sidecar groups are truncated";
      const rep = words[i]!;
      const key = words[i + 1]! * 2 ** 32 + words[i + 2]!;
      const count = words[i + 3]!;
      i += 4;
      if (i + count > words.length) return "sidecar groups are truncated";
      if (!this.ann.has(rep) || this.byRep.has(rep)) return `sidecar group point ${rep} is not a live point of the index, or is listed twice`;
      const group: Group = { rep, key, members: new Set(), sorted: null, vector: null, referenced: false };
      for (const label of count === 0 ? [rep] : words.subarray(i, i + count)) {
        if (this.groupOf.has(label)) return `label ${label} is in two sidecar groups`;
        group.members.add(label);
        this.groupOf.set(label, group);
      }
      i += count;
      this.byRep.set(rep, group);
      if (!this.byKey.has(key)) this.byKey.set(key, group);
    }
    if (this.byRep.size !== this.ann.size) return `sidecar lists ${this.byRep.size} groups for ${this.ann.size} points`;
    return null;
  }
}

/** A unit-length copy of `v` (a zero vector stays zero, as hnswlib leaves it). */
function unit(v: Float32Array): Float32Array {
  let squares = 0;
  for (let i = 0; i < v.length; i++) squares += v[i]! * v[i]!;
  const scale = squares > 0 ? 1 / Math.sqrt(squares) : 0;
  return Float32Array.from(v, (x) => x * scale);
}
