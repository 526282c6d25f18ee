import type { Logger, Models, ProvidersInput } from "./config/schemas.js";
import type { ContextSettings } from "./store/contexts.js";
import { createEmbeddingModel, createLanguageModel, type ProviderConfigs, type ProviderOptions } from "./models/resolve.js";
import type { EmbeddingModel, LanguageModel, ModelUsage, Stage } from "./models/types.js";
import type { VectorSpace } from "./store/vectors.js";
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

export interface StageUsage {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
  cost_usd: number;
}

/**
 * The wiring every namespace shares: the store (with its vector indexes and write batching), clock, logger,
 * models per stage and their usage, and the scheduler. Built once by the Spectron constructor.
 */
export class Core {
  /** Background work: one job at a time, deadlock-free by construction (see Scheduler). */
  readonly queue: Scheduler;
  readonly usage = new Map<Stage, StageUsage>();
  readonly context: string;
  private readonly languageModels = new Map<string, LanguageModel>();
  private readonly embeddingModels = new Map<string, EmbeddingModel>();

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

  models(): Models {
    return this.settings().models;
  }

  model(stage: Exclude<Stage, "embedding">): LanguageModel {
    const id = this.models()[stage];
    let model = this.languageModels.get(id);
    if (!model) this.languageModels.set(id, (model = createLanguageModel(id, this.#providers, this.providerOptions)));
    return model;
  }

  /** The embedding model retrieval reads: the configured one, or the previous one until a reindex completes. */
  indexModel(): string {
    return this.settings().indexModel;
  }

  embedder(id = this.indexModel()): EmbeddingModel {
    let model = this.embeddingModels.get(id);
    if (!model) this.embeddingModels.set(id, (model = createEmbeddingModel(id, this.#providers, this.providerOptions)));
    return model;
  }

  recordUsage(stage: Stage, usage: ModelUsage): void {
    const s = this.usage.get(stage) ?? { calls: 0, input_tokens: 0, output_tokens: 0, latency_ms: 0, cost_usd: 0 };
    s.calls += 1;
    s.input_tokens += usage.inputTokens;
    s.output_tokens += usage.outputTokens;
    s.latency_ms += usage.latencyMs;
    s.cost_usd += usage.costUsd;
    this.usage.set(stage, s);
  }

  /** Waits while the ANN index has a backlog a tight write loop would keep growing (see VectorIndexes). */
  async drainIfBacklogged(space: VectorSpace, model: string): Promise<void> {
    await this.store.indexes.drainIfBacklogged(space, model);
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
  for (const name of ["openai", "anthropic"] as const) {
    const v = input?.[name];
    if (v !== undefined) out[name] = typeof v === "string" ? { apiKey: v } : { apiKey: v.apiKey, ...(v.baseURL ? { baseURL: v.baseURL } : {}) };
  }
  return out;
}
