import { SpectronValidationError } from "../../errors.js";
import type { CallOptions, GenerateResult, LanguageModel, Prompt, TaskName } from "../types.js";
import { composeResponse } from "./composer.js";
import { consolidate } from "./consolidator.js";
import { elaborate } from "./elaborator.js";
import { extract } from "./extractor.js";
import { classifyQuery } from "./query-classifier.js";
import { reflect, reflectBatch } from "./reflector.js";
import { countWords } from "./text.js";
import type { BackgroundInput } from "../prompts/background.js";
import type { ElaborationInput } from "../prompts/elaboration.js";
import type { ExtractionInput } from "../prompts/extraction.js";
import type { ExtractionBatchInput } from "../prompts/extraction-batch.js";
import type { QueryUnderstandingInput } from "../prompts/query-understanding.js";
import type { BatchReflectionInput, ReflectionInput } from "../prompts/reflection.js";
import type { ResponseInput } from "../prompts/response.js";
import type { SynthesisInput } from "../prompts/synthesis.js";
import { synthesise } from "./synthesiser.js";

/** The one id the rule-based language model answers to (see resolve.ts). */
export const LOCAL_LANGUAGE_MODEL_ID = "local:rules";

/** Each task's rule-based implementation, keyed by the prompt name that selects it. */
const TASKS = {
  // A batch (`ingest({ messages })`, prompts/extraction-batch.ts) is each message extracted alone, facts numbered.
  extraction: (input: ExtractionInput | ExtractionBatchInput) =>
    "messages" in input ? { facts: input.messages.flatMap((m, i) => extract(m).facts.map((f) => ({ ...f, message: i }))) } : extract(input),
  query_understanding: (input: QueryUnderstandingInput) => classifyQuery(input.query),
  response: (input: ResponseInput) => composeResponse(input),
  // Version 2 of the prompt batches records (`items`); version 1 has one record.
  reflection: (input: ReflectionInput | BatchReflectionInput) => ("items" in input ? reflectBatch(input) : reflect(input)),
  background: (input: BackgroundInput) => consolidate(input),
  elaboration: (input: ElaborationInput) => elaborate(input),
  synthesis: (input: SynthesisInput) => synthesise(input),
} satisfies Record<TaskName, (input: never) => unknown>;

/**
 * The offline, deterministic language model. It does not send the rendered prompt anywhere: it runs the
 * rule-based implementation of `prompt.name` on the input, then parses the result with `prompt.schema`,
 * so it honours the same output contract as the real providers.
 *
 * @example
 * const model = createLocalLanguageModel("local:rules");
 * const { value } = await model.generate(extractionPrompt, { role: "user", content: "I live in Lisbon.", source: "turn" });
 * // value.facts[0].text === "User lives in Lisbon."
 */
export function createLocalLanguageModel(id: string): LanguageModel {
  if (id !== LOCAL_LANGUAGE_MODEL_ID) {
    throw new SpectronValidationError("model", `"${LOCAL_LANGUAGE_MODEL_ID}" (the offline rule-based model)`, id);
  }
  return {
    id,
    provider: "local",
    async generate<I, O>(prompt: Prompt<I, O>, input: I, options?: CallOptions): Promise<GenerateResult<O>> {
      options?.signal?.throwIfAborted();
      const started = performance.now();
      const task = TASKS[prompt.name] as ((input: I) => unknown) | undefined;
      if (task === undefined) {
        throw new SpectronValidationError("prompt.name", `one of ${Object.keys(TASKS).join(", ")}`, prompt.name);
      }
      // The prompt's name fixes its input type, so the task receives exactly the input it was written for.
      const value = prompt.schema.parse(task(input));
      const latencyMs = performance.now() - started;
      return {
        value,
        usage: {
          model: id,
          provider: "local",
          inputTokens: countWords(`${prompt.system}\n${prompt.render(input)}`),
          outputTokens: countWords(JSON.stringify(value)),
          latencyMs,
          costUsd: 0,
        },
      };
    },
  };
}
