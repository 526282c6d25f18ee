import type { Logger, Models, ProvidersInput } from "./config/schemas.js";
import type { ContextSettings } from "./store/contexts.js";
import { createEmbeddingModel, createLanguageModel, declaredDimensions, type ProviderConfigs, type ProviderOptions } from "./models/resolve.js";
import { countedEmbeddingModel, countedLanguageModel, UsageCounters } from "./models/stage-usage.js";
import type { EmbeddingModel, LanguageModel, ModelUsage, Stage } from "./models/types.js";
import { vectorTableDimension } from "./store/vectors.js";
import type { SqliteStore } from "./store/sqlite/sqlite-store.js";
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

  constructor(
    readonly store: SqliteStore,
    readonly now: () => number,
    readonly logger: Logger,
    providers: ProviderConfigs,
    readonly providerOptions: ProviderOptions,
    readonly feedback: boolean,
  ) {
    this.queue = new Scheduler(logger);
    this.context = store.context;
    this.#providers = providers;
    // The vector indexes size themselves by what the model registry knows of each model.
    store.indexes.dimensionsOf = (model) => this.dimensionsOf(model);
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

  /** The Context's settings (the store caches them and notices other processes' changes). */
  settings(): ContextSettings {
    return this.store.settingsSync();
  }

  /** Call after any write to the settings. */
  invalidateSettings(): void {
    this.store.invalidateSettings();
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
    const stored = vectorTableDimension(this.store.db, "records", id) ?? vectorTableDimension(this.store.db, "chunks", id);
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
    await this.store.idle();
  }

  async close(): Promise<CloseReport> {
    await this.queue.stop();
    return this.store.close();
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
