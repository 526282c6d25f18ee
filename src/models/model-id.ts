/**
 * Model ids name their provider: `openai:<id>`, `anthropic:<id>`, `local:<id>`, or `<provider>:<id>` for an
 * OpenAI-compatible provider configured with a `baseURL` (`ollama:llama3.1`,
 * `openrouter:meta-llama/llama-3.1-8b-instruct`). Bare OpenAI and Anthropic ids (`gpt-4o-mini`,
 * `text-embedding-3-small`, `claude-3-5-haiku-latest`) keep working. The id after the prefix is the
 * provider's own, passed through unchecked: the provider decides whether it exists.
 */
export interface ModelRef {
  /** `openai`, `anthropic`, `local`, or a configured provider's name. */
  provider: string;
  /** The id the provider knows (`llama3.1` for `ollama:llama3.1`; `gpt-4o-mini` for itself). */
  model: string;
  /** Whether the id was written without a prefix (`gpt-4o-mini`). */
  bare: boolean;
}

/** A provider name as written before the first `:` of an id (and as a key of `providers`). */
export const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

const BARE_OPENAI = /^(gpt-|o1|o3|o4|chatgpt-|text-embedding-)/;

export const MODEL_ID_EXPECTED =
  'a model id that names its provider ("openai:<id>", "anthropic:<id>", "local:rules", or "<provider>:<id>" for a provider configured with a baseURL, such as "ollama:llama3.1"), or a bare "gpt-*", "o1*"/"o3*"/"o4*", "text-embedding-*" or "claude-*" id';

/** The provider and provider-side id of `id`, or undefined when it names no provider. */
export function parseModelId(id: string): ModelRef | undefined {
  const colon = id.indexOf(":");
  if (colon > 0) {
    const provider = id.slice(0, colon);
    const model = id.slice(colon + 1);
    if (PROVIDER_NAME.test(provider) && model.length > 0 && model.trim() === model) return { provider, model, bare: false };
    return undefined;
  }
  if (BARE_OPENAI.test(id)) return { provider: "openai", model: id, bare: true };
  if (id.startsWith("claude-")) return { provider: "anthropic", model: id, bare: true };
  return undefined;
}

/** The provider of `id`, or undefined when it names none. */
export function providerOf(id: string): string | undefined {
  return parseModelId(id)?.provider;
}
