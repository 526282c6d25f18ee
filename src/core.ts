import type { Logger } from "./config/schemas.js";
import { SettingsCache } from "./config/settings-cache.js";
import type { ContextSettings } from "./store/contexts.js";
import type { ProviderConfigs, ProviderOptions } from "./models/provider-config.js";
import { ModelRegistry } from "./models/registry.js";
import { vectorTableDimension } from "./store/vectors.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import type { Store } from "./store/store.js";
import { SpectronError } from "./errors.js";
import { Scheduler } from "./lifecycle/scheduler.js";

/**
 * What `close()` could not save. The database is closed in every case, and nothing it holds is lost: an index
 * file listed here is rebuilt from the database on the next open (a background rebuild; exact search meanwhile).
 */
export interface CloseReport {
  /** ANN index files that could not be written: the path, the error's code (`EISDIR`, `ENOSPC`, …) and message. */
  unsaved: { path: string; code: string; message: string }[];
}

/**
 * The collaborators of one instance, wired together: the store, the model registry, the settings cache, the
 * scheduler, the clock and the logger. Built once by the Spectron constructor; it opens (`attach`), drains
 * (`idle`) and closes them. Pipelines, sweeps and namespaces take only the members they use (each declares
 * them as a `Pick<Core, …>`).
 */
export class Core {
  /** Background work: one job at a time, deadlock-free by construction (see Scheduler). */
  readonly queue: Scheduler;
  /** The models of each stage, and their usage (`memory.usage()`). */
  readonly models: ModelRegistry;
  /** The Context's settings, read synchronously. */
  readonly settings: SettingsCache;
  readonly context: string;

  /** The store, once open (an async engine opens after the constructor: see `attach`). */
  #store: Store | undefined;
  /** The same store when it is the embedded SQLite engine (synchronous settings, sidecar indexes), else undefined. */
  #sqlite: SqliteStore | undefined;

  constructor(
    context: string,
    readonly now: () => number,
    readonly logger: Logger,
    providers: ProviderConfigs,
    providerOptions: ProviderOptions,
    readonly feedback: boolean,
  ) {
    this.queue = new Scheduler(logger);
    this.context = context;
    this.settings = new SettingsCache(logger);
    this.models = new ModelRegistry({
      providers,
      providerOptions,
      assignment: () => this.settings.current(),
      storedDimension: (id) => {
        const db = this.#sqlite?.db;
        return db ? (vectorTableDimension(db, "records", id) ?? vectorTableDimension(db, "chunks", id)) : undefined;
      },
    });
  }

  /**
   * Connects the opened store, with the settings it returned when the Context was opened. Every read of
   * `settings.current()` is then synchronous (see SettingsCache).
   */
  attach(store: Store, settings: ContextSettings): void {
    if (this.#store) throw new SpectronError("internal", "Core.attach: a store is attached already.");
    if (store instanceof SqliteStore) {
      this.#sqlite = store;
      // The vector indexes size themselves by what the model registry knows of each model.
      store.indexes.dimensionsOf = (model) => this.models.dimensionsOf(model);
    }
    this.#store = this.settings.attach(store, settings, this.#sqlite);
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
