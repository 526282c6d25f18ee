import fs from "node:fs";
import { ClosedError, SpectronValidationError } from "../errors.js";
import { DedupAnnIndex } from "./ann/dedup-index.js";
import type { AnnHit, AnnIndexOptions } from "./ann/hnsw-index.js";
import { checkLabel } from "./ann/labels.js";
import { removeStaleTemporaries } from "./ann/sidecar.js";

/** One entry of the store's vector change log. `vector` is required for "add". */
export interface VectorChange {
  seq: number;
  label: number;
  op: "add" | "remove";
  vector?: Float32Array;
}

/** The durable side of one (context, embedding model) vector set; implemented by the SQLite store. */
export interface VectorSource {
  dim: number;
  /** Seq of the newest change in the change log (0 when empty). */
  lastSeq(): number;
  /** Number of live vectors. */
  count(): number;
  /** Every live vector, in batches; used for full rebuilds. Need not be a snapshot (see `VectorIndex`). */
  all(batchSize: number): Iterable<{ label: number; vector: Float32Array }[]>;
  /** Changes with seq > `seq`, ascending, at most `limit`. */
  changesSince(seq: number, limit: number): VectorChange[];
  /** The newest change with seq <= `seq` (without its vector), or undefined when there is none. */
  changeAtOrBefore(seq: number): LoggedChange | undefined;
  /** The stored vector of a live label, or undefined. */
  vector(label: number): Float32Array | undefined;
  /**
   * A number that changes whenever another connection (another process, or another instance in this one) has
   * committed to the database since it was last read: SQLite's `PRAGMA data_version`. Absent when nothing else
   * writes to the source. When it changes, the index reads the change log before its next search.
   */
  version?(): number;
}

/** What a sidecar records of the change log: the last logged change it contains. */
export interface LoggedChange {
  seq: number;
  label: number;
  op: "add" | "remove";
}

/** Labels whose stored vectors a loaded sidecar must match (spot check of its content against the database). */
const SPOT_CHECKS = 32;

export interface VectorIndexLogger {
  debug(msg: string, data?: object): void;
  warn(msg: string, data?: object): void;
}

export interface VectorIndexOptions {
  source: VectorSource;
  /** Index file; its sidecar is `path + ".json"`. Undefined keeps the index in memory only. */
  path?: string;
  /** Changes or rows handled per background task at most. @default 256 */
  batchSize?: number;
  /** Time budget of one background task: it stops after the insertion that crosses it. @default 4 */
  sliceMs?: number;
  /** Runs a background task later (never synchronously: each task schedules the next). @default setImmediate */
  schedule?: (task: () => void) => void;
  /** @default a no-op logger */
  logger?: VectorIndexLogger;
  /** hnswlib parameters for a newly built index; a loaded index keeps those it was built with. */
  ann?: Omit<AnnIndexOptions, "dim" | "capacity">;
}

interface PendingChange {
  seq: number;
  op: "add" | "remove";
  vector: Float32Array | undefined;
  /** 1 / |vector|, so that the exact scan of pending vectors costs one dot product each. */
  invNorm: number;
}

interface Rebuild {
  index: DedupAnnIndex;
  rows: Iterator<{ label: number; vector: Float32Array }[]>;
  batch: { label: number; vector: Float32Array }[];
  offset: number;
  startedAt: number;
}

const noopLogger: VectorIndexLogger = { debug() {}, warn() {} };
// Beyond this many pending labels that are also in hnswlib, excluding them by over-fetching costs more than
// excluding them inside the graph walk.
const MAX_OVERFETCH = 256;

/**
 * The ANN index of one vector set, kept in step with the SQLite change log without putting hnswlib insertion
 * (~0.1–0.8 ms per vector, blocking) on the write path. A write is `notify`'d in O(1) and searched exactly from
 * the pending buffer until a background task inserts it; tasks are bounded by `batchSize` and `sliceMs`.
 * Identical vectors (records with the same text) share one hnswlib point: see `DedupAnnIndex`.
 *
 * Invariants:
 * - `pending` holds, per label, the newest known change not yet in hnswlib, and it is newer than whatever
 *   hnswlib holds for that label; search therefore ignores hnswlib's answer for any pending label.
 * - every logged change with seq <= `cursor` is in hnswlib or in `pending`. While catching up with the log,
 *   only pending changes with seq <= `cursor` may be applied: an older logged change not yet read could
 *   otherwise overwrite a newer notified one.
 * - replaying logged changes is idempotent (add = upsert, remove of an absent label = no-op), so a sidecar may
 *   record an older `lastSeq` than it contains, never a newer one.
 *
 * @example
 * const index = VectorIndex.open({ source, path: "./spectron.db.records-hash-384.ann" });
 * index.notify({ seq, label, op: "add", vector });            // right after the SQLite commit
 * const hits = index.search(query, 10) ?? exactSearch(query);  // null while a rebuild runs
 */
export class VectorIndex {
  readonly dim: number;
  private readonly source: VectorSource;
  /** The index file (its sidecar is `path + ".json"`), or undefined for an index kept in memory only. */
  readonly path: string | undefined;
  private readonly batchSize: number;
  private readonly sliceMs: number;
  private readonly schedule: (task: () => void) => void;
  private readonly logger: VectorIndexLogger;
  private readonly annOptions: Omit<AnnIndexOptions, "dim" | "capacity">;

  /** Null while a full rebuild runs. Counts, `has` and search results are in labels, not hnswlib points. */
  private ann: DedupAnnIndex | null = null;
  private rebuild: Rebuild | null = null;
  private readonly pending = new Map<number, PendingChange>();
  private cursor = 0;
  /** Highest seq seen from the log or from `notify`. */
  private seen = 0;
  /** The log has been read to its end: everything newer arrives through `notify`. */
  private caughtUp = false;
  /** The last apply pass stopped early, so pending changes <= cursor remain. */
  private ripeLeft = false;
  /** A loaded sidecar is checked against the database (`verify`) once caught up. */
  private verifyWhenCaughtUp = false;
  /** Comparisons with the database made again because another connection committed meanwhile. */
  private verifyRetries = 0;
  /** `source.version()` as of the last log read that reached the end of the log. */
  private syncedVersion: number | undefined;
  private saveWhenIdle = false;
  private savedSeq = -1;
  private dirty = false;
  private scheduled = false;
  private closed = false;
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  private constructor(options: VectorIndexOptions) {
    this.source = options.source;
    this.dim = options.source.dim;
    this.path = options.path;
    this.batchSize = options.batchSize ?? 256;
    this.sliceMs = options.sliceMs ?? 4;
    this.schedule = options.schedule ?? ((task) => void setImmediate(task));
    this.logger = options.logger ?? noopLogger;
    this.annOptions = options.ann ?? {};
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new SpectronValidationError("batchSize", "an integer >= 1", options.batchSize);
    }
    if (!(this.sliceMs >= 0)) throw new SpectronValidationError("sliceMs", "a number >= 0", options.sliceMs);
  }

  /**
   * Loads the sidecar when it is valid and reads the log tail after its `lastSeq` (one `changesSince` call);
   * when that tail fits in one batch the index is ready at once. Otherwise — no path, a missing, stale or
   * mismatched sidecar — a full rebuild runs in background batches and `search` returns null until it ends.
   */
  static open(options: VectorIndexOptions): VectorIndex {
    const index = new VectorIndex(options);
    index.start();
    return index;
  }

  /** Whether `search` answers from hnswlib (true) or returns null (a rebuild or a long catch-up runs). */
  get ready(): boolean {
    return !this.closed && this.ann !== null && this.caughtUp;
  }

  /** Changes known but not yet in hnswlib. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Labels hnswlib holds (0 while it is not built). */
  get size(): number {
    return this.ann?.size ?? 0;
  }

  /**
   * Called by the store right after it commits a change (synchronous, O(1)). An added vector is searchable
   * at once through the exact pending scan and is inserted into hnswlib later in a background batch. Changes
   * must arrive in seq order; one at or below a seq already seen is a duplicate and is ignored. The index
   * keeps a reference to `vector`: do not mutate it afterwards.
   */
  notify(change: VectorChange): void {
    this.assertOpen("notify");
    const entry = this.toPending(change);
    // Read other connections' commits first: the cursor must never move past a logged change not yet read.
    this.refresh();
    if (change.seq <= this.cursor) return;
    this.merge(change.label, entry);
    if (this.caughtUp) this.cursor = change.seq;
    this.kick();
  }

  /**
   * Removes `label` (O(1); hnswlib catches up in the background). For a removal that is not in the change log:
   * it is ordered after every change committed so far, and it is lost on a rebuild unless the source agrees.
   * Logged removals should go through `notify` with their seq.
   */
  remove(label: number): void {
    this.assertOpen("remove");
    checkLabel(label);
    // While the log is still being read, changes committed before this call may be unread: order after them.
    const seq = this.caughtUp ? this.seen : Math.max(this.seen, this.source.lastSeq());
    this.merge(label, { seq, op: "remove", vector: undefined, invNorm: 0 });
    this.kick();
  }

  /**
   * The `k` nearest labels by cosine distance (1 - cos), nearest first, or `null` when hnswlib is not ready —
   * the caller then searches exactly (sqlite-vec). Merges hnswlib's answer with an exact scan of the pending
   * vectors; removed labels never appear. `filter(label)` restricts the candidates (scope filtering). Indexed
   * labels with identical vectors come in ascending label order.
   */
  /**
   * The vector of `label` (a pending change, else the index's held copy, unit length, read by `load` or out of
   * hnswlib when not held), or undefined when this index cannot tell (not ready, or the label is not in it):
   * the caller then reads it from SQLite.
   */
  vectorOf(label: number, load?: (label: number) => Float32Array | undefined): ArrayLike<number> | undefined {
    const change = this.pending.get(label);
    if (change) return change.op === "add" ? change.vector : undefined;
    return this.ready ? this.ann!.vectorOf(label, load) : undefined;
  }

  search(vector: Float32Array, k: number, filter?: (label: number) => boolean): AnnHit[] | null {
    this.assertOpen("search");
    this.refresh();
    if (vector.length !== this.dim) {
      throw new SpectronValidationError("vector", `a vector of length ${this.dim}`, `length ${vector.length}`);
    }
    if (!Number.isInteger(k) || k < 0) throw new SpectronValidationError("k", "an integer >= 0", k);
    if (!this.ready) return null;
    const ann = this.ann!;
    const pending = this.pending;
    if (pending.size === 0) return ann.search(vector, k, filter);

    let hits: AnnHit[];
    if (filter) {
      hits = ann.search(vector, k, (label) => !pending.has(label) && filter(label));
    } else {
      // hnswlib still holds the old state of pending labels. Most queries meet none of them in their top k, so
      // search once and drop them; only when some were dropped, search again for enough of the others.
      const first = ann.search(vector, k);
      hits = first.filter((hit) => !pending.has(hit.label));
      if (hits.length < first.length) {
        let stale = 0;
        for (const label of pending.keys()) if (ann.has(label)) stale++;
        hits =
          stale <= MAX_OVERFETCH
            ? ann.search(vector, k + stale).filter((hit) => !pending.has(hit.label))
            : ann.search(vector, k, (label) => !pending.has(label));
      }
    }

    const queryInvNorm = inverseNorm(vector);
    for (const [label, change] of pending) {
      if (change.op !== "add" || (filter && !filter(label))) continue;
      hits.push({ label, distance: cosineDistance(vector, queryInvNorm, change.vector!, change.invNorm) });
    }
    hits.sort((a, b) => a.distance - b.distance || a.label - b.label);
    if (hits.length > k) hits.length = k;
    return hits;
  }

  /**
   * Reads the changes other connections have logged since the last read (one `version()` call when there are
   * none): their vectors become searchable exactly, at once, and reach hnswlib in the background. When more
   * than one batch is waiting, `search` returns null until the background has read them all. Called by
   * `search` and `notify`; cheap enough to call before every search.
   */
  refresh(): void {
    if (this.closed || !this.caughtUp || this.source.version === undefined) return;
    if (this.source.version() === this.syncedVersion) return;
    this.caughtUp = false;
    this.fetchChanges();
    this.kick();
  }

  /** Resolves when every change known so far is in hnswlib (and any rebuild has finished). */
  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError("VectorIndex.flush"));
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.kick();
    });
  }

  /**
   * Writes the index and its sidecar (when a path was given) with `lastSeq` = the newest seq such that every
   * change up to it is in the file. Skipped while a full rebuild runs (there is no complete index to write) and
   * when nothing changed since the last save. Synchronous file I/O: call it at checkpoints.
   */
  save(): void {
    this.assertOpen("save");
    this.saveNow();
  }

  /**
   * Saves (when a path was given), stops background work and rejects pending `flush` calls. Closed also when
   * the save fails; the save's error is thrown then.
   */
  close(): void {
    if (this.closed) return;
    try {
      this.saveNow();
    } finally {
      this.closed = true;
      this.ann = null;
      this.rebuild = null;
      this.pending.clear();
      this.settle(new ClosedError("VectorIndex.flush"));
    }
  }

  /** `using index = VectorIndex.open(...)` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  private start(): void {
    if (this.path !== undefined) {
      const path = this.path;
      removeStaleTemporaries(path);
      const loaded = DedupAnnIndex.load(path, { dim: this.dim }, (reason) => {
        // A first run has no sidecar; anything else means a file was refused and a rebuild follows.
        const level = fs.existsSync(`${path}.json`) ? "warn" : "debug";
        this.logger[level]("vector index: sidecar not used, rebuilding", { path, reason });
      });
      const head = loaded ? this.source.lastSeq() : 0;
      const tail = loaded ? this.source.changeAtOrBefore(loaded.meta.lastSeq) : undefined;
      if (loaded && loaded.meta.lastSeq > head) {
        this.logger.warn("vector index: sidecar is ahead of the change log, rebuilding", { path, lastSeq: loaded.meta.lastSeq, head });
      } else if (loaded && !sameChange(loaded.meta.tail, tail)) {
        // Written for another database, or for this one before its log was replaced (a restore).
        this.logger.warn("vector index: sidecar does not match the change log, rebuilding", { path, lastSeq: loaded.meta.lastSeq, sidecar: loaded.meta.tail, log: tail ?? null });
      } else if (loaded) {
        this.ann = loaded.index;
        this.cursor = this.seen = this.savedSeq = loaded.meta.lastSeq;
        this.verifyWhenCaughtUp = true;
        try {
          this.fetchChanges();
          this.kick();
          return;
        } catch (error) {
          // A log the sidecar cannot be brought up to date with is no reason to refuse to open.
          this.logger.warn("vector index: replaying the change log failed, rebuilding", { path, error: String(error) });
          this.pending.clear();
        }
      }
    }
    this.startRebuild();
    this.kick();
  }

  private startRebuild(): void {
    const startSeq = this.source.lastSeq();
    const total = this.source.count();
    const index = DedupAnnIndex.create({ ...this.annOptions, dim: this.dim, capacity: Math.max(1024, Math.ceil(total * 1.1)) });
    this.ann = null;
    this.cursor = startSeq;
    this.seen = Math.max(this.seen, startSeq);
    this.caughtUp = false;
    this.ripeLeft = false;
    this.verifyWhenCaughtUp = false;
    // The rebuild reads every row committed up to startSeq, so older pending changes are redundant.
    for (const [label, change] of this.pending) if (change.seq <= startSeq) this.pending.delete(label);
    this.logger.debug("vector index: full rebuild", { path: this.path, total, startSeq });
    const rows = this.source.all(this.batchSize)[Symbol.iterator]();
    this.rebuild = { index, rows, batch: [], offset: 0, startedAt: performance.now() };
    if (total === 0) {
      // Nothing to insert: finish now, so that a new, empty vector set is ready on open.
      this.rebuildStep(Number.POSITIVE_INFINITY);
      if (this.rebuild === null) this.fetchChanges();
    }
  }

  private kick(): void {
    if (this.scheduled || this.closed || this.idle()) return;
    this.scheduled = true;
    this.schedule(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    if (this.closed) return;
    try {
      if (this.step()) {
        this.kick();
        return;
      }
      if (this.saveWhenIdle) {
        this.saveWhenIdle = false;
        this.saveNow();
      }
      this.settle();
    } catch (error) {
      // Not rescheduled here, so a persistent failure cannot spin; the next notify, remove or flush retries.
      this.logger.warn("vector index: background batch failed", { path: this.path, error: String(error) });
      this.settle(error);
    }
  }

  /** One bounded unit of background work; true when more remains. */
  private step(): boolean {
    const deadline = performance.now() + this.sliceMs;
    if (this.rebuild) {
      this.rebuildStep(deadline);
      return true;
    }
    if (!this.caughtUp && !this.ripeLeft) {
      this.fetchChanges();
      if (this.rebuild) return true;
    }
    this.ripeLeft = this.applyPending(deadline);
    return !this.idle();
  }

  private rebuildStep(deadline: number): void {
    const r = this.rebuild!;
    let added = 0;
    for (;;) {
      if (r.offset >= r.batch.length) {
        const next = r.rows.next();
        if (next.done) break;
        r.batch = next.value;
        r.offset = 0;
        continue;
      }
      if (added > 0 && (added >= this.batchSize || performance.now() >= deadline)) return;
      const row = r.batch[r.offset]!;
      r.index.add(row.label, row.vector);
      r.offset++;
      added++;
    }
    this.rebuild = null;
    this.ann = r.index;
    this.dirty = true;
    this.saveWhenIdle = this.path !== undefined;
    this.logger.debug("vector index: rebuilt", { path: this.path, count: r.index.size, points: r.index.points, ms: Math.round(performance.now() - r.startedAt) });
    // The catch-up from startSeq follows. Rows may already reflect some of those changes (the scan is no
    // snapshot); replaying them is harmless.
  }

  /** Reads the next log batch after `cursor` into `pending`. */
  private fetchChanges(): void {
    // Read before the log: a commit landing in between is then seen again at the next refresh, never missed.
    const version = this.source.version?.();
    const changes = this.source.changesSince(this.cursor, this.batchSize);
    for (const change of changes) {
      if (change.seq <= this.cursor) continue;
      this.merge(change.label, this.toPending(change));
      this.cursor = change.seq;
    }
    // Apply what was read before reading more, so that a long backlog is never held in memory at once.
    this.ripeLeft = changes.length > 0;
    if (changes.length < this.batchSize) this.onCaughtUp(version);
  }

  private onCaughtUp(version: number | undefined): void {
    this.caughtUp = true;
    this.syncedVersion = version;
    if (!this.verifyWhenCaughtUp) return;
    const problem = this.verify();
    if (problem && this.source.version !== undefined && this.source.version() !== version && this.verifyRetries++ < 3) {
      // Another connection committed while the database was being compared: read the log again, then compare
      // again (a few times: under a steady stream of writes, a rebuild is the way to a verified index).
      this.caughtUp = false;
      return;
    }
    this.verifyWhenCaughtUp = false;
    if (problem) {
      this.logger.warn("vector index: sidecar disagrees with the database, rebuilding", { path: this.path, ...problem });
      this.startRebuild();
    }
  }

  /**
   * Compares a loaded sidecar, caught up with the log, with the database: the live count, and the stored vectors
   * of SPOT_CHECKS labels spread over the index. A sidecar can be valid in form and still stale or foreign in
   * content (the database restored from a backup, the file copied from another database with the same ids): a
   * count alone let such a file through with ANN recall@10 at 0.16.
   */
  private verify(): { expected?: number; actual?: number; label?: number } | null {
    const expected = this.source.count();
    const actual = this.liveCountAfterPending();
    if (expected !== actual) return { expected, actual };
    const ann = this.ann!;
    for (const label of ann.sample(SPOT_CHECKS)) {
      if (this.pending.has(label)) continue;
      const stored = this.source.vector(label);
      const held = ann.vectorOf(label);
      if (!stored || !held || !sameDirection(stored, held)) return { label };
    }
    return null;
  }

  /** Applies ripe pending changes to hnswlib; true when it stopped early with ripe changes left. */
  private applyPending(deadline: number): boolean {
    const ann = this.ann!;
    const ripe = this.caughtUp ? Number.POSITIVE_INFINITY : this.cursor;
    let applied = 0;
    try {
      for (const [label, change] of this.pending) {
        if (change.seq > ripe) continue;
        if (applied > 0 && (applied >= this.batchSize || performance.now() >= deadline)) return true;
        if (change.op === "add") ann.add(label, change.vector!);
        else ann.remove(label);
        this.pending.delete(label);
        applied++;
      }
      return false;
    } finally {
      if (applied > 0) this.dirty = true;
    }
  }

  /** Keeps the newer of the pending change for `label` and `entry`. */
  private merge(label: number, entry: PendingChange): void {
    const existing = this.pending.get(label);
    if (existing && existing.seq > entry.seq) return;
    this.pending.delete(label);
    this.pending.set(label, entry);
    if (entry.seq > this.seen) this.seen = entry.seq;
  }

  private toPending(change: VectorChange): PendingChange {
    checkLabel(change.label);
    if (!Number.isSafeInteger(change.seq) || change.seq < 0) {
      throw new SpectronValidationError("change.seq", "a non-negative integer", change.seq);
    }
    if (change.op === "remove") return { seq: change.seq, op: "remove", vector: undefined, invNorm: 0 };
    if (change.op !== "add") throw new SpectronValidationError("change.op", '"add" or "remove"', change.op);
    const vector = change.vector;
    if (!(vector instanceof Float32Array) || vector.length !== this.dim) {
      throw new SpectronValidationError("change.vector", `a Float32Array of length ${this.dim}`, vector ? `length ${vector.length}` : vector);
    }
    return { seq: change.seq, op: "add", vector, invNorm: inverseNorm(vector) };
  }

  private liveCountAfterPending(): number {
    const ann = this.ann!;
    let count = ann.size;
    for (const [label, change] of this.pending) {
      if (change.op === "add" && !ann.has(label)) count++;
      else if (change.op === "remove" && ann.has(label)) count--;
    }
    return count;
  }

  /** Newest seq such that every change up to it is in hnswlib. */
  private appliedSeq(): number {
    let seq = this.cursor;
    for (const change of this.pending.values()) if (change.seq - 1 < seq) seq = change.seq - 1;
    return seq;
  }

  private saveNow(): void {
    if (this.path === undefined) return;
    if (this.ann === null) {
      this.logger.debug("vector index: save skipped, rebuild in progress", { path: this.path });
      return;
    }
    const lastSeq = this.appliedSeq();
    if (!this.dirty && lastSeq === this.savedSeq) return;
    const startedAt = performance.now();
    this.ann.save(this.path, { lastSeq, tail: this.source.changeAtOrBefore(lastSeq) ?? null });
    this.savedSeq = lastSeq;
    this.dirty = false;
    this.logger.debug("vector index: saved", { path: this.path, lastSeq, count: this.ann.size, points: this.ann.points, ms: Math.round(performance.now() - startedAt) });
  }

  private idle(): boolean {
    return this.rebuild === null && this.caughtUp && this.pending.size === 0;
  }

  private settle(error?: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  private assertOpen(method: string): void {
    if (this.closed) throw new ClosedError(`VectorIndex.${method}`);
  }
}

function sameChange(saved: unknown, logged: LoggedChange | undefined): boolean {
  if (saved === null) return logged === undefined;
  const s = saved as Partial<LoggedChange> | undefined;
  return logged !== undefined && s?.seq === logged.seq && s.label === logged.label && s.op === logged.op;
}

/** Whether two vectors point the same way (hnswlib keeps unit vectors, the database the raw ones). */
function sameDirection(a: Float32Array, b: Float32Array): boolean {
  const aInv = inverseNorm(a);
  const bInv = inverseNorm(b);
  if (aInv === 0 || bInv === 0) return aInv === bInv;
  return cosineDistance(a, aInv, b, bInv) <= 1e-4;
}

function inverseNorm(vector: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  // A zero vector has no direction; hnswlib leaves it unnormalised, so every distance to it is 1.
  return sum > 0 ? 1 / Math.sqrt(sum) : 0;
}

function cosineDistance(a: Float32Array, aInvNorm: number, b: Float32Array, bInvNorm: number): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return 1 - dot * aInvNorm * bInvNorm;
}
