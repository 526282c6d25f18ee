import { ProviderError } from "../errors.js";
import { readAdapterOptions, redact, withRetry } from "./retry.js";
import { generateWithParseRetry, jsonSchemaOf, parseJsonText, parseRetryMessage, type ParseOutcome } from "./structured.js";
import type { ProviderOptions } from "./provider-config.js";
import type { CallOptions, EmbeddingModel, GenerateResult, LanguageModel, Prompt } from "./types.js";

/*
 * Vercel AI SDK model objects used as a stage's model. The shapes below are the parts of `LanguageModelV3` and
 * `EmbeddingModelV3` (from `@ai-sdk/provider`) that Spectron calls, written out so that the main entry needs
 * neither `ai` nor `@ai-sdk/provider` installed: any object of the AI SDK's type is one of these.
 */

/** The part of an AI SDK `LanguageModelV3` Spectron uses: `doGenerate` with a JSON response format. */
export interface AISdkLanguageModel {
  readonly specificationVersion: "v3";
  readonly provider: string;
  readonly modelId: string;
  doGenerate(options: {
    prompt: (
      | { role: "system"; content: string }
      | { role: "user"; content: { type: "text"; text: string }[] }
      | { role: "assistant"; content: { type: "text"; text: string }[] }
    )[];
    responseFormat?: { type: "json"; schema?: object; name?: string; description?: string };
    abortSignal?: AbortSignal;
  }): PromiseLike<{
    content: readonly ({ type: string } & { text?: string })[];
    finishReason: { unified: string } | string;
    usage: { inputTokens: { total: number | undefined } | number | undefined; outputTokens: { total: number | undefined } | number | undefined };
  }>;
}

/** The part of an AI SDK `EmbeddingModelV3` Spectron uses. */
export interface AISdkEmbeddingModel {
  readonly specificationVersion: "v3";
  readonly provider: string;
  readonly modelId: string;
  readonly maxEmbeddingsPerCall: PromiseLike<number | undefined> | number | undefined;
  doEmbed(options: { values: string[]; abortSignal?: AbortSignal }): PromiseLike<{ embeddings: number[][]; usage?: { tokens: number } }>;
}

export function isAISdkLanguageModel(value: unknown): value is AISdkLanguageModel {
  const v = value as Partial<AISdkLanguageModel> | null;
  return typeof v === "object" && v !== null && v.specificationVersion === "v3" && typeof v.doGenerate === "function" && typeof v.modelId === "string" && typeof v.provider === "string";
}

export function isAISdkEmbeddingModel(value: unknown): value is AISdkEmbeddingModel {
  const v = value as Partial<AISdkEmbeddingModel> | null;
  return typeof v === "object" && v !== null && v.specificationVersion === "v3" && typeof v.doEmbed === "function" && typeof v.modelId === "string" && typeof v.provider === "string";
}

/** Inputs per `doEmbed` call when the model does not say. */
const EMBED_BATCH = 256;

/**
 * An AI SDK language model as a Spectron `LanguageModel`: the prompt goes out as a system and a user message
 * with `responseFormat: { type: "json", schema }`, the reply's text is parsed against the prompt's schema
 * (retried once with the parse error), and failures the AI SDK marks `isRetryable` are retried with backoff.
 *
 * @example
 * import { openai } from "@ai-sdk/openai";
 * new Spectron({ context: "app", models: { response: openai("gpt-4o-mini") } });
 */
export function fromAISdkLanguageModel(model: AISdkLanguageModel, id: string, options: ProviderOptions = {}): LanguageModel {
  const tuning = readAdapterOptions(options);
  return {
    id,
    provider: model.provider,
    async generate<I, O>(prompt: Prompt<I, O>, input: I, call: CallOptions = {}): Promise<GenerateResult<O>> {
      call.signal?.throwIfAborted();
      const started = performance.now();
      const system = { role: "system" as const, content: prompt.system };
      const user = { role: "user" as const, content: [{ type: "text" as const, text: prompt.render(input) }] };
      const responseFormat = { type: "json" as const, schema: jsonSchemaOf(prompt.schema), name: prompt.name };
      const result = await generateWithParseRetry<string, O>({
        provider: model.provider,
        model: id,
        promptName: prompt.name,
        onRetry: call.onRetry,
        call: async (previous) => {
          const messages = previous
            ? [
                system,
                user,
                { role: "assistant" as const, content: [{ type: "text" as const, text: previous.reply }] },
                { role: "user" as const, content: [{ type: "text" as const, text: parseRetryMessage(previous.error) }] },
              ]
            : [system, user];
          const reply = await attempt(model.provider, id, tuning, call, (signal) =>
            model.doGenerate({ prompt: messages, responseFormat, abortSignal: signal }),
          );
          const text = reply.content
            .filter((part) => part.type === "text" && typeof part.text === "string")
            .map((part) => part.text)
            .join("");
          const finish = typeof reply.finishReason === "string" ? reply.finishReason : reply.finishReason?.unified;
          const outcome: ParseOutcome<O> =
            finish === "length" ? { ok: false, error: "the reply was cut off at the output token limit before the JSON was complete" } : parseJsonText(prompt.schema, text);
          return { reply: text, outcome, inputTokens: tokens(reply.usage?.inputTokens), outputTokens: tokens(reply.usage?.outputTokens) };
        },
      });
      return {
        value: result.value,
        usage: {
          model: id,
          provider: model.provider,
          inputTokens: result.inputTokens,
          outputTokens: result.outputTokens,
          latencyMs: Math.max(0, Math.round(performance.now() - started)),
          // The AI SDK reports tokens, not prices, and the provider behind it may be any vendor.
          costUsd: 0,
        },
      };
    },
  };
}

/**
 * An AI SDK embedding model as a Spectron `EmbeddingModel`. The AI SDK does not declare a dimension: pass
 * `dimensions` to declare it, or it is discovered from the first reply.
 */
export function fromAISdkEmbeddingModel(model: AISdkEmbeddingModel, id: string, options: ProviderOptions = {}, dimensions?: number): EmbeddingModel {
  const tuning = readAdapterOptions(options);
  return {
    id,
    provider: model.provider,
    ...(dimensions !== undefined ? { dimensions } : {}),
    async embed(texts: readonly string[], call: CallOptions = {}) {
      call.signal?.throwIfAborted();
      const started = performance.now();
      const limit = await model.maxEmbeddingsPerCall;
      const batchSize = typeof limit === "number" && limit > 0 ? Math.min(limit, EMBED_BATCH) : EMBED_BATCH;
      const vectors: Float32Array[] = [];
      let inputTokens = 0;
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize);
        const reply = await attempt(model.provider, id, tuning, call, (signal) => model.doEmbed({ values: batch, abortSignal: signal }));
        if (!Array.isArray(reply?.embeddings) || reply.embeddings.length !== batch.length || reply.embeddings.some((e) => !Array.isArray(e) || e.length === 0)) {
          throw new ProviderError(model.provider, `The AI SDK model \`${id}\` answered ${batch.length} inputs with something other than ${batch.length} embeddings.`, undefined, false);
        }
        for (const e of reply.embeddings) vectors.push(Float32Array.from(e));
        inputTokens += reply.usage?.tokens ?? 0;
      }
      return {
        vectors,
        usage: { model: id, provider: model.provider, inputTokens, outputTokens: 0, latencyMs: Math.max(0, Math.round(performance.now() - started)), costUsd: 0 },
      };
    },
  };
}

function tokens(value: { total: number | undefined } | number | undefined): number {
  const n = typeof value === "number" ? value : value?.total;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * One AI SDK call under Spectron's retry policy and deadline. The AI SDK's own `APICallError` says whether it
 * is retryable (`isRetryable`) and its `statusCode`; anything else it throws is not retried.
 */
async function attempt<T>(
  provider: string,
  id: string,
  tuning: ReturnType<typeof readAdapterOptions>,
  call: CallOptions,
  send: (signal: AbortSignal) => PromiseLike<T>,
): Promise<T> {
  const timeoutMs = call.timeoutMs ?? tuning.timeoutMs;
  const onRetry = call.onRetry;
  return withRetry(
    async () => {
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new DOMException(`No answer within ${timeoutMs} ms.`, "TimeoutError")), timeoutMs);
      const signal = call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal;
      try {
        return await send(signal);
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason;
        throw toProviderError(error, provider, id, deadline.signal.aborted ? timeoutMs : undefined);
      } finally {
        clearTimeout(timer);
      }
    },
    { ...tuning, ...(call.signal ? { signal: call.signal } : {}), ...(onRetry ? { onRetry: () => onRetry() } : {}) },
  );
}

function toProviderError(error: unknown, provider: string, id: string, timedOutAfterMs: number | undefined): ProviderError {
  if (error instanceof ProviderError) return error;
  if (timedOutAfterMs !== undefined) {
    return new ProviderError(provider, `The AI SDK model \`${id}\` did not answer within ${timedOutAfterMs} ms. Raise \`timeoutMs\` in the \`provider\` options.`, undefined, true);
  }
  const e = (error ?? {}) as { message?: unknown; statusCode?: unknown; isRetryable?: unknown; name?: unknown };
  const status = typeof e.statusCode === "number" ? e.statusCode : undefined;
  const reason = redact(String(typeof e.message === "string" ? e.message : error)).replace(/\s+/g, " ").slice(0, 200);
  return new ProviderError(
    provider,
    `The AI SDK model \`${id}\` failed${status !== undefined ? ` with HTTP ${status}` : ""}: ${reason}. Check the model object's provider settings (key, baseURL, model id).`,
    status,
    e.isRetryable === true,
    { cause: { name: typeof e.name === "string" ? e.name : "Error", ...(status !== undefined ? { status } : {}) } },
  );
}
