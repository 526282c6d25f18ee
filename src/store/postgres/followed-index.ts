import type pg from "pg";
import { AnnIndex } from "../ann-index.js";
import type { VectorChange } from "../vector-index.js";
import { query } from "./connection.js";
import { fromVectorColumn, type VectorSet } from "./vector-sets.js";

/**
 * The in-process hnswlib index of one vector set, for a database without pgvector: built from the set's table
 * on first use, then kept in step with the change log (this instance's own writes at commit, the others' through
 * the change feed). Each instance holds its own copy in memory; nothing is saved beside the database.
 *
 * Invariant: every change with seq <= `applied` is in the index. Changes arriving while the build runs are
 * queued and applied after it, those at or below the build's snapshot seq being skipped as already read.
 */
export class FollowedIndex {
  private ann: AnnIndex | undefined;
  private building: Promise<AnnIndex> | undefined;
  private applied = 0;
  private queued: VectorChange[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly context: string,
    readonly set: VectorSet,
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
    }
  }

  /** The index, built on first call (one build shared by concurrent callers; cleared when it fails). */
  async index(): Promise<AnnIndex> {
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

  private async build(): Promise<AnnIndex> {
    // A snapshot: the vectors and the log position they reflect, read in one REPEATABLE READ transaction.
    const client = await this.pool.connect();
    let rows: { label: number; embedding: unknown }[];
    let seq: number;
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const [head] = await query<{ seq: number | null }>(client, "SELECT max(seq) AS seq FROM change_log WHERE context = $1", [this.context]);
      seq = head?.seq ?? 0;
      rows = await query(client, `SELECT label, embedding FROM ${this.set.table} WHERE context = $1`, [this.context]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    const ann = AnnIndex.create({ dim: this.set.dim, capacity: Math.max(1024, rows.length * 2) });
    for (const row of rows) ann.add(row.label, fromVectorColumn(row.embedding));
    this.ann = ann;
    this.applied = seq;
    const queued = this.queued.sort((a, b) => a.seq - b.seq);
    this.queued = [];
    this.apply(queued);
    return ann;
  }
}
