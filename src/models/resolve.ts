import { ProviderError, SpectronValidationError } from "../errors.js";
import { createAnthropicLanguageModel } from "./anthropic.js";
import { createLocalEmbeddingModel, createLocalLanguageModel } from "./local/index.js";
import { MODEL_ID_EXPECTED, parseModelId, type ModelRef } from "./model-id.js";
import { createOpenAIEmbeddingModel, createOpenAILanguageModel, OPENAI_EMBEDDING_DIMENSIONS } from "./openai.js";
import type { ProviderConfig, ProviderConfigs, ProviderOptions } from "./provider-config.js";
import type { EmbeddingModel, LanguageModel, Stage } from "./types.js";

export type { ProviderConfig, ProviderConfigs, ProviderOptions } from "./provider-config.js";
export { providerOf } from "./model-id.js";

const LOCAL_HASH = /^local:hash-(\d+)$/;

/**
 * Checks that `id` can serve `stage`, returning what was expected when it cannot. With `providers`, an id of
 * a named provider must name one configured with a `baseURL`. Used by config validation so that a bad
 * assignment is rejected before anything is stored. The id after a known provider's prefix is not checked:
 * the provider decides (a model it lacks is a 404 on the first call).
 */
export function checkModelForStage(stage: Stage, id: string, providers?: ProviderConfigs): string | undefined {
  const ref = parseModelId(id);
  if (!ref) return MODEL_ID_EXPECTED;
  const { provider, model } = ref;
  if (provider === "local") {
    if (stage !== "embedding") return id === "local:rules" ? undefined : `"local:rules" (the offline rule-based model) for stage ${stage}`;
    const m = LOCAL_HASH.exec(id);
    const dim = m ? Number(m[1]) : NaN;
    return dim >= 64 && dim <= 4096 ? undefined : `"local:hash-<dim>" with dim between 64 and 4096, such as "local:hash-384"`;
  }
  if (provider === "anthropic") {
    return stage === "embedding" ? `an embedding model (Anthropic has no embeddings API; use "text-embedding-3-small", "<provider>:<embedding model>" or "local:hash-384")` : undefined;
  }
  if (provider === "openai") {
    // A bare id is recognised by its family, so a bare chat id as the embedder (and the reverse) is a mistake.
    if (stage === "embedding" && ref.bare && !model.startsWith("text-embedding-")) return `an embedding model such as "text-embedding-3-small" (\`${id}\` is a chat model)`;
    if (stage !== "embedding" && ref.bare && model.startsWith("text-embedding-")) return `a chat model for stage ${stage}, not an embedding model`;
    return undefined;
  }
  if (providers && !providers[provider]?.baseURL) {
    return `a model of a configured provider: \`${provider}\` is not one. Configure it with \`providers: { ${provider}: { baseURL: "http://…/v1" } }\` (any OpenAI-compatible endpoint), or prefix the id with "openai:", "anthropic:" or "local:"`;
  }
  return undefined;
}

/**
 * The dimension an embedding model declares: `local:hash-<dim>`, a known OpenAI model, or
 * `providers.<name>.dimensions[<model>]`. Undefined when it is discovered from the model's replies instead.
 */
export function declaredDimensions(id: string, providers: ProviderConfigs = {}): number | undefined {
  const m = LOCAL_HASH.exec(id);
  if (m) return Number(m[1]);
  const ref = parseModelId(id);
  if (!ref) return undefined;
  return providers[ref.provider]?.dimensions?.[ref.model] ?? (ref.provider === "openai" ? OPENAI_EMBEDDING_DIMENSIONS[ref.model] : undefined);
}

/** The declared dimension of an embedding model (see `declaredDimensions`); throws when it has none. */
export function embeddingDimensions(id: string, providers: ProviderConfigs = {}): number {
  const dim = declaredDimensions(id, providers);
  if (dim === undefined) throw new SpectronValidationError("models.embedding", "an embedding model of a declared dimension", id);
  return dim;
}

function refOf(id: string, field: string): ModelRef {
  const ref = parseModelId(id);
  if (!ref) throw new SpectronValidationError(field, MODEL_ID_EXPECTED, id);
  return ref;
}

function configFor(ref: ModelRef, providers: ProviderConfigs, id: string): ProviderConfig {
  const { provider } = ref;
  const config = providers[provider];
  if (provider === "openai" || provider === "anthropic") {
    if (!config?.apiKey) {
      throw new ProviderError(
        provider,
        `Model \`${id}\` needs an ${provider === "openai" ? "OpenAI" : "Anthropic"} key, and none is configured. ` +
          `Pass \`providers: { ${provider}: "<key>" }\` to \`new Spectron()\` or call \`memory.config.providers({ ${provider}: "<key>" })\`.`,
        undefined,
        false,
      );
    }
    return config;
  }
  if (!config?.baseURL) {
    throw new ProviderError(
      provider,
      `Model \`${id}\` names the provider \`${provider}\`, which is not configured in this process. ` +
        `Pass \`providers: { ${provider}: { baseURL: "http://…/v1" } }\` to \`new Spectron()\` or call \`memory.config.providers(...)\` ` +
        `(if \`${id}\` was a model object, pass the object again in \`models\`).`,
      undefined,
      false,
    );
  }
  return config;
}

export function createLanguageModel(id: string, providers: ProviderConfigs, options: ProviderOptions = {}): LanguageModel {
  const ref = refOf(id, "model");
  switch (ref.provider) {
    case "local":
      return createLocalLanguageModel(id);
    case "anthropic":
      return createAnthropicLanguageModel(id, configFor(ref, providers, id), options, ref.model);
    default:
      // OpenAI itself and every named OpenAI-compatible provider.
      return createOpenAILanguageModel(id, configFor(ref, providers, id), options, { provider: ref.provider, model: ref.model });
  }
}

export function createEmbeddingModel(id: string, providers: ProviderConfigs, options: ProviderOptions = {}): EmbeddingModel {
  const ref = refOf(id, "models.embedding");
  switch (ref.provider) {
    case "local":
      return createLocalEmbeddingModel(id);
    case "anthropic":
      throw new SpectronValidationError("models.embedding", "an embedding model (Anthropic has no embeddings API)", id);
    default:
      return createOpenAIEmbeddingModel(id, configFor(ref, providers, id), options, { provider: ref.provider, model: ref.model });
  }
}
