import type { Logger, Models, ProvidersInput } from "./config/schemas.js";
import type { ContextSettings } from "./store/contexts.js";
import { createEmbeddingModel, createLanguageModel, declaredDimensions, type ProviderConfigs, type ProviderOptions } from "./models/resolve.js";
import { countedEmbeddingModel, countedLanguageModel, UsageCounters } from "./models/stage-usage.js";
import type { EmbeddingModel, LanguageModel, ModelUsage, Stage } from "./models/types.js";
import { vectorTableDimension } from "./store/vectors.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { Store } from "./store/store.js";
import { SpectronError } from "./errors.js";
import { Scheduler } from "./lifecycle/scheduler.js";

export { PRIORITY } from "./lifecycle/scheduler.js";

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
  readonly context: string;
  private readonly languageModels = new Map<string, LanguageModel>();
  private readonly embeddingModels = new Map<string, EmbeddingModel>();
  /** Model objects the caller passed, by the id stored for them (see modelObjectId). */
  private readonly registered = new Map<string, LanguageModel | EmbeddingModel>();
  /** Embedding dimensions learnt from replies, for models that declare none. */
  private readonly discoveredDimensions = new Map<string, number>();

  /** The store, once open (an async engine opens after the constructor: see `attach`). */
  #store: Store | undefined;
  /** The store itself, unwrapped (settings refreshes read through it: the wrapped one waits for them). */
  #raw: Store | undefined;
  /** The same store when it is the embedded SQLite engine (synchronous settings, sidecar indexes), else undefined. */
  #sqlite: SqliteStore | undefined;
  /** The settings of an engine without synchronous reads, kept fresh through `subscribe` (see `attach`). */
  #settings: ContextSettings | undefined;
  /** Refreshes of #settings started and the one in flight: a later refresh wins over an earlier one. */
  #refreshes = 0;
  #refreshing: Promise<void> | undefined;

  constructor(
    context: string,
    readonly now: () => number,
    readonly logger: Logger,
    providers: ProviderConfigs,
    readonly providerOptions: ProviderOptions,
    readonly feedback: boolean,
  ) {
    this.queue = new Scheduler(logger);
    this.context = context;
    this.#providers = providers;
  }

  /**
   * Connects the opened store, with the settings it returned when the Context was opened. Every read of
   * `settings()` is then synchronous: the SQLite engine reads its own cache; for any other engine Core keeps
   * one, refreshed on each `settings` change the store reports (own writes and other processes'), and the store
   * Core hands out resolves a call only once the refresh its own writes started has landed (so that a call that
   * wrote settings and the calls after it read them).
   */
  attach(store: Store, settings: ContextSettings): void {
    if (this.#store) throw new SpectronError("internal", "Core.attach: a store is attached already.");
    if (store instanceof SqliteStore) {
      this.#store = store;
      this.#sqlite = store;
      // The vector indexes size themselves by what the model registry knows of each model.
      store.indexes.dimensionsOf = (model) => this.dimensionsOf(model);
      return;
    }
    this.#settings = settings;
    this.#raw = store;
    store.subscribe((change) => {
      if (change.kind === "settings") void this.refreshSettings().catch(() => undefined);
    });
    this.#store = settledStore(store, () => this.#refreshing);
  }

  /** The store (every read and write of durable state). */
  get store(): Store {
    if (!this.#store) throw new SpectronError("internal", "The store is not open yet.");
    return this.#store;
  }

  /** The embedded SQLite store, or undefined on another engine. */
  get sqlite(): SqliteStore | undefined {
    return this.#sqlite;
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

  /** The Context's settings (cached; the cache notices this and other processes' changes). */
  settings(): ContextSettings {
    if (this.#sqlite) return this.#sqlite.settingsSync();
    if (!this.#settings) throw new SpectronError("internal", "The store is not open yet.");
    return this.#settings;
  }

  /** Call after any write to the settings (SQLite; other engines' caches follow their change feed). */
  invalidateSettings(): void {
    if (this.#sqlite) this.#sqlite.invalidateSettings();
    else void this.refreshSettings().catch(() => undefined);
  }

  /**
   * The settings as stored now, another process's latest changes included (SQLite: the file; other engines:
   * their change feed read first), also cached for `settings()`.
   */
  async refreshSettings(): Promise<ContextSettings> {
    if (this.#sqlite) {
      this.#sqlite.invalidateSettings();
      return this.#sqlite.settingsSync();
    }
    const store = this.#raw;
    if (!store) throw new SpectronError("internal", "The store is not open yet.");
    const n = ++this.#refreshes;
    const refresh = (async () => {
      await store.poll();
      const settings = await store.settings();
      if (n === this.#refreshes) this.#settings = settings;
      return settings;
    })();
    const landed = refresh.then(
      () => undefined,
      (error: unknown) => this.logger.warn("Reading the Context settings failed; the next change retries", { error: String(error) }),
    );
    this.#refreshing = landed;
    void landed.then(() => {
      if (this.#refreshing === landed) this.#refreshing = undefined;
    });
    return refresh;
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
    // Another engine learns an undeclared dimension from the model's first reply (its vector tables check it).
    const db = this.#sqlite?.db;
    const stored = db ? (vectorTableDimension(db, "records", id) ?? vectorTableDimension(db, "chunks", id)) : undefined;
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

  /** Background work so far: the scheduler's queue, then pending ANN insertions. */
  async idle(): Promise<void> {
    await this.queue.idle();
    await this.#store?.idle();
  }

  async close(): Promise<CloseReport> {
    await this.queue.stop();
    return this.#store ? this.#store.close() : { unsaved: [] };
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

/**
 * The store as Core hands it out: every call that returns a promise resolves only after the settings refresh in
 * flight when it settled (the one its own settings write started, if any) has landed.
 */
function settledStore(store: Store, refreshing: () => Promise<void> | undefined): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = value as (...args: unknown[]) => unknown;
        fn = (...args: unknown[]) => {
          const result = method.apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.then(async (out) => {
            await refreshing();
            return out;
          });
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
