import OpenAI from "openai";
import type { z } from "zod";
import type { ChatCompletion, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { ProviderError } from "../errors.js";
import { estimateCostUsd } from "./pricing.js";
import type { ProviderConfig, ProviderOptions } from "./provider-config.js";
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

/**
 * Where an OpenAI-API model is served: the provider's name (`openai`, or a named OpenAI-compatible provider
 * such as `ollama`) and the model id that endpoint knows (`llama3.1` for the Spectron id `ollama:llama3.1`).
 */
export interface OpenAIEndpoint {
  provider: string;
  model: string;
}

function createClient(config: ProviderConfig, timeoutMs: number, provider: string): OpenAI {
  // Retries are ours (withRetry): the SDK's own would hide attempts and use its own backoff. The key is always
  // passed: left undefined, the SDK would read OPENAI_API_KEY and send it to whatever endpoint this is. A
  // keyless endpoint (a local Ollama) gets no Authorization header at all.
  const keyless = config.apiKey === undefined;
  return new OpenAI({
    apiKey: config.apiKey ?? "keyless",
    baseURL: config.baseURL,
    maxRetries: 0,
    timeout: timeoutMs,
    // The environment's organization and project are OpenAI's; another endpoint never sees them.
    ...(provider === "openai" ? {} : { organization: null, project: null }),
    ...(config.headers || keyless ? { defaultHeaders: { ...config.headers, ...(keyless ? { authorization: null } : {}) } } : {}),
  });
}

function label(endpoint: OpenAIEndpoint): string {
  return endpoint.provider === "openai" ? "OpenAI" : `Provider \`${endpoint.provider}\``;
}

/**
 * An OpenAI chat model answering with structured output (`response_format: json_schema`), through the
 * official SDK. A reply that does not satisfy the prompt's schema is retried once with the parse error.
 *
 * @example
 * const model = createOpenAILanguageModel("gpt-4o-mini", { apiKey }, { timeoutMs: 20_000 });
 * const { value, usage } = await model.generate(extractionPrompt, { role: "user", content, source: "turn" });
 */
export function createOpenAILanguageModel(
  id: string,
  config: ProviderConfig,
  options: ProviderOptions,
  endpoint: OpenAIEndpoint = { provider: "openai", model: id },
): LanguageModel {
  const tuning = readAdapterOptions(options);
  const client = createClient(config, tuning.timeoutMs, endpoint.provider);
  const model = endpoint.model;
  return {
    id,
    provider: endpoint.provider,
    async generate<I, O>(prompt: Prompt<I, O>, input: I, call: CallOptions = {}): Promise<GenerateResult<O>> {
      call.signal?.throwIfAborted();
      const started = performance.now();
      const ctx: FailureContext = { provider: endpoint.provider, model: id, apiKey: config.apiKey ?? "", timeoutMs: call.timeoutMs ?? tuning.timeoutMs, signal: call.signal };
      const format = openAIResponseSchema(prompt.schema);
      const base: ChatCompletionMessageParam[] = [
        { role: "system", content: prompt.system },
        { role: "user", content: prompt.render(input) },
      ];
      const result = await generateWithParseRetry<string, O>({
        provider: endpoint.provider,
        model: id,
        promptName: prompt.name,
        onRetry: call.onRetry,
        call: async (previous) => {
          const messages: ChatCompletionMessageParam[] = previous
            ? [...base, { role: "assistant", content: previous.reply }, { role: "user", content: parseRetryMessage(previous.error) }]
            : base;
          const completion = await request(ctx, tuning, call, (signal) =>
            client.chat.completions.create(
              {
                model,
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
      return { value: result.value, usage: usage(id, endpoint, result.inputTokens, result.outputTokens, started) };
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
export function createOpenAIEmbeddingModel(
  id: string,
  config: ProviderConfig,
  options: ProviderOptions,
  endpoint: OpenAIEndpoint = { provider: "openai", model: id },
): EmbeddingModel {
  const model = endpoint.model;
  const declared = config.dimensions?.[model] ?? (endpoint.provider === "openai" ? OPENAI_EMBEDDING_DIMENSIONS[model] : undefined);
  const tuning = readAdapterOptions(options);
  const client = createClient(config, tuning.timeoutMs, endpoint.provider);
  return {
    id,
    provider: endpoint.provider,
    ...(declared !== undefined ? { dimensions: declared } : {}),
    async embed(texts: readonly string[], call: CallOptions = {}) {
      call.signal?.throwIfAborted();
      const started = performance.now();
      const ctx: FailureContext = { provider: endpoint.provider, model: id, apiKey: config.apiKey ?? "", timeoutMs: call.timeoutMs ?? tuning.timeoutMs, signal: call.signal };
      // Undeclared: the first vector's dimension is the model's, and every other one must match it.
      let dimensions = declared;
      const vectors: Float32Array[] = [];
      let inputTokens = 0;
      for (let start = 0; start < texts.length; start += EMBED_BATCH) {
        const batch = texts.slice(start, start + EMBED_BATCH);
        const response = await request(ctx, tuning, call, (signal) =>
          client.embeddings.create(
            { model, input: batch, encoding_format: "float" },
            { signal, timeout: ctx.timeoutMs, maxRetries: 0 },
          ),
        );
        const data = Array.isArray(response?.data) ? [...response.data].sort((a, b) => a.index - b.index) : [];
        if (data.length !== batch.length || data.some((d, i) => d.index !== i || !Array.isArray(d.embedding))) {
          throw unexpectedShape(ctx, `${data.length} embeddings for ${batch.length} inputs`);
        }
        for (const d of data) {
          dimensions ??= d.embedding.length;
          if (d.embedding.length !== dimensions || dimensions === 0) {
            throw new ProviderError(
              endpoint.provider,
              `${label(endpoint)} returned ${d.embedding.length}-dimensional vectors for \`${id}\`, which makes ${dimensions}. ` +
                `Check that the provider's baseURL serves the real \`${model}\` (a gateway may map it to another model) and the dimension declared in \`providers.${endpoint.provider}.dimensions\`; nothing was stored.`,
              undefined,
              false,
              { cause: { expected: dimensions, received: d.embedding.length } },
            );
          }
          vectors.push(Float32Array.from(d.embedding));
        }
        inputTokens += response.usage?.prompt_tokens ?? 0;
      }
      return { vectors, usage: usage(id, endpoint, inputTokens, 0, started) };
    },
  };
}

/** One SDK request under our retry policy and deadline, every failure a scrubbed ProviderError (or the abort). */
function request<T>(
  ctx: FailureContext,
  tuning: ReturnType<typeof readAdapterOptions>,
  call: CallOptions,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const onRetry = call.onRetry;
  return withRetry(() => attemptRequest(ctx, send), { ...tuning, signal: ctx.signal, ...(onRetry ? { onRetry: () => onRetry() } : {}) });
}

function unexpectedShape(ctx: FailureContext, what: string): ProviderError {
  const who = ctx.provider === "openai" ? "OpenAI" : `Provider \`${ctx.provider}\``;
  return new ProviderError(
    ctx.provider,
    `${who} answered the request to \`${ctx.model}\` with ${what}. Check that the provider's baseURL serves the OpenAI API (for Ollama, \`http://localhost:11434/v1\`).`,
    undefined,
    false,
  );
}

function usage(id: string, endpoint: OpenAIEndpoint, inputTokens: number, outputTokens: number, started: number): ModelUsage {
  return {
    model: id,
    provider: endpoint.provider,
    inputTokens,
    outputTokens,
    latencyMs: Math.max(0, Math.round(performance.now() - started)),
    // Prices are OpenAI's list prices: another endpoint serving a model of the same name bills its own way.
    costUsd: endpoint.provider === "openai" ? estimateCostUsd(endpoint.model, inputTokens, outputTokens) : 0,
  };
}
