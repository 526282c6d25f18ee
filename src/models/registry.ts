import type { ContextSettings } from "../store/contexts.js";
import { createEmbeddingModel, createLanguageModel, declaredDimensions } from "./resolve.js";
import type { ProviderConfigs, ProviderOptions } from "./provider-config.js";
import { countedEmbeddingModel, countedLanguageModel, UsageCounters } from "./stage-usage.js";
import type { EmbeddingModel, LanguageModel, ModelUsage, Stage } from "./types.js";
import type { Models } from "../config/schemas.js";

/** Where the registry learns what it does not hold itself. */
export interface ModelRegistryOptions {
  providers: ProviderConfigs;
  providerOptions: ProviderOptions;
  /** The stage → model assignment and the index model, as the Context's settings hold them now. */
  assignment: () => Pick<ContextSettings, "models" | "indexModel">;
  /** The dimension of the vectors a model has stored (the SQLite engine's vector tables), if any. */
  storedDimension: (id: string) => number | undefined;
}

/**
 * The models of each stage in this process: resolved from the Context's settings and the providers, or the
 * model objects the caller registered; every call counted per stage (`memory.usage()`).
 */
export class ModelRegistry {
  /** Calls, failures, retries and tokens per stage (`memory.usage()`). */
  readonly counters = new UsageCounters();
  readonly usage = this.counters.byStage;
  readonly providerOptions: ProviderOptions;
  private readonly languageModels = new Map<string, LanguageModel>();
  private readonly embeddingModels = new Map<string, EmbeddingModel>();
  /** Model objects the caller passed, by the id stored for them (see modelObjectId). */
  private readonly registered = new Map<string, LanguageModel | EmbeddingModel>();
  /** Embedding dimensions learnt from replies, for models that declare none. */
  private readonly discoveredDimensions = new Map<string, number>();
  private readonly assignment: ModelRegistryOptions["assignment"];
  private readonly storedDimension: ModelRegistryOptions["storedDimension"];

  constructor(options: ModelRegistryOptions) {
    this.#providers = options.providers;
    this.providerOptions = options.providerOptions;
    this.assignment = options.assignment;
    this.storedDimension = options.storedDimension;
  }

  /**
   * Provider keys, in a private field read through a method (not a getter: `util.inspect` with `getters: true`
   * calls getters): `util.inspect`, `console.log` and `JSON.stringify` of an instance (the registry hangs off
   * every Spectron) never reach them.
   */
  #providers: ProviderConfigs;

  providerConfigs(): ProviderConfigs {
    return this.#providers;
  }

  setProviders(providers: ProviderConfigs): void {
    this.#providers = providers;
    this.languageModels.clear();
    this.embeddingModels.clear();
  }

  /** Makes a model object the model of the stages whose id is `id` (in this process). */
  register(id: string, model: LanguageModel | EmbeddingModel): void {
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
    const stored = this.storedDimension(id);
    if (stored !== undefined) this.discoveredDimensions.set(id, stored);
    return stored;
  }

  /** The model id of each stage (the Context's settings). */
  ids(): Models {
    return this.assignment().models;
  }

  model(stage: Exclude<Stage, "embedding">): LanguageModel {
    const id = this.ids()[stage];
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
    return this.assignment().indexModel;
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
}
