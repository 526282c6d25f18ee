import type { z } from "zod";

export const STAGES = [
  "extraction",
  "query_understanding",
  "response",
  "reflection",
  "background",
  "embedding",
] as const;
export type Stage = (typeof STAGES)[number];
/**
 * The provider that serves a model: `"openai"`, `"anthropic"`, `"local"`, the name of an OpenAI-compatible
 * provider configured with a `baseURL` (`"ollama"`, `"openrouter"`, …), or what a model object says it is.
 */
export type ProviderName = string;

export interface CallOptions {
  signal?: AbortSignal;
  /** Per-call timeout in milliseconds (real providers). */
  timeoutMs?: number;
  /** Called before each retry of a failed attempt (429, 5xx, timeout, network), for usage counts. */
  onRetry?: () => void;
}

/** What one model call cost. Recorded on traces and summed per stage. */
export interface ModelUsage {
  model: string;
  provider: ProviderName;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  /** Estimated cost in US dollars (0 for local models). */
  costUsd: number;
}

/**
 * A versioned prompt: the system text, how to render the task input into the user message, and the zod
 * schema its reply must satisfy. One file per task under models/prompts/.
 */
export interface Prompt<I, O> {
  readonly name: TaskName;
  readonly version: number;
  readonly system: string;
  render(input: I): string;
  readonly schema: z.ZodType<O>;
}

export type TaskName = "extraction" | "query_understanding" | "response" | "reflection" | "background" | "elaboration" | "synthesis";

export interface GenerateResult<O> {
  value: O;
  usage: ModelUsage;
}

/**
 * A chat model that answers a prompt with structured output matching `prompt.schema`. Real providers send
 * the rendered prompt; the local provider runs its rule-based implementation of the task on `input`.
 * A reply that does not satisfy the schema is an error, never a partial value.
 */
export interface LanguageModel {
  readonly id: string;
  readonly provider: ProviderName;
  generate<I, O>(prompt: Prompt<I, O>, input: I, options?: CallOptions): Promise<GenerateResult<O>>;
}

/**
 * An embedding model. `dimensions` is declared when known; when absent it is discovered from the first reply
 * (and from the vectors the model has stored), and every later reply must match it.
 */
export interface EmbeddingModel {
  readonly id: string;
  readonly provider: ProviderName;
  readonly dimensions?: number;
  embed(texts: readonly string[], options?: CallOptions): Promise<{ vectors: Float32Array[]; usage: ModelUsage }>;
}
