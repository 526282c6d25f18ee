import { Access } from "../access/access.js";
import type { Core } from "../core.js";
import { toProviderConfigs } from "./provider-configs.js";
import { SpectronValidationError } from "../errors.js";
import { isEmbeddingModelObject, isLanguageModelObject, modelObjectId, toEmbeddingModel, toLanguageModel } from "../models/model-objects.js";
import { checkModelForStage, embeddingDimensions, type ProviderConfigs, type ProviderOptions } from "../models/resolve.js";
import { STAGES, type EmbeddingModel, type LanguageModel, type Stage } from "../models/types.js";
import { DEFAULT_CACHE } from "./defaults.js";
import type { BudgetConfig } from "../store/budget.js";
import {
  budgetConfigSchema,
  cacheConfigSchema,
  callContextSchema,
  modelsSchema,
  parseInput,
  providersSchema,
  retentionSchema,
  type BudgetConfigInput,
  type CacheConfig,
  type CallContext,
  type Models,
  type ModelsInput,
  type ProvidersInput,
  type RetentionRule,
} from "./schemas.js";
import { seal } from "./secrets.js";

/** What the config namespace uses: the store, the model registry (providers, model objects), the settings. */
export type ConfigDeps = Pick<Core, "store" | "models" | "settings">;

export interface ContextConfig {
  models: Models;
  /** Providers with a key set; the keys themselves are write-only. */
  providers_configured: string[];
  retention: RetentionRule[];
  cache: CacheConfig;
  budget: BudgetConfig;
}

/** A validated stage → model assignment: the ids to store, and the model objects to register under theirs. */
export interface ModelAssignment {
  ids: Partial<Record<Stage, string>>;
  objects: Map<string, LanguageModel | EmbeddingModel>;
}

/**
 * Validates a partial stage → model assignment: unknown stages, ids that name no provider, a named provider
 * missing from `providers` (when given), and a model object of the wrong kind for its stage are rejected.
 * Ids of model objects registered in this process (`isRegistered`) are accepted as they are.
 */
export function validateModels(
  input: unknown,
  field: string,
  options: { providers?: ProviderConfigs; providerOptions?: ProviderOptions; isRegistered?: (id: string) => boolean } = {},
): ModelAssignment {
  const models = parseInput(modelsSchema, input, field, OPAQUE_MODELS);
  const out: ModelAssignment = { ids: {}, objects: new Map() };
  for (const stage of STAGES) {
    const value = models[stage];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      const id = modelObjectId(value);
      if (stage === "embedding") {
        if (!isEmbeddingModelObject(value)) throw new SpectronValidationError(`${field}.${stage}`, "an embedding model object (with `embed()` or the AI SDK's `doEmbed()`)", id);
        out.objects.set(id, toEmbeddingModel(value, options.providerOptions ?? {}));
      } else {
        if (!isLanguageModelObject(value)) throw new SpectronValidationError(`${field}.${stage}`, "a language model object (with `generate()` or the AI SDK's `doGenerate()`)", id);
        out.objects.set(id, toLanguageModel(value, options.providerOptions ?? {}));
      }
      out.ids[stage] = id;
      continue;
    }
    if (!out.objects.has(value) && !options.isRegistered?.(value)) {
      const problem = checkModelForStage(stage, value, options.providers);
      if (problem) throw new SpectronValidationError(`${field}.${stage}`, problem, value);
    }
    out.ids[stage] = value;
  }
  return out;
}

/** Model objects are the caller's own (class instances, SDK objects): not walked by the input guard. */
const OPAQUE_MODELS: ReadonlySet<string> = new Set(["*"]);

export function createConfigApi(
  core: ConfigDeps,
  access: Access,
  deps: { guard: (method: string) => void; secretKey: string | Uint8Array | undefined; onEmbeddingChange: (from: string, to: string) => void },
) {
  const call = (ctx: unknown, method: string): CallContext => {
    deps.guard(method);
    const parsed = parseInput(callContextSchema, ctx ?? {}, `${method}(…, ctx)`);
    access.assert(parsed, "manage", {});
    return parsed;
  };
  return {
    /** Assigns models to stages; omitted stages keep their model. */
    async models(models: ModelsInput, ctx?: CallContext): Promise<Models> {
      deps.guard("config.models");
      const { ids: input, objects } = validateModels(models, "models", {
        providers: core.models.providerConfigs(),
        providerOptions: core.models.providerOptions,
        isRegistered: (id) => core.models.isRegistered(id),
      });
      call(ctx, "config.models");
      for (const [id, model] of objects) core.models.register(id, model);
      const current = core.models.ids();
      const next = { ...current, ...input } as Models;
      const indexModel = core.models.indexModel();
      await core.store.updateSettings({
        models: next,
        ...(next.embedding !== current.embedding ? { embeddingChangedTo: { from: indexModel, to: next.embedding } } : {}),
      });
      if (next.embedding !== current.embedding) deps.onEmbeddingChange(current.embedding, next.embedding);
      return { ...next };
    },
    /** Sets provider keys (write-only). Persisted only encrypted, and only with a `secretKey`. */
    async providers(providers: ProvidersInput, ctx?: CallContext): Promise<{ providers_configured: string[] }> {
      deps.guard("config.providers");
      const input = parseInput(providersSchema, providers, "providers");
      call(ctx, "config.providers");
      const merged = { ...core.models.providerConfigs(), ...toProviderConfigs(input) };
      core.models.setProviders(merged);
      const configured = Object.keys(merged).sort();
      await core.store.updateSettings({
        providersConfigured: configured,
        providersSealed: deps.secretKey ? seal(deps.secretKey, JSON.stringify(merged)) : null,
      });
      return { providers_configured: configured };
    },
    /** Retention rules `{ scope, memory_category, ttl }`, first match wins. Applies to records written after. */
    async retention(rules: RetentionRule[], ctx?: CallContext): Promise<RetentionRule[]> {
      deps.guard("config.retention");
      const input = parseInput(retentionSchema, rules, "retention");
      call(ctx, "config.retention");
      await core.store.updateSettings({ retention: input });
      return input;
    },
    /** Tier-2 thresholds: `similarity` (default 0.95), `freshness`, `min_trust`. Partial updates. */
    async cache(cache: Partial<CacheConfig>, ctx?: CallContext): Promise<CacheConfig> {
      deps.guard("config.cache");
      const input = parseInput(cacheConfigSchema, cache, "cache");
      call(ctx, "config.cache");
      const next = { ...DEFAULT_CACHE, ...core.settings.current().cache, ...input } as CacheConfig;
      await core.store.updateSettings({ cache: next });
      return next;
    },
    /**
     * The Context's background budget: `background_tokens_per_day` caps the tokens of background model calls
     * (reconciliation, consolidation, elaboration) per UTC day of the clock; null lifts the cap. Work a day cannot
     * afford waits for the next one (see `usage().budget`).
     *
     * @example
     * await memory.config.budget({ background_tokens_per_day: 200_000 });
     */
    async budget(budget: BudgetConfigInput, ctx?: CallContext): Promise<BudgetConfig> {
      deps.guard("config.budget");
      const input = parseInput(budgetConfigSchema, budget, "budget");
      call(ctx, "config.budget");
      await core.store.setBudget(input);
      return { ...input };
    },
    async get(ctx?: CallContext): Promise<ContextConfig> {
      call(ctx, "config.get");
      const s = core.settings.current();
      return {
        models: { ...s.models },
        providers_configured: Object.keys(core.models.providerConfigs()).sort(),
        retention: s.retention,
        cache: { ...s.cache },
        budget: (await core.store.budget()).config,
      };
    },
  };
}

export { embeddingDimensions };
