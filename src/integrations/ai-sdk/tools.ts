import { tool } from "ai";
import { z } from "zod";
import { isSpectronError } from "../../errors.js";
import type { MemoryBinding } from "./memory-context.js";
import { withinScope } from "./memory-context.js";

export interface MemoryToolsOptions extends MemoryBinding {
  /** Records the `recall` tool returns with its answer. @default 5 */
  limit?: number;
}

/**
 * Memory tools for an AI SDK agent (`generateText({ tools })`, `ToolLoopAgent`): `remember` stores a fact
 * about the user through extraction and reconciliation, `recall` answers a question from memory with the
 * records it used, `forget` deletes a record by id (only one in the bound scope). Tool failures come back to
 * the model as `{ error }` results it can read, never as thrown errors that end the loop.
 *
 * @example
 * import { generateText, stepCountIs } from "ai";
 * import { memoryTools } from "spectron/ai-sdk";
 * const tools = memoryTools({ memory, scope: { user: "alice" } });
 * await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: "Remember that I moved to Lisbon." });
 */
export function memoryTools(options: MemoryToolsOptions) {
  const { memory, scope, call = {} } = options;
  const limit = options.limit ?? 5;
  return {
    remember: tool({
      description:
        "Save something worth remembering about the user (a preference, a fact about their life, a plan). Write it as the user would say it, e.g. \"I moved to Lisbon in May.\"",
      inputSchema: z.object({ content: z.string().min(1).max(4_000).describe("What to remember, in one or a few sentences.") }),
      execute: async ({ content }, { abortSignal }) =>
        safely(async () => {
          const out = await memory.ingest({ role: "user", content, scope, ...call, ...(abortSignal ? { signal: abortSignal } : {}) });
          return { remembered: out.records.map((r) => ({ id: r.id, text: r.text, outcome: r.outcome })) };
        }),
    }),
    recall: tool({
      description: "Look up what is known about the user. Ask a question such as \"Where does the user live?\"",
      inputSchema: z.object({ question: z.string().min(1).max(4_000).describe("A question about the user.") }),
      execute: async ({ question }, { abortSignal }) =>
        safely(async () => {
          const out = await memory.recall(question, { scope, limit, ...call, ...(abortSignal ? { signal: abortSignal } : {}) });
          return { answer: out.answer, records: out.records.slice(0, limit).map((r) => ({ id: r.id, text: r.text })) };
        }),
    }),
    forget: tool({
      description: "Delete one remembered record by its id (an id such as \"rec_12\" returned by recall or remember).",
      inputSchema: z.object({ id: z.string().min(1).max(64).describe("The record id.") }),
      execute: async ({ id }) =>
        safely(async () => {
          const record = await memory.state.get(id, call);
          // The tool acts for this scope only, whatever the model asks.
          if (!withinScope(record.scope, scope)) return { error: `No record ${id} in this memory.` };
          const forgotten = await memory.state.forget(id, call);
          return { forgotten: { id: forgotten.id, text: record.text } };
        }),
    }),
  };
}

/**
 * A tool result the model can read: Spectron's typed errors (a bad id, a denied scope, a provider failure)
 * become `{ error }`; anything else is rethrown. Recognised by shape, not `instanceof`: this entry may be
 * loaded as a separate bundle from the one that threw.
 */
async function safely<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (error) {
    if (isSpectronError(error)) return { error: error.message };
    throw error;
  }
}

