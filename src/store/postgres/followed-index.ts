import type pg from "pg";
import { DedupAnnIndex } from "../ann-index.js";
import type { VectorChange } from "../vector-index.js";
import { loadSnapshot, saveSnapshot, SNAPSHOT_MIN_VECTORS } from "./ann-snapshot.js";
import { query } from "./connection.js";
import { fromVectorColumn, type VectorSet } from "./vector-sets.js";

/**
 * The in-process hnswlib index of one vector set, for a database without pgvector: one point per distinct vector,
 * as SQLite's (DedupAnnIndex: copies of one point wreck hnswlib's graph). Built from the set's table on first use,
 * then kept in step with the change log (this instance's own writes at commit, the others' through the change
 * feed). Each instance holds its own copy in memory. A build starts from the set's snapshot in the
 * database when there is one (ann-snapshot.ts), replaying the change log since; a build from the table alone saves
 * one, and `close` saves a newer one when SNAPSHOT_EVERY changes have been applied since.
 *
 * Invariant: every change with seq <= `applied` is in the index. Changes arriving while the build runs are
 * queued and applied after it, those at or below the build's snapshot seq being skipped as already read.
 */
export class FollowedIndex {
  private ann: DedupAnnIndex | undefined;
  private building: Promise<DedupAnnIndex> | undefined;
  private applied = 0;
  private queued: VectorChange[] = [];
  /** Changes applied since the snapshot the index was loaded from or last saved (all of them when neither). */
  private unsaved = 0;
  private saving: Promise<void> | undefined;
  /** Where the index came from: the set's snapshot (brought up to date), or its table. */
  builtFrom: "snapshot" | "table" | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly context: string,
    readonly set: VectorSet,
    private readonly now: () => number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Applies committed changes (in seq order); before the first build they wait for it. */
  apply(changes: readonly VectorChange[]): void {
    if (!this.ann) {
      this.queued.push(...changes);
      return;
    }
    for (const change of changes) {
      if (change.seq <= this.applied) continue;
      if (change.op === "add" && change.vector) this.ann.add(change.label, change.vector);
      else this.ann.remove(change.label);
      this.applied = change.seq;
      this.unsaved++;
    }
  }

  /** The index, built on first call (one build shared by concurrent callers; cleared when it fails). */
  async index(): Promise<DedupAnnIndex> {
    if (this.ann) return this.ann;
    this.building ??= this.build().then(
      (ann) => ann,
      (error: unknown) => {
        this.building = undefined;
        throw error;
      },
    );
    return this.building;
  }

  /**
   * Saves a snapshot when SNAPSHOT_EVERY changes have been applied since the last one (or a large index has none),
   * and waits for a save in flight. Called when the store closes.
   */
  async close(): Promise<void> {
    if (this.ann && this.ann.size >= SNAPSHOT_MIN_VECTORS && this.unsaved >= SNAPSHOT_EVERY) this.save();
    await this.saving;
  }

  private save(): void {
    if (!this.ann || this.saving) return;
    const { ann } = this;
    const seq = this.applied;
    const unsaved = this.unsaved;
    this.saving = saveSnapshot(this.pool, this.context, this.set, ann, seq, this.now())
      .then(() => {
        this.unsaved -= unsaved;
      })
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.saving = undefined;
      });
  }

  private async build(): Promise<DedupAnnIndex> {
    // A snapshot: the vectors (or the saved graph and the changes since) and the log position they reflect, read
    // in one REPEATABLE READ transaction.
    const client = await this.pool.connect();
    let snapshot: Awaited<ReturnType<typeof loadSnapshot>>;
    let rows: { label: number; embedding: unknown }[] = [];
    let seq: number;
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const [head] = await query<{ seq: number | null }>(client, "SELECT max(seq) AS seq FROM change_log WHERE context = $1", [this.context]);
      seq = head?.seq ?? 0;
      snapshot = await loadSnapshot(client, this.context, this.set);
      if (!snapshot) rows = await query(client, `SELECT label, embedding FROM ${this.set.table} WHERE context = $1`, [this.context]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    // The graph is built after the transaction: it takes a while (every vector inserted), and an open transaction
    // would hold back the server's vacuum meanwhile.
    let ann: DedupAnnIndex;
    if (snapshot) {
      ann = snapshot.ann;
      this.builtFrom = "snapshot";
      this.unsaved = snapshot.replayed;
    } else {
      ann = DedupAnnIndex.create({ dim: this.set.dim, capacity: Math.max(1024, rows.length * 2) });
      for (const row of rows) ann.add(row.label, fromVectorColumn(row.embedding));
      this.builtFrom = "table";
      this.unsaved = rows.length;
    }
    this.ann = ann;
    this.applied = seq;
    // A build from the table is what a snapshot spares the next process: save one while it is fresh.
    if (this.builtFrom === "table" && ann.size >= SNAPSHOT_MIN_VECTORS) this.save();
    const queued = this.queued.sort((a, b) => a.seq - b.seq);
    this.queued = [];
    this.apply(queued);
    return ann;
  }
}

/** Changes applied since the last snapshot after which closing saves a new one. */
export const SNAPSHOT_EVERY = 1_000;
