import type { Logger, Models, ProvidersInput } from "./config/schemas.js";
import { readContext, type ContextSettings } from "./store/contexts.js";
import { immediate, sql, sqlPluck, toStoreError, type Db } from "./store/database.js";
import { REINFORCEMENT } from "./config/defaults.js";
import { createEmbeddingModel, createLanguageModel, declaredDimensions, type ProviderConfigs, type ProviderOptions } from "./models/resolve.js";
import { countedEmbeddingModel, countedLanguageModel, UsageCounters } from "./models/stage-usage.js";
import { extendLives } from "./lifecycle/survival.js";
import { getRecords } from "./store/records.js";
import type { EmbeddingModel, LanguageModel, ModelUsage, Stage } from "./models/types.js";
import { vectorSource, vectorTableDimension, type VectorSpace } from "./store/vectors.js";
import { VectorIndex } from "./store/vector-index.js";
import { SpectronError } from "./errors.js";
import { Scheduler } from "./lifecycle/scheduler.js";

export { PRIORITY } from "./lifecycle/scheduler.js";

/** Vectors awaiting hnswlib insertion beyond which writers wait (see drainIfBacklogged). */
const PENDING_LIMIT = 512;

/** Writes of reads (reuse and query traces, reinforcement) batched into one commit at most. */
const GROUP_LIMIT = 128;

/**
 * Cores with an open group transaction. Instances may share one file (a Context each), and a group holds the
 * file's write lock: every write commits the others' groups first, or it would wait on a lock that only
 * this same thread could release.
 */
const openGroups = new Set<Core>();

/** Commits every open group of writes of reads in this process (see Core.groupWrite), except `except`'s. */
export function commitGroups(except?: Core): void {
  for (const core of openGroups) if (core !== except) core.commitGroup();
}

/**
 * What `close()` could not save. The database is closed in every case, and nothing it holds is lost: an index
 * file listed here is rebuilt from the database on the next open (a background rebuild; exact search meanwhile).
 */
export interface CloseReport {
  /** ANN index files that could not be written: the path, the error's code (`EISDIR`, `ENOSPC`, …) and message. */
  unsaved: { path: string; code: string; message: string }[];
}

export type { StageUsage } from "./models/stage-usage.js";

/**
 * The wiring every namespace shares: database, clock, logger, models per stage, vector indexes and the
 * scheduler. Built once by the Spectron constructor.
 */
export class Core {
  /** Background work: one job at a time, deadlock-free by construction (see Scheduler). */
  readonly queue: Scheduler;
  /** Calls, failures, retries and tokens per stage (`memory.usage()`). */
  readonly counters = new UsageCounters();
  readonly usage = this.counters.byStage;
  private settingsCache: ContextSettings | undefined;
  /** `PRAGMA data_version` when `settingsCache` was last checked, and whether it was this turn. */
  private settingsVersion: number | undefined;
  private settingsChecked = false;
  private readonly languageModels = new Map<string, LanguageModel>();
  private readonly embeddingModels = new Map<string, EmbeddingModel>();
  /** Model objects the caller passed, by the id stored for them (see modelObjectId). */
  private readonly registered = new Map<string, LanguageModel | EmbeddingModel>();
  /** Embedding dimensions learnt from replies, for models that declare none. */
  private readonly discoveredDimensions = new Map<string, number>();
  private readonly indexes = new Map<string, VectorIndex>();
  /** Writes in the open group transaction (see `groupWrite`), or 0 when none is open. */
  private grouped = 0;
  /** Reinforcements made in the open group, written when it commits: record id → how many, and when last. */
  private readonly reinforcements = new Map<number, { times: number; at: number; extendLife: boolean }>();
  private commitScheduled = false;

  constructor(
    readonly db: Db,
    readonly context: string,
    readonly now: () => number,
    readonly logger: Logger,
    readonly path: string,
    providers: ProviderConfigs,
    readonly providerOptions: ProviderOptions,
    readonly feedback: boolean,
  ) {
    this.queue = new Scheduler(logger);
    this.#providers = providers;
  }

  /**
   * Provider keys, in a private field read through a method (not a getter: `util.inspect` with `getters: true`
   * calls getters): `util.inspect`, `console.log` and `JSON.stringify` of an instance (the core hangs off every
   * Spectron) never reach them.
   */
  #providers: ProviderConfigs;

  providerConfigs(): ProviderConfigs {
    return this.#providers;
  }

  settings(): ContextSettings {
    if (this.settingsCache && !this.settingsChecked) {
      // Another process (or instance) may have changed them: re-read once it has committed anything, checked
      // at most once per turn of the event loop (PRAGMA data_version, ~20 µs here).
      this.settingsChecked = true;
      setImmediate(() => (this.settingsChecked = false));
      const version = sqlPluck(this.db, "PRAGMA data_version").get() as number;
      if (version !== this.settingsVersion) this.settingsCache = undefined;
      this.settingsVersion = version;
    }
    this.settingsCache ??= readContext(this.db, this.context);
    if (!this.settingsCache) throw new SpectronError("internal", `Context \`${this.context}\` is missing from the database.`);
    return this.settingsCache;
  }

  /** Call after any write to the contexts row. */
  invalidateSettings(): void {
    this.settingsCache = undefined;
  }

  setProviders(providers: ProviderConfigs): void {
    this.#providers = providers;
    this.languageModels.clear();
    this.embeddingModels.clear();
  }

  /** Makes a model object the model of the stages whose id is `id` (in this process). */
  registerModel(id: string, model: LanguageModel | EmbeddingModel): void {
    this.registered.set(id, model);
    this.languageModels.clear();
    this.embeddingModels.clear();
  }

  isRegistered(id: string): boolean {
    return this.registered.has(id);
  }

  /**
   * The dimension of an embedding model's vectors: declared (by the model object, `local:hash-<dim>`, a known
   * OpenAI model, `providers.<name>.dimensions`), discovered from a reply in this process, or read from the
   * vectors it has stored. Undefined until one of these knows it.
   */
  dimensionsOf(id: string): number | undefined {
    const registered = this.registered.get(id) as EmbeddingModel | undefined;
    const known = registered?.dimensions ?? declaredDimensions(id, this.#providers) ?? this.discoveredDimensions.get(id);
    if (known !== undefined) return known;
    const stored = vectorTableDimension(this.db, "records", id) ?? vectorTableDimension(this.db, "chunks", id);
    if (stored !== undefined) this.discoveredDimensions.set(id, stored);
    return stored;
  }

  models(): Models {
    return this.settings().models;
  }

  model(stage: Exclude<Stage, "embedding">): LanguageModel {
    const id = this.models()[stage];
    const key = `${stage}\u0000${id}`;
    let model = this.languageModels.get(key);
    if (!model) {
      const inner = (this.registered.get(id) as LanguageModel | undefined) ?? createLanguageModel(id, this.#providers, this.providerOptions);
      this.languageModels.set(key, (model = countedLanguageModel(inner, stage, this.counters)));
    }
    return model;
  }

  /** The embedding model retrieval reads: the configured one, or the previous one until a reindex completes. */
  indexModel(): string {
    return this.settings().indexModel;
  }

  embedder(id = this.indexModel()): EmbeddingModel {
    let model = this.embeddingModels.get(id);
    if (!model) {
      const inner = (this.registered.get(id) as EmbeddingModel | undefined) ?? createEmbeddingModel(id, this.#providers, this.providerOptions);
      model = countedEmbeddingModel(inner, this.counters, {
        known: () => this.dimensionsOf(id),
        discovered: (dim) => void this.discoveredDimensions.set(id, dim),
      });
      this.embeddingModels.set(id, model);
    }
    return model;
  }

  recordUsage(stage: Stage, usage: ModelUsage): void {
    this.counters.record(stage, usage);
  }

  /**
   * A write transaction of its own, committed before it returns. Any open group of writes of reads is committed
   * first, so that this transaction's durability never waits on the group. Immediate (see `immediate`): another
   * process's writes make it wait, up to the busy timeout, then fail with a BusyError having written nothing.
   */
  transaction<T>(fn: () => T): T {
    commitGroups();
    return immediate(this.db, fn);
  }

  /**
   * Group commit for the writes a read leaves (a cached answer's response_trace, a query's retrieval_trace,
   * their edges and reinforcement). `fn` runs at once, atomically (a savepoint), inside a transaction shared
   * with the other reads of this tick. That transaction commits on the next turn of the event loop, after
   * GROUP_LIMIT writes, or before any other write (`transaction`, every public method but `recall` and
   * `query`, `close`; in any instance of this process). Reads on this connection see the writes at once; only
   * a process crash before the commit loses them. On a store with 100k records the commit is most of what a
   * tier-1 answer costs, and one commit for many reads writes each touched page once.
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
   * Inside `groupWrite`: counts one reinforcement (importance × REINFORCEMENT, capped at 1) of each of `ids`,
   * to be written when the group commits; `extendLife` (records an answer used) also extends their expiry. Returns how many each now has pending, this one included.
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
      if (pending) row.importance = Math.min(1, row.importance * REINFORCEMENT ** pending.times);
    }
    return rows;
  }

  /** Writes the pending reinforcements (see `reinforceLater`), each record once. Inside a transaction. */
  private writeReinforcements(): void {
    if (this.reinforcements.size === 0) return;
    const update = sql(this.db, "UPDATE records SET importance = MIN(1.0, importance * ?), last_accessed_at = ? WHERE id = ?");
    for (const [id, { times, at }] of this.reinforcements) update.run(REINFORCEMENT ** times, at, id);
    // Answers' records live longer for being used (lifecycle/survival.ts); a search's are only reinforced.
    const extend = [...this.reinforcements].filter(([, r]) => r.extendLife).map(([id]) => id);
    for (const row of getRecords(this.db, this.context, extend)) extendLives(this.db, this.settings().retention, [row], this.reinforcements.get(row.id)!.at);
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
      return;
    }
    try {
      this.writeReinforcements();
      this.db.exec("COMMIT");
    } catch (error) {
      this.logger.error("Committing the traces of reads failed; they are lost", { writes, error: String(error) });
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
    }
  }

  /** The ANN index of one vector space for one embedding model, opened (and caught up) on first use. */
  vectorIndex(space: VectorSpace, model: string): VectorIndex {
    const key = `${space}\u0000${model}`;
    let index = this.indexes.get(key);
    if (!index) {
      const dim = this.dimensionsOf(model);
      if (dim === undefined) {
        throw new SpectronError(
          "internal",
          `The dimension of embedding model \`${model}\` is not known yet: it is learnt from its first reply. Declare it with \`providers: { <name>: { baseURL, dimensions: { "<model>": <dim> } } }\`.`,
        );
      }
      const sidecar =
        this.path === ":memory:" ? undefined : `${this.path}.${this.context.replace(/[^A-Za-z0-9._-]/g, "_")}.${space}.${model.replace(/[^A-Za-z0-9]/g, "_")}.hnsw`;
      index = VectorIndex.open({
        source: vectorSource(this.db, this.context, space, model, dim),
        ...(sidecar ? { path: sidecar } : {}),
        logger: this.logger,
      });
      this.indexes.set(key, index);
    }
    return index;
  }

  /**
   * Backpressure for bursts of writes: vectors not yet in hnswlib are searched exactly, so a backlog that the
   * background cannot drain (a tight ingest loop never yields to it) makes every search slower. Past
   * PENDING_LIMIT the writer waits for the index to catch up.
   */
  async drainIfBacklogged(space: VectorSpace, model: string): Promise<void> {
    const index = this.indexes.get(`${space}\u0000${model}`);
    if (index && index.pendingCount > PENDING_LIMIT) await index.flush();
  }

  existingIndex(space: VectorSpace, model: string): VectorIndex | undefined {
    return this.indexes.get(`${space}\u0000${model}`);
  }

  /** Background work so far: the scheduler's queue, then pending ANN insertions. */
  async idle(): Promise<void> {
    await this.queue.idle();
    for (const index of this.indexes.values()) await index.flush();
  }

  async close(): Promise<CloseReport> {
    await this.queue.stop();
    return this.closeStore();
  }

  /**
   * Saves the ANN indexes and closes the database, which is closed whatever fails first. An index file that
   * cannot be written (disk full, a directory at its path, …) is only a cache: it is reported, logged, and
   * rebuilt from the database on the next open.
   */
  private async closeStore(): Promise<CloseReport> {
    const unsaved: CloseReport["unsaved"] = [];
    try {
      for (const index of this.indexes.values()) {
        try {
          await index.flush();
        } catch {
          // A background batch failed; close() below still saves what hnswlib holds, up to the seq it holds.
        }
        try {
          index.close();
        } catch (error) {
          const e = error as { code?: unknown; message?: unknown };
          const entry = { path: index.path ?? "", code: typeof e?.code === "string" ? e.code : "unknown", message: String(e?.message ?? error) };
          unsaved.push(entry);
          this.logger.warn("ANN index not saved on close; it is rebuilt from the database on the next open", entry);
        }
      }
    } finally {
      this.indexes.clear();
      this.commitGroup();
      this.db.close();
    }
    return { unsaved };
  }
}

export function toProviderConfigs(input: ProvidersInput | undefined): ProviderConfigs {
  const out: ProviderConfigs = {};
  for (const [name, v] of Object.entries(input ?? {})) {
    if (v === undefined) continue;
    if (typeof v === "string") out[name] = { apiKey: v };
    else {
      const named = v as { apiKey?: string; baseURL?: string; dimensions?: Record<string, number>; headers?: Record<string, string> };
      out[name] = {
        ...(named.apiKey !== undefined ? { apiKey: named.apiKey } : {}),
        ...(named.baseURL ? { baseURL: named.baseURL } : {}),
        ...(named.dimensions ? { dimensions: { ...named.dimensions } } : {}),
        ...(named.headers ? { headers: { ...named.headers } } : {}),
      };
    }
  }
  return out;
}
