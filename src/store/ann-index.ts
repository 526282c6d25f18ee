import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import nodePath from "node:path";
// Default import: the named import type-checks but fails at run time under ESM (hnswlib-node is CommonJS).
import hnswlib from "hnswlib-node";
import type { BruteforceSearch, HierarchicalNSW } from "hnswlib-node";
import { SpectronError, SpectronValidationError } from "../errors.js";

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

/** What the caller records beside the index file. `lastSeq` names the last change the file contains. */
export interface AnnSaveMeta {
  lastSeq: number;
  [key: string]: unknown;
}

/**
 * Sidecar format. 2: `VectorIndex` keeps one point per distinct vector and records its groups in the sidecar
 * (see `DedupAnnIndex`); a version 1 file holds one point per label and no groups, so it is refused and rebuilt.
 * 3: the index file's SHA-256 (`checksum`), and what `VectorIndex` records of the change log (`tail`); older
 * files are refused and rebuilt.
 */
const SIDECAR_VERSION = 3;

/** The JSON sidecar written next to the index file (`path + ".json"`). */
export interface AnnSidecarMeta extends AnnSaveMeta {
  version: typeof SIDECAR_VERSION;
  dim: number;
  space: "cosine";
  M: number;
  efConstruction: number;
  efSearch: number;
  /** Live (not deleted) vectors. */
  count: number;
  /** Slots allocated in the file. */
  capacity: number;
  /** Slots in use, live or deleted. */
  elements: number;
  /** Labels whose slots are marked deleted: hnswlib lists them with the live ones, so they are kept here. */
  deleted: number[];
  /** Size of the index file; a file of another size was not written with this sidecar. */
  bytes: number;
  /** SHA-256 of the index file, hex: a sidecar is only ever used with the file it was written with. */
  checksum: string;
}

const MAX_LABEL = 0xffffffff;
const DEFAULTS = { capacity: 1024, M: 16, efConstruction: 128, efSearch: 128, seed: 100 } as const;
// hnswlib's file header: six size_t, an int, a u32, three size_t, a double and a size_t.
const HEADER_BYTES = 96;

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
   */
  save(path: string, meta: AnnSaveMeta): AnnSidecarMeta {
    this.prune();
    const unique = `${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    const tmp = `${path}.${unique}`;
    const json = `${path}.json`;
    const jsonTmp = `${json}.${unique}`;
    try {
      this.hnsw.writeIndexSync(tmp);
      const elements = this.hnsw.getCurrentCount();
      const bytes = fs.statSync(tmp).size;
      // hnswlib writes through an unchecked ofstream: a full disk truncates the file without an error.
      const minimum = HEADER_BYTES + elements * (this.dim * 4 + (2 * this.M + 1) * 4 + 8 + 4);
      if (bytes < minimum) {
        throw new SpectronError("internal", `Writing the ANN index to ${tmp} stopped after ${bytes} of at least ${minimum} bytes. Check free disk space.`);
      }
      const fd = fs.openSync(tmp, "r");
      let checksum: string;
      try {
        checksum = fileChecksum(fd);
      } finally {
        fs.closeSync(fd);
      }
      const sidecar: AnnSidecarMeta = {
        ...meta,
        version: SIDECAR_VERSION,
        dim: this.dim,
        space: "cosine",
        M: this.M,
        efConstruction: this.efConstruction,
        efSearch: this.efSearch,
        count: this.live.size,
        capacity: this.hnsw.getMaxElements(),
        elements,
        deleted: [...this.maybeDeleted],
        bytes,
        checksum,
      };
      fs.writeFileSync(jsonTmp, JSON.stringify(sidecar));
      fs.rmSync(json, { force: true });
      fs.renameSync(tmp, path);
      fs.renameSync(jsonTmp, json);
      return sidecar;
    } finally {
      for (const file of [tmp, jsonTmp]) {
        try {
          fs.rmSync(file, { force: true });
        } catch {
          // Left behind: a leftover temporary file is never read.
        }
      }
    }
  }

  /**
   * Removes the temporary files of saves of `path` (and its sidecar) by processes that no longer run: a
   * process killed while saving leaves a file as large as the index. Never throws.
   */
  static removeStaleTemporaries(path: string): void {
    try {
      const dir = nodePath.dirname(path);
      const base = nodePath.basename(path);
      for (const name of fs.readdirSync(dir)) {
        if (!name.startsWith(base)) continue;
        const match = /^(?:\.json)?\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(base.length));
        if (match && !processRuns(Number(match[1]))) fs.rmSync(nodePath.join(dir, name), { force: true });
      }
    } catch {
      // Best effort: a leftover temporary file is never read.
    }
  }

  /**
   * Loads an index saved by `save`, or returns `null` — never throws — when a file is missing or unreadable,
   * the sidecar does not describe this file (size, header, SHA-256), or the dimension or space differ from
   * `expected`. The index file is only read once the sidecar and the file agree: hnswlib reads a
   * wrong-dimension file without complaint and returns garbage. Files are only ever replaced by rename, never
   * written in place, so the file hnswlib reads is the one checked when its inode is still the one at `path`.
   * `onReject` hears why a file was refused.
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
    let fd: number | undefined;
    try {
      if (!fs.existsSync(path) || !fs.existsSync(`${path}.json`)) return reject("index or sidecar file missing");
      const meta = parseSidecar(fs.readFileSync(`${path}.json`, "utf8"));
      if (!meta) return reject(`sidecar is not a version ${SIDECAR_VERSION} ANN sidecar`);
      if (meta.space !== "cosine") return reject(`space is ${meta.space}, expected cosine`);
      if (meta.dim !== expected.dim) return reject(`dimension is ${meta.dim}, expected ${expected.dim}`);
      fd = fs.openSync(path, "r");
      const stat = fs.fstatSync(fd);
      if (stat.size !== meta.bytes) return reject(`index file has ${stat.size} bytes, sidecar says ${meta.bytes}`);
      const header = readHeader(fd);
      if (header.labelOffset - header.offsetData !== meta.dim * 4) {
        return reject(`index file holds ${(header.labelOffset - header.offsetData) / 4}-d vectors, sidecar says ${meta.dim}`);
      }
      if (header.elements !== meta.elements || header.M !== meta.M) return reject("index file header disagrees with sidecar");
      if (fileChecksum(fd) !== meta.checksum) return reject("index file checksum disagrees with sidecar");

      const hnsw = new hnswlib.HierarchicalNSW("cosine", meta.dim);
      hnsw.readIndexSync(path, true);
      if (fs.statSync(path).ino !== stat.ino) return reject("index file was replaced while loading");
      const live = new Set(hnsw.getIdsList());
      for (const label of meta.deleted) if (!live.delete(label)) return reject(`deleted label ${label} is not in the index file`);
      if (live.size !== meta.count) return reject(`index file holds ${live.size} live vectors, sidecar says ${meta.count}`);
      const index = new AnnIndex(hnsw, meta.dim, meta.M, meta.efConstruction, meta.efSearch, live, meta.deleted);
      return { index, meta };
    } catch (error) {
      return reject(error instanceof Error ? error.message : String(error));
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
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

/** Labels whose vectors are byte-identical; they share one hnswlib point. */
interface Group {
  /** hnswlib label of the group's point: its first member's label, kept after that member leaves. */
  readonly rep: number;
  /** `vectorKey` of the vector. */
  readonly key: number;
  readonly members: Set<number>;
  /** `members` ascending, built by `search` when needed and dropped on change. */
  sorted: number[] | null;
}

// Squared distance between unit vectors (2 × cosine distance) under which a key match is the same vector.
const SAME_POINT = 1e-6;
/** Points shared by the most labels that `search` also scans exactly (~0.1 ms for 2,048 384-d points). */
const HEAVY_POINTS = 2048;
/** Memory for the vectors `vectorOf` keeps (about 11k at 384 dimensions). */
const RECENT_VECTOR_BYTES = 16 * 1024 * 1024;
/** Membership changes after which the heavy points are chosen again (at the next search); more in a large index. */
const HEAVY_REFRESH = 1024;

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

  /**
   * The heaviest groups by point label, and a brute-force hnswlib index of their points under the same labels,
   * scanned exactly by `search`; brought up to date lazily and incrementally (see `heavyPoints`).
   */
  private readonly heavy = new Map<number, Group>();
  /** Vectors `vectorOf` read lately, least recent first, at most RECENT_VECTOR_BYTES of them. */
  private readonly recentVectors = new Map<Group, Float32Array>();
  private heavyIndex: BruteforceSearch | null = null;
  private changesSinceHeavy = Infinity;

  private constructor(private readonly ann: AnnIndex) {}

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
   * The (unit-length) vector held for a live label, from memory; undefined when the label is not held. The
   * most recently read ones are kept as Float32Arrays (hnswlib's getPoint builds a JS array element by element,
   * ~35 µs at 384 dimensions), so a scope searched again reads them at no cost.
   */
  vectorOf(label: number): Float32Array | undefined {
    const group = this.groupOf.get(label);
    if (!group) return undefined;
    let vector = this.recentVectors.get(group);
    if (vector) {
      this.recentVectors.delete(group); // most recent last: Map keeps insertion order
    } else {
      vector = Float32Array.from(this.ann.point(group.rep));
      if (this.recentVectors.size * this.dim * 4 >= RECENT_VECTOR_BYTES) this.recentVectors.delete(this.recentVectors.keys().next().value!);
    }
    this.recentVectors.set(group, vector);
    return vector;
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
      group = { rep: this.freeRep(label), key, members: new Set(), sorted: null };
      this.ann.add(group.rep, vector);
      this.byRep.set(group.rep, group);
      if (!this.byKey.has(key)) this.byKey.set(key, group);
    }
    group.members.add(label);
    group.sorted = null;
    this.groupOf.set(label, group);
    this.changesSinceHeavy++;
  }

  remove(label: number): void {
    const group = this.groupOf.get(label);
    if (!group) return;
    this.groupOf.delete(label);
    group.members.delete(label);
    group.sorted = null;
    this.changesSinceHeavy++;
    // The point stands for the group while it has members, even when it was labelled with `label`.
    if (group.members.size > 0) return;
    this.recentVectors.delete(group);
    this.ann.remove(group.rep);
    this.byRep.delete(group.rep);
    if (this.byKey.get(group.key) === group) this.byKey.delete(group.key);
  }

  /**
   * The `k` nearest labels, nearest first; the members of one point come in ascending label order. hnswlib is
   * asked for `k` points: each has a member (that passes `filter`, which it applies to members), so `k` points
   * yield `k` labels whenever that many exist.
   *
   * The HEAVY_POINTS points with the most members are also scanned exactly and merged in. A point that many
   * records share (the same short fact stated by many users) is still one node of the graph, and a graph
   * search can miss it like any node (in a sparse region of the hash embedder's space it often does), but
   * missing it loses all of its labels at once: on the 100k benchmark corpus most queries whose ANN recall
   * was zero were asking for exactly one such point.
   */
  search(vector: Float32Array, k: number, filter?: (label: number) => boolean): AnnHit[] {
    const n = Math.floor(k);
    const passes = filter ? (group: Group) => this.anyMember(group, filter) : () => true;
    const graph = filter ? this.ann.search(vector, n, (rep) => passes(this.byRep.get(rep)!)) : this.ann.search(vector, n);
    const points = this.withHeavy(graph, vector, n, passes);
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

  /** `graph` (nearest points, nearest first) merged with the nearest heavy points that pass; at most `n`. */
  private withHeavy(graph: AnnHit[], vector: Float32Array, n: number, passes: (group: Group) => boolean): AnnHit[] {
    const index = this.heavyPoints();
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
      if (this.byRep.get(rep) !== group || seen.has(rep) || !passes(group)) continue;
      merged.push({ label: rep, distance: found.distances[i]! });
    }
    if (merged.length === graph.length) return graph;
    return merged.sort((a, b) => a.distance - b.distance).slice(0, n);
  }

  /**
   * The index of the HEAVY_POINTS groups with the most members (at least two), chosen again at the first search
   * after HEAVY_REFRESH membership changes (or one per 64 points): two passes over the groups (a size histogram,
   * then the pick), and only the points that joined or left the set are added to or removed from the index.
   */
  private heavyPoints(): BruteforceSearch {
    // Each pass visits every group: in a large index, refresh less often.
    if (this.heavyIndex && this.changesSinceHeavy < Math.max(HEAVY_REFRESH, this.ann.size >> 6)) return this.heavyIndex;
    const counts = new Map<number, number>();
    for (const g of this.byRep.values()) if (g.members.size > 1) counts.set(g.members.size, (counts.get(g.members.size) ?? 0) + 1);
    // The smallest size that still fits, and how many groups of exactly that size do.
    let threshold = 2;
    let room = HEAVY_POINTS;
    for (const size of [...counts.keys()].sort((a, b) => b - a)) {
      const count = counts.get(size)!;
      threshold = size;
      if (count >= room) break;
      room -= count;
    }
    const chosen = new Map<number, Group>();
    for (const g of this.byRep.values()) {
      const size = g.members.size;
      if (size < 2 || size < threshold) continue;
      if (size === threshold) {
        if (room === 0) continue;
        room--;
      }
      chosen.set(g.rep, g);
    }
    let index = this.heavyIndex;
    if (!index) {
      index = this.heavyIndex = new hnswlib.BruteforceSearch("cosine", this.dim);
      index.initIndex(HEAVY_POINTS);
    }
    for (const [rep, group] of this.heavy) {
      if (chosen.get(rep) === group) continue;
      index.removePoint(rep);
      this.heavy.delete(rep);
    }
    for (const [rep, group] of chosen) {
      if (this.heavy.has(rep)) continue;
      index.addPoint(this.ann.point(rep), rep);
      this.heavy.set(rep, group);
    }
    this.changesSinceHeavy = 0;
    return index;
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
      const group: Group = { rep, key, members: new Set(), sorted: null };
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

export function checkLabel(label: number): void {
  // hnswlib takes labels as unsigned 32-bit and wraps anything larger silently onto another label.
  if (!Number.isInteger(label) || label < 0 || label > MAX_LABEL) {
    throw new SpectronValidationError("label", `an integer from 0 to ${MAX_LABEL}`, label, "ANN labels are unsigned 32-bit row ids.");
  }
}

function checkDim(vector: Float32Array, dim: number): void {
  if (vector.length !== dim) {
    throw new SpectronValidationError("vector", `a vector of length ${dim}`, `length ${vector.length}`);
  }
}

/**
 * A 53-bit hash of a vector's bytes (two murmur3-style lanes over its 32-bit words), the key under which
 * identical vectors meet. Equal bytes give equal keys; a match is still confirmed against the stored point.
 */
function vectorKey(vector: Float32Array): number {
  const words = new Uint32Array(vector.buffer, vector.byteOffset, vector.length);
  let a = 0x9747b28c;
  let b = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let m = Math.imul(w, 0xcc9e2d51);
    m = Math.imul((m << 15) | (m >>> 17), 0x1b873593);
    a ^= m;
    a = Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64;
    // A second lane with another rotation and multiplier, so that the two do not collide together.
    b ^= m;
    b = Math.imul((b << 17) | (b >>> 15), 0x01000193);
  }
  a = finalMix(a ^ words.length);
  b = finalMix(b);
  return (a >>> 11) * 2 ** 32 + (b >>> 0);
}

/** murmur3's fmix32: spreads every input bit over the whole word. */
function finalMix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function positiveInt(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new SpectronValidationError(field, "a positive integer", value);
  return value;
}

function readHeader(fd: number): { elements: number; offsetData: number; labelOffset: number; M: number } {
  const buffer = Buffer.alloc(HEADER_BYTES);
  if (fs.readSync(fd, buffer, 0, HEADER_BYTES, 0) !== HEADER_BYTES) throw new Error("index file shorter than its header");
  return {
    elements: Number(buffer.readBigUInt64LE(16)),
    labelOffset: Number(buffer.readBigUInt64LE(32)),
    offsetData: Number(buffer.readBigUInt64LE(40)),
    M: Number(buffer.readBigUInt64LE(72)),
  };
}

function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SHA-256 of a whole file, hex (~1.6 ms per MB here: a 100k-vector 384-d index, 170 MB, costs ~0.3 s). */
function fileChecksum(fd: number): string {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(4 << 20);
  for (let position = 0; ; ) {
    const read = fs.readSync(fd, buffer, 0, buffer.length, position);
    if (read === 0) break;
    hash.update(buffer.subarray(0, read));
    position += read;
  }
  return hash.digest("hex");
}

function parseSidecar(text: string): AnnSidecarMeta | null {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) return null;
  const meta = value as Record<string, unknown>;
  const ints = ["dim", "M", "efConstruction", "efSearch", "count", "capacity", "elements", "bytes", "lastSeq"];
  if (meta.version !== SIDECAR_VERSION || !ints.every((key) => Number.isSafeInteger(meta[key]))) return null;
  if (!Array.isArray(meta.deleted) || !meta.deleted.every((label) => Number.isInteger(label))) return null;
  if (typeof meta.checksum !== "string") return null;
  return meta as AnnSidecarMeta;
}
