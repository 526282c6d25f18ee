import type { Core } from "../../core.js";
import { SpectronError } from "../../errors.js";
import { classifyQuery } from "../../models/local/query-classifier.js";
import { LOCAL_LANGUAGE_MODEL_ID } from "../../models/local/language-model.js";
import { queryUnderstandingPrompt, type QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import { isAbortError } from "../../models/retry.js";
import type { ModelUsage } from "../../models/types.js";

/** What query understanding uses: its stage's model, and the logger for a fallback. */
export type UnderstandDeps = Pick<Core, "models" | "logger">;

/** A query-understanding model call that failed, and what answered instead. Written on the retrieval trace. */
export interface UnderstandingFallback {
  /** The model whose call failed. */
  failed_model: string;
  /** The rule classifier that answered instead. */
  model: string;
  error: { name: string; code: string; message: string };
}

export interface Understanding {
  value: QueryUnderstanding;
  /** The model call's usage, or the rule classifier's (no tokens, no cost) after a failure. */
  usage: ModelUsage;
  fallback?: UnderstandingFallback;
}

/**
 * Query understanding for recall and reflect. It only steers retrieval (which type of question, which
 * subjects and keywords), so a failed call (after its retries) does not fail the read: the rule classifier
 * answers instead, the failure is counted in `usage()` and logged, and the retrieval trace records it. An
 * abort is the caller's and is rethrown.
 */
export async function understandQuery(core: UnderstandDeps, query: string, signal?: AbortSignal): Promise<Understanding> {
  const model = core.models.model("query_understanding");
  try {
    const qu = await model.generate(queryUnderstandingPrompt, { query }, signal ? { signal } : {});
    core.models.recordUsage("query_understanding", qu.usage);
    return qu;
  } catch (error) {
    if (signal?.aborted || isAbortError(error)) throw error;
    const started = performance.now();
    const value = classifyQuery(query);
    const e = error instanceof Error ? error : new Error(String(error));
    const fallback: UnderstandingFallback = {
      failed_model: model.id,
      model: LOCAL_LANGUAGE_MODEL_ID,
      error: { name: e.name, code: error instanceof SpectronError ? error.code : "unknown", message: e.message.slice(0, 500) },
    };
    core.logger.warn("Query understanding failed; the rule classifier answered instead", { model: model.id, error: fallback.error.message });
    const usage: ModelUsage = {
      model: LOCAL_LANGUAGE_MODEL_ID,
      provider: "local",
      inputTokens: 0,
      outputTokens: 0,
      latencyMs: Math.max(0, Math.round(performance.now() - started)),
      costUsd: 0,
    };
    return { value, usage, fallback };
  }
}
