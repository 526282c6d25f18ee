import OpenAI from "openai";
import type { z } from "zod";
import type { ChatCompletion, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { ProviderError, SpectronValidationError } from "../errors.js";
import { estimateCostUsd } from "./pricing.js";
import type { ProviderConfig, ProviderOptions } from "./resolve.js";
import { attemptRequest, readAdapterOptions, withRetry, type FailureContext } from "./retry.js";
import { generateWithParseRetry, openAIResponseSchema, parseJsonText, parseRetryMessage, type ParseOutcome } from "./structured.js";
import type { CallOptions, EmbeddingModel, GenerateResult, LanguageModel, ModelUsage, Prompt } from "./types.js";

/** Output dimension of each OpenAI embedding model Spectron accepts. */
export const OPENAI_EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = Object.freeze({
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
});

/** Inputs per embeddings request (the API allows 2048; smaller batches stay under its token limit). */
const EMBED_BATCH = 256;

function createClient(config: ProviderConfig, timeoutMs: number): OpenAI {
  // Retries are ours (withRetry): the SDK's own would hide attempts and use its own backoff.
  return new OpenAI({ apiKey: config.apiKey, baseURL: config.baseURL, maxRetries: 0, timeout: timeoutMs });
}

/**
 * An OpenAI chat model answering with structured output (`response_format: json_schema`), through the
 * official SDK. A reply that does not satisfy the prompt's schema is retried once with the parse error.
 *
 * @example
 * const model = createOpenAILanguageModel("gpt-4o-mini", { apiKey }, { timeoutMs: 20_000 });
 * const { value, usage } = await model.generate(extractionPrompt, { role: "user", content, source: "turn" });
 */
export function createOpenAILanguageModel(id: string, config: ProviderConfig, options: ProviderOptions): LanguageModel {
  const tuning = readAdapterOptions(options);
  const client = createClient(config, tuning.timeoutMs);
  return {
    id,
    provider: "openai",
    async generate<I, O>(prompt: Prompt<I, O>, input: I, call: CallOptions = {}): Promise<GenerateResult<O>> {
      call.signal?.throwIfAborted();
      const started = performance.now();
      const ctx: FailureContext = { provider: "openai", model: id, apiKey: config.apiKey, timeoutMs: call.timeoutMs ?? tuning.timeoutMs, signal: call.signal };
      const format = openAIResponseSchema(prompt.schema);
      const base: ChatCompletionMessageParam[] = [
        { role: "system", content: prompt.system },
        { role: "user", content: prompt.render(input) },
      ];
      const result = await generateWithParseRetry<string, O>({
        provider: "openai",
        model: id,
        promptName: prompt.name,
        call: async (previous) => {
          const messages: ChatCompletionMessageParam[] = previous
            ? [...base, { role: "assistant", content: previous.reply }, { role: "user", content: parseRetryMessage(previous.error) }]
            : base;
          const completion = await request(ctx, tuning, (signal) =>
            client.chat.completions.create(
              {
                model: id,
                messages,
                response_format: {
                  type: "json_schema",
                  json_schema: { name: prompt.name, schema: format.schema, strict: format.strict },
                },
              },
              { signal, timeout: ctx.timeoutMs, maxRetries: 0 },
            ),
          );
          return readCompletion(completion, prompt.schema, ctx);
        },
      });
      return { value: result.value, usage: usage(id, result.inputTokens, result.outputTokens, started) };
    },
  };
}

function readCompletion<O>(completion: ChatCompletion, schema: z.ZodType<O>, ctx: FailureContext) {
  const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
  if (!choice?.message) throw unexpectedShape(ctx, "a chat completion without choices");
  const { content, refusal } = choice.message;
  let outcome: ParseOutcome<O>;
  if (refusal) outcome = { ok: false, error: `the model refused: ${refusal}` };
  else if (choice.finish_reason === "length") outcome = { ok: false, error: "the reply was cut off at the output token limit before the JSON was complete" };
  else outcome = parseJsonText(schema, content);
  return {
    reply: content ?? refusal ?? "",
    outcome,
    inputTokens: completion.usage?.prompt_tokens ?? 0,
    outputTokens: completion.usage?.completion_tokens ?? 0,
  };
}

/**
 * An OpenAI embedding model. Vectors come back in input order, as `Float32Array`s of the model's
 * dimension; a response of another dimension (say, a gateway serving a different model) is an error.
 *
 * @example
 * const embedder = createOpenAIEmbeddingModel("text-embedding-3-small", { apiKey }, {});
 * const { vectors } = await embedder.embed(["I'm on the Enterprise plan."]);   // vectors[0].length === 1536
 */
export function createOpenAIEmbeddingModel(id: string, config: ProviderConfig, options: ProviderOptions): EmbeddingModel {
  const dimensions = OPENAI_EMBEDDING_DIMENSIONS[id];
  if (dimensions === undefined) {
    throw new SpectronValidationError("models.embedding", `an OpenAI embedding model (${Object.keys(OPENAI_EMBEDDING_DIMENSIONS).join(", ")})`, id);
  }
  const tuning = readAdapterOptions(options);
  const client = createClient(config, tuning.timeoutMs);
  return {
    id,
    provider: "openai",
    dimensions,
    async embed(texts: readonly string[], call: CallOptions = {}) {
      call.signal?.throwIfAborted();
      const started = performance.now();
      const ctx: FailureContext = { provider: "openai", model: id, apiKey: config.apiKey, timeoutMs: call.timeoutMs ?? tuning.timeoutMs, signal: call.signal };
      const vectors: Float32Array[] = [];
      let inputTokens = 0;
      for (let start = 0; start < texts.length; start += EMBED_BATCH) {
        const batch = texts.slice(start, start + EMBED_BATCH);
        const response = await request(ctx, tuning, (signal) =>
          client.embeddings.create(
            { model: id, input: batch, encoding_format: "float" },
            { signal, timeout: ctx.timeoutMs, maxRetries: 0 },
          ),
        );
        const data = Array.isArray(response?.data) ? [...response.data].sort((a, b) => a.index - b.index) : [];
        if (data.length !== batch.length || data.some((d, i) => d.index !== i || !Array.isArray(d.embedding))) {
          throw unexpectedShape(ctx, `${data.length} embeddings for ${batch.length} inputs`);
        }
        for (const d of data) {
          if (d.embedding.length !== dimensions) {
            throw new ProviderError(
              "openai",
              `OpenAI returned ${d.embedding.length}-dimensional vectors for \`${id}\`, which makes ${dimensions}. ` +
                `Check that the provider's baseURL serves the real \`${id}\` (a gateway may map it to another model); nothing was stored.`,
              undefined,
              false,
              { cause: { expected: dimensions, received: d.embedding.length } },
            );
          }
          vectors.push(Float32Array.from(d.embedding));
        }
        inputTokens += response.usage?.prompt_tokens ?? 0;
      }
      return { vectors, usage: usage(id, inputTokens, 0, started) };
    },
  };
}

/** One SDK request under our retry policy and deadline, every failure a scrubbed ProviderError (or the abort). */
function request<T>(ctx: FailureContext, tuning: ReturnType<typeof readAdapterOptions>, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withRetry(() => attemptRequest(ctx, send), { ...tuning, signal: ctx.signal });
}

function unexpectedShape(ctx: FailureContext, what: string): ProviderError {
  return new ProviderError(
    "openai",
    `OpenAI answered the request to \`${ctx.model}\` with ${what}. Check that the provider's baseURL serves the OpenAI API.`,
    undefined,
    false,
  );
}

function usage(model: string, inputTokens: number, outputTokens: number, started: number): ModelUsage {
  return {
    model,
    provider: "openai",
    inputTokens,
    outputTokens,
    latencyMs: Math.max(0, Math.round(performance.now() - started)),
    costUsd: estimateCostUsd(model, inputTokens, outputTokens),
  };
}
