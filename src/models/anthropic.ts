import Anthropic from "@anthropic-ai/sdk";
import { ProviderError } from "../errors.js";
import { estimateCostUsd } from "./pricing.js";
import type { ProviderConfig, ProviderOptions } from "./provider-config.js";
import { attemptRequest, readAdapterOptions, withRetry, type FailureContext } from "./retry.js";
import { generateWithParseRetry, jsonSchemaOf, parseRetryMessage, parseStructured, type ParseOutcome } from "./structured.js";
import type { CallOptions, GenerateResult, LanguageModel, Prompt } from "./types.js";

/** Room for the largest structured reply (an extraction of a long turn) without inviting rambling. */
const MAX_TOKENS = 2048;

/**
 * An Anthropic model answering with structured output: one tool whose `input_schema` is the prompt's
 * schema, forced with `tool_choice`. A tool input that does not satisfy the schema is sent back once as an
 * error `tool_result`; a second bad reply is a `ProviderError`.
 *
 * @example
 * const model = createAnthropicLanguageModel("claude-3-5-haiku-latest", { apiKey }, {});
 * const { value } = await model.generate(queryUnderstandingPrompt, { query: "which plan am I on?" });
 */
export function createAnthropicLanguageModel(id: string, config: ProviderConfig, options: ProviderOptions, model: string = id): LanguageModel {
  const tuning = readAdapterOptions(options);
  // authToken: null keeps ANTHROPIC_AUTH_TOKEN from the environment out of requests made with our key.
  const client = new Anthropic({ apiKey: config.apiKey ?? "", authToken: null, baseURL: config.baseURL, maxRetries: 0, timeout: tuning.timeoutMs });
  return {
    id,
    provider: "anthropic",
    async generate<I, O>(prompt: Prompt<I, O>, input: I, call: CallOptions = {}): Promise<GenerateResult<O>> {
      call.signal?.throwIfAborted();
      const started = performance.now();
      const ctx: FailureContext = { provider: "anthropic", model: id, apiKey: config.apiKey ?? "", timeoutMs: call.timeoutMs ?? tuning.timeoutMs, signal: call.signal };
      const tool: Anthropic.Tool = {
        name: prompt.name,
        description: `Record the ${prompt.name.replace(/_/g, " ")} result. The input must match this schema exactly.`,
        input_schema: jsonSchemaOf(prompt.schema) as Anthropic.Tool.InputSchema,
      };
      const base: Anthropic.MessageParam[] = [{ role: "user", content: prompt.render(input) }];
      const result = await generateWithParseRetry<Anthropic.Message, O>({
        provider: "anthropic",
        model: id,
        promptName: prompt.name,
        call: async (previous) => {
          const messages = previous ? [...base, ...followUp(previous.reply, prompt.name, previous.error)] : base;
          const message = await withRetry(
            () =>
              attemptRequest(ctx, (signal) =>
                client.messages.create(
                  { model, max_tokens: MAX_TOKENS, system: prompt.system, messages, tools: [tool], tool_choice: { type: "tool", name: tool.name } },
                  { signal, timeout: ctx.timeoutMs, maxRetries: 0 },
                ),
              ),
            { ...tuning, signal: call.signal },
          );
          if (!Array.isArray(message?.content)) {
            throw new ProviderError(
              "anthropic",
              `Anthropic answered the request to \`${id}\` with something other than a message. Check that the provider's baseURL serves the Anthropic API.`,
              undefined,
              false,
            );
          }
          const u = message.usage;
          return {
            reply: message,
            outcome: readToolInput(message, prompt),
            inputTokens: (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0),
            outputTokens: u?.output_tokens ?? 0,
          };
        },
      });
      const { inputTokens, outputTokens } = result;
      return {
        value: result.value,
        usage: {
          model: id,
          provider: "anthropic",
          inputTokens,
          outputTokens,
          latencyMs: Math.max(0, Math.round(performance.now() - started)),
          costUsd: estimateCostUsd(model, inputTokens, outputTokens),
        },
      };
    },
  };
}

function toolUseOf(message: Anthropic.Message, name: string): Anthropic.ToolUseBlock | undefined {
  return message.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use" && b.name === name);
}

function readToolInput<O>(message: Anthropic.Message, prompt: Prompt<unknown, O>): ParseOutcome<O> {
  const block = toolUseOf(message, prompt.name);
  if (!block) return { ok: false, error: `the reply did not call the \`${prompt.name}\` tool; call it with input matching its schema` };
  const outcome = parseStructured(prompt.schema, block.input);
  if (!outcome.ok && message.stop_reason === "max_tokens") {
    return { ok: false, error: `the reply was cut off at the output token limit; ${outcome.error}` };
  }
  return outcome;
}

/**
 * The turns that tell the model what was wrong: its own reply, then the parse error as an error
 * `tool_result` for its tool call (or as plain text when it did not call the tool).
 */
function followUp(reply: Anthropic.Message, toolName: string, error: string): Anthropic.MessageParam[] {
  const echoed: Anthropic.ContentBlockParam[] = [];
  for (const block of reply.content) {
    if (block.type === "text" && block.text.trim() !== "") echoed.push({ type: "text", text: block.text });
    else if (block.type === "tool_use") echoed.push({ type: "tool_use", id: block.id, name: block.name, input: block.input });
  }
  const toolUses = echoed.filter((b): b is Anthropic.ToolUseBlockParam => b.type === "tool_use");
  const text = parseRetryMessage(error);
  if (toolUses.length === 0) {
    return [
      { role: "assistant", content: echoed.length > 0 ? echoed : [{ type: "text", text: "(no reply)" }] },
      { role: "user", content: `${text}\nCall the \`${toolName}\` tool.` },
    ];
  }
  // Every tool_use needs a tool_result in the next user turn; each carries the parse error.
  return [
    { role: "assistant", content: echoed },
    { role: "user", content: toolUses.map((b) => ({ type: "tool_result" as const, tool_use_id: b.id, is_error: true, content: text })) },
  ];
}
