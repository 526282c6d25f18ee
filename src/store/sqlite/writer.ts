import type { Logger } from "../../config/schemas.js";
import { BusyError } from "../../errors.js";
import { immediate, sql, toStoreError, type Db } from "../database.js";
import { onVectorChange, type LoggedVectorWrite } from "../vectors.js";
import type { VectorIndexes } from "./vector-indexes.js";

/** Writes of reads (reuse and query traces, reinforcement) batched into one commit at most. */
const GROUP_LIMIT = 128;
/** How long deferred writes wait before trying again when another process holds the write lock (ms). */
const BUSY_RETRY_MS = 200;
/** Deferred writes kept while the write lock stays taken; beyond this the oldest are dropped, and logged. */
const DEFERRED_LIMIT = 10_000;

/**
 * Writers with an open group transaction or deferred writes (`defer`). Instances may share one file (a connection
 * each), and a group holds the file's write lock: every write commits the others' groups first, or it would wait
 * on a lock that only this same thread could release.
 */
const openGroups = new Set<Writer>();

/** Commits every open group of writes of reads in this process (deferred writes first), except `except`'s. */
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
  /** Writes of reads not yet run (see `defer`), in the order the reads were made. */
  private deferred: (() => void)[] = [];
  /** Set while another process holds the write lock: when the deferred writes are tried again. */
  private busyRetry: NodeJS.Timeout | undefined;
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
      else this.scheduleCommit();
    }
  }

  /**
   * A write of a read that the read's caller does not wait for (a ranked read's retrieval_trace and its edges:
   * ~30 index pages at random on a large store). `fn` runs later, in a group (`groupWrite`): on the next turn of
   * the event loop, once GROUP_LIMIT are waiting, before any other write of this process, or when `settle` is
   * called (by every engine method that could read what it writes, see SqliteStore). A failure is logged, never
   * thrown: the read has been answered. Only a process crash before the commit loses it, as with `groupWrite`.
   */
  defer(fn: () => void): void {
    this.deferred.push(fn);
    if (this.deferred.length > DEFERRED_LIMIT) {
      this.deferred.shift();
      this.logger.error("The write lock stayed taken: the trace of the oldest waiting read is dropped", { waiting: DEFERRED_LIMIT });
    }
    openGroups.add(this);
    if (this.deferred.length >= GROUP_LIMIT && !this.busyRetry) this.commitGroup();
    else this.scheduleCommit();
  }

  /**
   * Runs the deferred writes (`defer`) into the open group, so that reads on this connection see them. When
   * another process holds the write lock past the busy timeout, they stay waiting and are tried again later.
   */
  settle(): void {
    // While the lock is taken, the retry timer tries again; a read does not wait for the busy timeout each time.
    if (this.deferred.length === 0 || this.busyRetry) return;
    // Taken out first: a group that reaches its limit commits, and the commit settles again.
    const writes = this.deferred;
    this.deferred = [];
    for (const [i, fn] of writes.entries()) {
      if (!this.db.open) return;
      try {
        this.groupWrite(fn);
      } catch (error) {
        if (error instanceof BusyError && !this.db.inTransaction) {
          // The group could not begin: nothing of this write was made. It waits with the rest.
          this.deferred = [...writes.slice(i), ...this.deferred];
          return this.retryWhenFree();
        }
        this.logger.error("Writing the trace of a read failed; it is lost", { error: String(error) });
      }
    }
  }

  /** Commits what is waiting, for `close`: deferred writes that still cannot be made are logged as lost. */
  close(): void {
    clearTimeout(this.busyRetry);
    this.busyRetry = undefined;
    this.commitGroup();
    if (this.deferred.length > 0) {
      this.logger.error("The write lock stayed taken until close: traces of reads are lost", { lost: this.deferred.length });
      this.deferred = [];
    }
    openGroups.delete(this);
  }

  private retryWhenFree(): void {
    if (this.busyRetry) return;
    this.logger.warn("Another process holds the write lock: traces of reads wait for it", { waiting: this.deferred.length });
    this.busyRetry = setTimeout(() => {
      this.busyRetry = undefined;
      this.commitGroup();
    }, BUSY_RETRY_MS);
    this.busyRetry.unref();
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commitGroup();
    });
  }

  /**
   * Counts one reinforcement of each of `ids`, to be written when the next group commits (the read that calls
   * it writes in a group, at once or deferred).
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

  /** An importance after `times` reinforcements (REINFORCEMENT each, capped at 1). */
  reinforced(importance: number, times: number): number {
    return Math.min(1, importance * this.factor ** times);
  }

  /** `rows` with the importance they will have once the pending reinforcements are written (same objects). */
  withPendingReinforcement<T extends { id: number; importance: number }>(rows: T[]): T[] {
    if (this.reinforcements.size === 0) return rows;
    for (const row of rows) {
      const pending = this.reinforcements.get(row.id);
      if (pending) row.importance = this.reinforced(row.importance, pending.times);
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
    this.settle();
    if (this.grouped === 0) {
      openGroups.delete(this);
      return;
    }
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
