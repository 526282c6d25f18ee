import { ProviderError } from "../errors.js";
import { isAbortError } from "./retry.js";
import type { EmbeddingModel, LanguageModel, ModelUsage, Stage } from "./types.js";

/** What one stage's model calls cost so far (`memory.usage()`). */
export interface StageUsage {
  /** Calls made, successful or not (a call's retries are part of it, not calls of their own). */
  calls: number;
  /** Calls that failed after their retries (aborted calls are not counted). */
  failures: number;
  /** Retries: of a 429, 5xx, timeout or network error, and of a reply that did not parse. */
  retries: number;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
  cost_usd: number;
}

/** Per-stage counters, summed over the life of an instance. */
export class UsageCounters {
  readonly byStage = new Map<Stage, StageUsage>();

  private of(stage: Stage): StageUsage {
    let s = this.byStage.get(stage);
    if (!s) this.byStage.set(stage, (s = { calls: 0, failures: 0, retries: 0, input_tokens: 0, output_tokens: 0, latency_ms: 0, cost_usd: 0 }));
    return s;
  }

  /** A successful call's usage. */
  record(stage: Stage, usage: ModelUsage): void {
    const s = this.of(stage);
    s.calls += 1;
    s.input_tokens += usage.inputTokens;
    s.output_tokens += usage.outputTokens;
    s.latency_ms += usage.latencyMs;
    s.cost_usd += usage.costUsd;
  }

  failure(stage: Stage): void {
    const s = this.of(stage);
    s.calls += 1;
    s.failures += 1;
  }

  retry(stage: Stage): void {
    this.of(stage).retries += 1;
  }
}

/**
 * `model` as one stage calls it: retries and failures counted for `stage` (successes are recorded by the
 * caller with the call's usage). An abort is the caller's doing, not a failure.
 */
export function countedLanguageModel(model: LanguageModel, stage: Stage, counters: UsageCounters): LanguageModel {
  return {
    id: model.id,
    provider: model.provider,
    async generate(prompt, input, options = {}) {
      try {
        return await model.generate(prompt, input, { ...options, onRetry: () => (counters.retry(stage), options.onRetry?.()) });
      } catch (error) {
        if (!(isAbortError(error) || options.signal?.aborted)) counters.failure(stage);
        throw error;
      }
    },
  };
}

/**
 * An embedding model with its failures and retries counted, whose replies are checked against its dimension:
 * the declared one, or else the one `known()` reports (discovered earlier, or read from stored vectors), or
 * else the first reply's, which `discovered` records.
 */
export function countedEmbeddingModel(
  model: EmbeddingModel,
  counters: UsageCounters,
  dimension: { known(): number | undefined; discovered(dim: number): void },
): EmbeddingModel {
  return {
    id: model.id,
    provider: model.provider,
    ...(model.dimensions !== undefined ? { dimensions: model.dimensions } : {}),
    async embed(texts, options = {}) {
      let result: Awaited<ReturnType<EmbeddingModel["embed"]>>;
      try {
        result = await model.embed(texts, { ...options, onRetry: () => (counters.retry("embedding"), options.onRetry?.()) });
      } catch (error) {
        if (!(isAbortError(error) || options.signal?.aborted)) counters.failure("embedding");
        throw error;
      }
      const expected = model.dimensions ?? dimension.known();
      const got = result.vectors[0]?.length;
      const bad = result.vectors.find((v) => v.length !== (expected ?? got) || v.length === 0);
      if (result.vectors.length !== texts.length || bad) {
        counters.failure("embedding");
        throw new ProviderError(
          model.provider,
          `The embedding model \`${model.id}\` returned ${bad ? `${bad.length}-dimensional vectors where ${expected ?? got} were expected` : `${result.vectors.length} vectors for ${texts.length} inputs`}. ` +
            `Check that it is the model this Context's vectors were made with (or run knowledge.reindex() after changing it); nothing was stored.`,
          undefined,
          false,
        );
      }
      if (expected === undefined && got !== undefined) dimension.discovered(got);
      return result;
    },
  };
}
