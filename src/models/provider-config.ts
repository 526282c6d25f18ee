/**
 * A provider's connection. OpenAI and Anthropic need `apiKey` (and take `baseURL` for gateways and the tests'
 * fake server); a named OpenAI-compatible provider (`ollama`, `openrouter`, `groq`, an Azure resource, …)
 * needs `baseURL`, and `apiKey` only when its endpoint asks for one.
 */
export interface ProviderConfig {
  apiKey?: string;
  baseURL?: string;
  /**
   * Output dimension of this provider's embedding models, by model id (`{ "nomic-embed-text": 768 }`). A model
   * not listed here has its dimension discovered from its first reply (and the vectors it has stored).
   */
  dimensions?: Readonly<Record<string, number>>;
  /** Extra HTTP headers sent with every request (OpenRouter's `HTTP-Referer`, a gateway's routing header). */
  headers?: Readonly<Record<string, string>>;
}

/** Provider connections by name: `openai`, `anthropic`, and any named OpenAI-compatible provider. */
export type ProviderConfigs = { openai?: ProviderConfig; anthropic?: ProviderConfig } & { [name: string]: ProviderConfig | undefined };

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
