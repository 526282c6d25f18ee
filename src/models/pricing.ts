/**
 * Estimated list prices in US dollars per one million tokens, used for `ModelUsage.costUsd`. They are
 * estimates for traces and budgets, not invoices: providers change prices, and cached or batched tokens are
 * billed differently. Unknown models cost 0 rather than a guess.
 */
export interface ModelPrice {
  /** Dollars per 1M input (prompt) tokens. */
  readonly input: number;
  /** Dollars per 1M output (completion) tokens; 0 for embedding models. */
  readonly output: number;
}

const PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  // OpenAI chat models
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "chatgpt-4o": { input: 5, output: 15 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4-turbo": { input: 10, output: 30 },
  "gpt-4": { input: 30, output: 60 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
  "gpt-5": { input: 1.25, output: 10 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  o1: { input: 15, output: 60 },
  "o1-mini": { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  "o3-mini": { input: 1.1, output: 4.4 },
  "o4-mini": { input: 1.1, output: 4.4 },
  // OpenAI embedding models
  "text-embedding-3-small": { input: 0.02, output: 0 },
  "text-embedding-3-large": { input: 0.13, output: 0 },
  "text-embedding-ada-002": { input: 0.1, output: 0 },
  // Anthropic
  "claude-3-haiku": { input: 0.25, output: 1.25 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },
  "claude-haiku-4-5": { input: 1, output: 5 },
  "claude-3-sonnet": { input: 3, output: 15 },
  "claude-3-5-sonnet": { input: 3, output: 15 },
  "claude-3-7-sonnet": { input: 3, output: 15 },
  "claude-sonnet-4": { input: 3, output: 15 },
  "claude-sonnet-4-0": { input: 3, output: 15 },
  "claude-sonnet-4-5": { input: 3, output: 15 },
  "claude-3-opus": { input: 15, output: 75 },
  "claude-opus-4": { input: 15, output: 75 },
  "claude-opus-4-0": { input: 15, output: 75 },
  "claude-opus-4-1": { input: 15, output: 75 },
  "claude-opus-4-5": { input: 5, output: 25 },
});

/** Version suffixes that do not change the price: `-latest`, `-20241022`, `-2024-07-18`. */
const VERSION_SUFFIX = /-(?:latest|\d{8}|\d{4}-\d{2}-\d{2})$/;

/**
 * The estimated price of `model`, or undefined when it is not known. Dated snapshots and `-latest` aliases
 * resolve to their family (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).
 *
 * @example priceOf("claude-3-5-haiku-latest") // { input: 0.8, output: 4 }
 */
export function priceOf(model: string): ModelPrice | undefined {
  return PRICES[model] ?? PRICES[model.replace(VERSION_SUFFIX, "")];
}

/**
 * Estimated cost in US dollars of one call; 0 for unknown models and for non-finite token counts.
 *
 * @example estimateCostUsd("gpt-4o-mini", 1000, 200) // 0.00027
 */
export function estimateCostUsd(model: string, inputTokens: number, outputTokens: number): number {
  const price = priceOf(model);
  if (!price) return 0;
  const input = Number.isFinite(inputTokens) && inputTokens > 0 ? inputTokens : 0;
  const output = Number.isFinite(outputTokens) && outputTokens > 0 ? outputTokens : 0;
  return (input * price.input + output * price.output) / 1_000_000;
}
