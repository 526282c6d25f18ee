import { SpectronValidationError, ProviderError } from "../errors.js";
import { createAnthropicLanguageModel } from "./anthropic.js";
import { createLocalEmbeddingModel, createLocalLanguageModel } from "./local/index.js";
import { createOpenAIEmbeddingModel, createOpenAILanguageModel, OPENAI_EMBEDDING_DIMENSIONS } from "./openai.js";
import type { EmbeddingModel, LanguageModel, ProviderName, Stage } from "./types.js";

/** A provider's connection: the key, and a base URL for gateways (and the tests' fake server). */
export interface ProviderConfig {
  apiKey: string;
  baseURL?: string;
}

export type ProviderConfigs = Partial<Record<Exclude<ProviderName, "local">, ProviderConfig>>;

/** Tuning shared by the real providers. */
export interface ProviderOptions {
  /** Per-call timeout in ms. @default 30000 */
  timeoutMs?: number;
  /** Retries of 429/5xx/network errors. @default 3 */
  maxRetries?: number;
  /** First backoff in ms (exponential with full jitter). @default 250 */
  retryBaseMs?: number;
  /** Longest backoff in ms. @default 8000 */
  retryCapMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

const OPENAI_EMBEDDINGS: Readonly<Record<string, number>> = OPENAI_EMBEDDING_DIMENSIONS;

const LOCAL_HASH = /^local:hash-(\d+)$/;

/** The one place a model id picks its provider. Unknown ids return undefined (the caller rejects them). */
export function providerOf(id: string): ProviderName | undefined {
  if (id.startsWith("local:")) return "local";
  if (/^(gpt-|o1|o3|o4|chatgpt-|text-embedding-)/.test(id)) return "openai";
  if (id.startsWith("claude-")) return "anthropic";
  return undefined;
}

/**
 * Checks that `id` can serve `stage`, returning a reason when it cannot. Used by config validation so that a
 * bad assignment is rejected before anything is stored.
 */
export function checkModelForStage(stage: Stage, id: string): string | undefined {
  const provider = providerOf(id);
  if (!provider) {
    return `a model id of a known provider ("gpt-*", "o1*"/"o3*"/"o4*", "text-embedding-*" for OpenAI, "claude-*" for Anthropic, "local:*" offline)`;
  }
  if (stage === "embedding") {
    if (provider === "anthropic") return `an embedding model (Anthropic has no embeddings API; use "text-embedding-3-small" or "local:hash-384")`;
    if (provider === "openai" && !(id in OPENAI_EMBEDDINGS)) return `an OpenAI embedding model (${Object.keys(OPENAI_EMBEDDINGS).join(", ")})`;
    if (provider === "local") {
      const m = LOCAL_HASH.exec(id);
      const dim = m ? Number(m[1]) : NaN;
      if (!(dim >= 64 && dim <= 4096)) return `"local:hash-<dim>" with dim between 64 and 4096, such as "local:hash-384"`;
    }
    return undefined;
  }
  if (provider === "openai" && id.startsWith("text-embedding-")) return `a chat model for stage ${stage}, not an embedding model`;
  if (provider === "local" && id !== "local:rules") return `"local:rules" (the offline rule-based model) for stage ${stage}`;
  return undefined;
}

/** The dimension of an embedding model's vectors. */
export function embeddingDimensions(id: string): number {
  const m = LOCAL_HASH.exec(id);
  if (m) return Number(m[1]);
  const dim = OPENAI_EMBEDDINGS[id];
  if (dim === undefined) throw new SpectronValidationError("models.embedding", "a known embedding model", id);
  return dim;
}

function configFor(provider: "openai" | "anthropic", providers: ProviderConfigs, model: string): ProviderConfig {
  const config = providers[provider];
  if (!config) {
    throw new ProviderError(
      provider,
      `Model \`${model}\` needs an ${provider === "openai" ? "OpenAI" : "Anthropic"} key, and none is configured. ` +
        `Pass \`providers: { ${provider}: "<key>" }\` to \`new Spectron()\` or call \`memory.config.providers({ ${provider}: "<key>" })\`.`,
      undefined,
      false,
    );
  }
  return config;
}

export function createLanguageModel(id: string, providers: ProviderConfigs, options: ProviderOptions = {}): LanguageModel {
  switch (providerOf(id)) {
    case "local":
      return createLocalLanguageModel(id);
    case "openai":
      return createOpenAILanguageModel(id, configFor("openai", providers, id), options);
    case "anthropic":
      return createAnthropicLanguageModel(id, configFor("anthropic", providers, id), options);
    default:
      throw new SpectronValidationError("model", "a known model id", id);
  }
}

export function createEmbeddingModel(id: string, providers: ProviderConfigs, options: ProviderOptions = {}): EmbeddingModel {
  switch (providerOf(id)) {
    case "local":
      return createLocalEmbeddingModel(id);
    case "openai":
      return createOpenAIEmbeddingModel(id, configFor("openai", providers, id), options);
    default:
      throw new SpectronValidationError("models.embedding", "an embedding model id", id);
  }
}
