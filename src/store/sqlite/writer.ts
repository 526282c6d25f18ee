import type { Logger } from "../../config/schemas.js";
import { immediate, sql, toStoreError, type Db } from "../database.js";
import { onVectorChange, type LoggedVectorWrite } from "../vectors.js";
import type { VectorIndexes } from "./vector-indexes.js";

/** Writes of reads (reuse and query traces, reinforcement) batched into one commit at most. */
const GROUP_LIMIT = 128;

/**
 * Writers with an open group transaction. Instances may share one file (a connection each), and a group holds
 * the file's write lock: every write commits the others' groups first, or it would wait on a lock that only this
 * same thread could release.
 */
const openGroups = new Set<Writer>();

/** Commits every open group of writes of reads in this process, except `except`'s. */
export function commitGroups(except?: Writer): void {
  for (const writer of openGroups) if (writer !== except) writer.commitGroup();
}

/**
 * The SQLite engine's transactions on one connection: immediate transactions, the group commit of writes of
 * reads with its buffered reinforcement, and the one place where committed vector writes reach the ANN indexes
 * (every putVector/deleteVector is observed here, held until its transaction commits, dropped if it rolls back).
 */
export class Writer {
  /** Writes in the open group transaction (see `groupWrite`), or 0 when none is open. */
  private grouped = 0;
  /** Reinforcements made in the open group, written when it commits: record id → how many, and when last. */
  private readonly reinforcements = new Map<number, { times: number; at: number; extendLife: boolean }>();
  /** Extends the lives of records answers used (set by the engine: lifecycle/survival.ts with the retention rules). */
  extendLives: (ids: readonly number[], now: number) => void = () => {};
  private commitScheduled = false;
  /** Vector writes of the open transaction (or group), told to the indexes once it commits. */
  private uncommitted: LoggedVectorWrite[] = [];

  constructor(
    readonly db: Db,
    private readonly indexes: VectorIndexes,
    private readonly logger: Logger,
    /** Importance factor of one reinforcement (REINFORCEMENT). */
    readonly factor: number,
  ) {
    onVectorChange(db, (write) => this.uncommitted.push(write));
  }

  /**
   * A write transaction of its own, committed before it returns. Any open group of writes of reads is committed
   * first, so that this transaction's durability never waits on the group. Immediate (see `immediate`): another
   * process's writes make it wait, up to the busy timeout, then fail with a BusyError having written nothing.
   */
  transaction<T>(fn: () => T): T {
    commitGroups();
    const outermost = !this.db.inTransaction;
    const mark = this.uncommitted.length;
    let result: T;
    try {
      result = immediate(this.db, fn);
    } catch (error) {
      this.uncommitted.length = mark;
      throw error;
    }
    if (outermost) this.dispatch();
    return result;
  }

  /**
   * Group commit for the writes a read leaves (a cached answer's response_trace, a query's retrieval_trace,
   * their edges and reinforcement). `fn` runs at once, atomically (a savepoint), inside a transaction shared
   * with the other reads of this tick. That transaction commits on the next turn of the event loop, after
   * GROUP_LIMIT writes, or before any other write (`transaction`, in any instance of this process, `close`).
   * Reads on this connection see the writes at once; only a process crash before the commit loses them. On a
   * store with 100k records the commit is most of what a tier-1 answer costs, and one commit for many reads
   * writes each touched page once.
   */
  groupWrite<T>(fn: () => T): T {
    const { db } = this;
    if (this.grouped === 0) {
      if (db.inTransaction) {
        // Inside someone's transaction: join it, writing everything now.
        return immediate(db, () => {
          const result = fn();
          this.writeReinforcements();
          return result;
        });
      }
      commitGroups(this);
      try {
        db.exec("BEGIN IMMEDIATE");
      } catch (error) {
        throw toStoreError(error);
      }
      openGroups.add(this);
    }
    try {
      return db.transaction(fn)();
    } finally {
      // Also when `fn` threw (its savepoint rolled back): the group is open and must still commit.
      this.grouped++;
      if (this.grouped >= GROUP_LIMIT) this.commitGroup();
      else if (!this.commitScheduled) {
        this.commitScheduled = true;
        setImmediate(() => {
          this.commitScheduled = false;
          this.commitGroup();
        });
      }
    }
  }

  /**
   * Inside `groupWrite`: counts one reinforcement of each of `ids`, to be written when the group commits.
   * `extendLife` (records an answer used) also extends their expiry. Returns how many each now has pending,
   * this one included.
   */
  reinforceLater(ids: readonly number[], now: number, extendLife = false): Map<number, number> {
    const pending = new Map<number, number>();
    for (const id of ids) {
      const entry = this.reinforcements.get(id) ?? { times: 0, at: now, extendLife: false };
      entry.times++;
      entry.at = now;
      entry.extendLife ||= extendLife;
      this.reinforcements.set(id, entry);
      pending.set(id, entry.times);
    }
    return pending;
  }

  /** `rows` with the importance they will have once the pending reinforcements are written (same objects). */
  withPendingReinforcement<T extends { id: number; importance: number }>(rows: T[]): T[] {
    if (this.reinforcements.size === 0) return rows;
    for (const row of rows) {
      const pending = this.reinforcements.get(row.id);
      if (pending) row.importance = Math.min(1, row.importance * this.factor ** pending.times);
    }
    return rows;
  }

  /** Writes the pending reinforcements (see `reinforceLater`), each record once. Inside a transaction. */
  private writeReinforcements(): void {
    if (this.reinforcements.size === 0) return;
    const update = sql(this.db, "UPDATE records SET importance = MIN(1.0, importance * ?), last_accessed_at = ? WHERE id = ?");
    for (const [id, { times, at }] of this.reinforcements) update.run(this.factor ** times, at, id);
    // Answers' records live longer for being used (lifecycle/survival.ts); a search's are only reinforced.
    for (const [id, { at, extendLife }] of this.reinforcements) if (extendLife) this.extendLives([id], at);
    this.reinforcements.clear();
  }

  /** Commits the open group of writes of reads, if any. A failed commit is logged, never thrown at a bystander. */
  commitGroup(): void {
    if (this.grouped === 0) return;
    const writes = this.grouped;
    this.grouped = 0;
    openGroups.delete(this);
    if (!this.db.open || !this.db.inTransaction) {
      this.reinforcements.clear();
      this.uncommitted = [];
      return;
    }
    try {
      this.writeReinforcements();
      this.db.exec("COMMIT");
      this.dispatch();
    } catch (error) {
      this.uncommitted = [];
      this.logger.error("Committing the traces of reads failed; they are lost", { writes, error: String(error) });
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
    }
  }

  /** Hands the committed vector writes to the indexes, in commit order. */
  private dispatch(): void {
    if (this.uncommitted.length === 0) return;
    const writes = this.uncommitted;
    this.uncommitted = [];
    this.indexes.notify(writes);
  }
}
