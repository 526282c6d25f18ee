import type { z } from "zod";
import { unseal } from "./secrets.js";
import { DEFAULT_CACHE, LOCAL_MODELS, OPENAI_MODELS } from "./defaults.js";
import { validateModels } from "./config-api.js";
import { toProviderConfigs } from "./provider-configs.js";
import type { spectronOptionsSchema } from "./schemas.js";
import type { ProviderConfigs } from "../models/provider-config.js";
import type { ContextInit } from "../store/store.js";

/**
 * The Context's opening, shared by both engines: `decide` runs inside the store's transaction with what is stored
 * (possibly more than once), and fixes the providers the instance then uses.
 */
export function contextOpening(o: z.output<typeof spectronOptionsSchema>, assigned: ReturnType<typeof validateModels> | undefined) {
  let providers: ProviderConfigs = toProviderConfigs(o.providers);
  const decide: ContextInit["decide"] = (stored) => {
    providers = toProviderConfigs(o.providers);
    if (!o.providers && stored?.providersSealed && o.secretKey) providers = JSON.parse(unseal(o.secretKey, stored.providersSealed)) as ProviderConfigs;
    if (!o.providers && !stored?.providersSealed) {
      // The environment is read once, here, and only when the caller passed no providers.
      const env = process.env;
      if (env.OPENAI_API_KEY) providers.openai = { apiKey: env.OPENAI_API_KEY };
      if (env.ANTHROPIC_API_KEY) providers.anthropic = { apiKey: env.ANTHROPIC_API_KEY };
    }
    if (o.models) validateModels(o.models, "options.models", { providers, isRegistered: (id) => assigned?.objects.has(id) ?? false });
    const providersConfigured = Object.keys(providers).sort();
    if (!stored) {
      // Defaults are fixed when a Context is first created; later key changes never switch a stage.
      const base = providers.openai ? OPENAI_MODELS : LOCAL_MODELS;
      return { create: { models: { ...base, ...assigned?.ids } as typeof base, cache: { ...DEFAULT_CACHE } }, providersConfigured };
    }
    if (!assigned) return { providersConfigured };
    const models = { ...stored.models, ...assigned.ids } as typeof stored.models;
    // As with config.models: a new embedding model is read only once knowledge.reindex() completes.
    return {
      models,
      providersConfigured,
      ...(models.embedding !== stored.models.embedding ? { embeddingChangedTo: { from: stored.indexModel, to: models.embedding } } : {}),
    };
  };
  return { decide, providers: () => providers };
}
