// Default import: the named import type-checks but fails at run time under ESM (hnswlib-node is CommonJS).
import hnswlib from "hnswlib-node";
import type { HierarchicalNSW } from "hnswlib-node";
import { checkDim, checkLabel, positiveInt } from "./labels.js";
import { readVerified, writeIndexFiles, type AnnSaveMeta, type AnnSidecarMeta } from "./sidecar.js";

export interface AnnIndexOptions {
  /** Vector dimension; fixed for the life of the index. */
  dim: number;
  /** Initial number of slots; grows by doubling when full. @default 1024 */
  capacity?: number;
  /** Graph degree. @default 16 */
  M?: number;
  /** Candidate list size while inserting: higher builds slower and recalls better. @default 128 */
  efConstruction?: number;
  /**
   * Candidate list size while searching (raised to k when k is larger). 128 keeps recall@10 near 0.98 even
   * on uniform random 64-d vectors, the hard case (64 gives 0.90 there); clustered data reaches 1.0.
   * @default 128
   */
  efSearch?: number;
  /** Seed of the level generator, so that builds are reproducible. @default 100 */
  seed?: number;
}

export interface AnnHit {
  label: number;
  /** Cosine distance, 1 - cos(query, vector): 0 for the same direction, 2 for opposite ones. */
  distance: number;
}

const DEFAULTS = { capacity: 1024, M: 16, efConstruction: 128, efSearch: 128, seed: 100 } as const;

/**
 * One hnswlib HNSW graph in cosine space, with the bookkeeping hnswlib leaves to its caller: live count,
 * label checks, growth, slot reuse after deletion, and a file format that refuses to load a mismatched index.
 *
 * Every method but `save`/`load` runs on the calling thread and blocks it (insertion ~0.1–0.8 ms per vector).
 *
 * @example
 * const ann = AnnIndex.create({ dim: 384 });
 * ann.add(42, vector);
 * ann.search(query, 10); // [{ label: 42, distance: 0.03 }, ...]
 */
export class AnnIndex {
  /**
   * Labels that may still occupy a slot marked deleted. A superset: hnswlib reuses deleted slots for new
   * labels without saying whose, so a label leaves this set only when re-added or when `prune()` checks.
   * Invariant: disjoint from `live`, and contains every deleted label still known to hnswlib.
   */
  private maybeDeleted: Set<number>;

  private constructor(
    private readonly hnsw: HierarchicalNSW,
    readonly dim: number,
    readonly M: number,
    readonly efConstruction: number,
    readonly efSearch: number,
    private readonly live: Set<number>,
    deleted: Iterable<number>,
  ) {
    this.maybeDeleted = new Set(deleted);
    // ef resets to 10 after initIndex and readIndex: far too low for useful recall.
    hnsw.setEf(efSearch);
  }

  static create(options: AnnIndexOptions): AnnIndex {
    const dim = positiveInt("dim", options.dim);
    const capacity = positiveInt("capacity", options.capacity ?? DEFAULTS.capacity);
    const M = positiveInt("M", options.M ?? DEFAULTS.M);
    const efConstruction = positiveInt("efConstruction", options.efConstruction ?? DEFAULTS.efConstruction);
    const efSearch = positiveInt("efSearch", options.efSearch ?? DEFAULTS.efSearch);
    const seed = options.seed ?? DEFAULTS.seed;
    const hnsw = new hnswlib.HierarchicalNSW("cosine", dim);
    hnsw.initIndex(capacity, M, efConstruction, seed, true);
    return new AnnIndex(hnsw, dim, M, efConstruction, efSearch, new Set(), []);
  }

  /** Live vectors. */
  get size(): number {
    return this.live.size;
  }

  /** Allocated slots; grows by doubling. */
  get capacity(): number {
    return this.hnsw.getMaxElements();
  }

  has(label: number): boolean {
    return this.live.has(label);
  }

  /** Inserts `label`, or replaces its vector. A removed label comes back with the new vector. */
  add(label: number, vector: Float32Array): void {
    checkLabel(label);
    this.checkVector(vector);
    const point = Array.from(vector);
    if (this.live.has(label)) {
      this.hnsw.addPoint(point, label, false);
      return;
    }
    // With slot reuse enabled, hnswlib refuses addPoint on a deleted label; it must be unmarked first.
    // Calling addPoint(…, true) instead would give the label a second slot and later corrupt the lookup.
    if (this.maybeDeleted.delete(label) && this.unmark(label)) {
      this.hnsw.addPoint(point, label, false);
      this.live.add(label);
      return;
    }
    const used = this.hnsw.getCurrentCount();
    const free = used - this.live.size;
    if (free === 0 && used >= this.hnsw.getMaxElements()) this.hnsw.resizeIndex(Math.max(2 * used, 16));
    this.hnsw.addPoint(point, label, free > 0);
    this.live.add(label);
  }

  /** Marks `label` deleted: it leaves search results at once and its slot is reused by a later `add`. */
  remove(label: number): void {
    if (!this.live.has(label)) return;
    this.hnsw.markDelete(label);
    this.live.delete(label);
    this.maybeDeleted.add(label);
    const used = this.hnsw.getCurrentCount();
    // Bound the superset; pruning is O(slots), so allow growth proportional to the index between prunes.
    if (this.maybeDeleted.size > 2 * (used - this.live.size) + Math.max(1024, used >> 4)) this.prune();
  }

  /**
   * The `k` nearest live labels by cosine distance, nearest first. `filter` runs inside hnswlib's graph walk
   * (one call per candidate), so a selective filter costs more time but still fills `k` when it can.
   */
  search(vector: Float32Array, k: number, filter?: (label: number) => boolean): AnnHit[] {
    this.checkVector(vector);
    const n = Math.min(Math.floor(k), this.live.size);
    if (!(n > 0)) return [];
    const point = Array.from(vector);
    const result = filter ? this.hnsw.searchKnn(point, n, filter) : this.hnsw.searchKnn(point, n);
    const hits: AnnHit[] = new Array(result.neighbors.length);
    for (let i = 0; i < hits.length; i++) hits[i] = { label: result.neighbors[i]!, distance: result.distances[i]! };
    return hits;
  }

  /**
   * Writes the index to `path` and its sidecar to `path + ".json"`, the sidecar holding the index file's SHA-256
   * (`checksum`). Each goes to a temporary file of its own (`.<pid>.<random>.tmp`: several processes may save
   * the same index at once) and is renamed into place; the old sidecar is unlinked before the index is
   * replaced, so a crash in between leaves no sidecar (a rebuild) rather than a sidecar describing another
   * index. Saves that interleave can still pair one save's sidecar with another's index file: `load` refuses
   * that pair by its checksum. Temporary files are removed when the save fails.
  /**
   * Writes the index to `path` and its sidecar to `path + ".json"` (see `writeIndexFiles`: temporary files
   * renamed into place, the sidecar holding the index file's SHA-256).
   */
  save(path: string, meta: AnnSaveMeta): AnnSidecarMeta {
    this.prune();
    const shape = {
      dim: this.dim,
      space: "cosine" as const,
      M: this.M,
      efConstruction: this.efConstruction,
      efSearch: this.efSearch,
      count: this.live.size,
      capacity: this.hnsw.getMaxElements(),
      elements: this.hnsw.getCurrentCount(),
      deleted: [...this.maybeDeleted],
    };
    return writeIndexFiles(path, meta, shape, (file) => this.hnsw.writeIndexSync(file));
  }

  /**
   * Loads an index saved by `save`, or returns `null` — never throws — when a file is missing or unreadable,
   * the sidecar does not describe this file (size, header, SHA-256), or the dimension or space differ from
   * `expected` (see `readVerified`). `onReject` hears why a file was refused.
   */
  static load(
    path: string,
    expected: { dim: number },
    onReject?: (reason: string) => void,
  ): { index: AnnIndex; meta: AnnSidecarMeta } | null {
    const reject = (reason: string) => {
      onReject?.(reason);
      return null;
    };
    try {
      const read = readVerified(path, expected, (meta) => {
        const hnsw = new hnswlib.HierarchicalNSW("cosine", meta.dim);
        hnsw.readIndexSync(path, true);
        return { hnsw, meta };
      });
      if (typeof read === "string") return reject(read);
      const { hnsw, meta } = read;
      const live = new Set(hnsw.getIdsList());
      for (const label of meta.deleted) if (!live.delete(label)) return reject(`deleted label ${label} is not in the index file`);
      if (live.size !== meta.count) return reject(`index file holds ${live.size} live vectors, sidecar says ${meta.count}`);
      const index = new AnnIndex(hnsw, meta.dim, meta.M, meta.efConstruction, meta.efSearch, live, meta.deleted);
      return { index, meta };
    } catch (error) {
      return reject(error instanceof Error ? error.message : String(error));
    }
  }

  /** The stored vector of a live label: normalised to unit length (cosine space), so not the bytes given to `add`. */
  point(label: number): number[] {
    return this.hnsw.getPoint(label);
  }

  /** Shrinks `maybeDeleted` to exactly the deleted labels hnswlib still knows. O(slots). */
  private prune(): void {
    if (this.maybeDeleted.size === this.hnsw.getCurrentCount() - this.live.size) return;
    const exact = new Set<number>();
    for (const label of this.hnsw.getIdsList()) if (this.maybeDeleted.has(label)) exact.add(label);
    this.maybeDeleted = exact;
  }

  /** Unmarks a deleted label; false when hnswlib already gave its slot to another label. */
  private unmark(label: number): boolean {
    try {
      this.hnsw.unmarkDelete(label);
      return true;
    } catch (error) {
      if (error instanceof Error && error.message.includes("Label not found")) return false;
      throw error;
    }
  }

  private checkVector(vector: Float32Array): void {
    checkDim(vector, this.dim);
  }
}
