import type { LanguageModelMiddleware } from "ai";
import type { MemoryRecord } from "../../state/public-record.js";
import { textOf, type MemoryBinding } from "./memory-context.js";

type CallOptions = Parameters<NonNullable<LanguageModelMiddleware["transformParams"]>>[0]["params"];
type Prompt = CallOptions["prompt"];

export interface MemoryMiddlewareOptions extends MemoryBinding {
  /** Records injected into the prompt. @default 8 */
  limit?: number;
  /**
   * When the exchange is stored: `"background"` (after the reply is returned; `flush()` awaits it), `"await"`
   * (before the reply is returned) or `false` (never: read-only memory). @default "background"
   */
  ingest?: "background" | "await" | false;
  /**
   * Called with any failure of a memory read or write. The model call goes on without memory when the read
   * fails. Without it, background failures are kept and thrown by `flush()`.
   */
  onError?: (error: unknown) => void;
  /** Renders the recalled records into the system message injected before the conversation. */
  format?: (records: MemoryRecord[]) => string;
}

/** The middleware, plus `flush()`: waits for background writes and throws those that failed (without `onError`). */
export type MemoryMiddleware = LanguageModelMiddleware & { flush(): Promise<void> };

const defaultFormat = (records: MemoryRecord[]) =>
  `What you remember about the user (from earlier conversations; use it when relevant, do not mention this list):\n${records.map((r) => `- ${r.text}`).join("\n")}`;

/**
 * A language-model middleware (`wrapLanguageModel({ model, middleware })`) that gives any AI SDK model a
 * memory: before a call, the records relevant to the user's last message are recalled (a ranked read, no
 * model call) and injected as a system message; after it, the user's message and the model's reply are
 * ingested as two turns. The user's turn is stored even when the model call fails; a failed memory read
 * never fails the model call.
 *
 * @example
 * import { generateText, wrapLanguageModel } from "ai";
 * import { memoryMiddleware } from "spectron/ai-sdk";
 * const model = wrapLanguageModel({ model: openai("gpt-4o-mini"), middleware: memoryMiddleware({ memory, scope: { user: "alice" } }) });
 * const { text } = await generateText({ model, prompt: "Where should I go for dinner tonight?" });
 */
export function memoryMiddleware(options: MemoryMiddlewareOptions): MemoryMiddleware {
  const { memory, scope, call = {} } = options;
  const limit = options.limit ?? 8;
  const mode = options.ingest ?? "background";
  const format = options.format ?? defaultFormat;
  const pending = new Set<Promise<void>>();
  const failures: unknown[] = [];
  const report = (error: unknown) => (options.onError ? options.onError(error) : failures.push(error));

  /** Stores the exchange: the user's turn first, so it is kept even when the reply's ingest fails. */
  const store = async (user: string, reply: string | undefined, signal?: AbortSignal): Promise<void> => {
    for (const [role, content] of [["user", user], ["assistant", reply]] as const) {
      if (!content?.trim()) continue;
      try {
        await memory.ingest({ role, content, scope, ...call, ...(signal ? { signal } : {}) });
      } catch (error) {
        // A failed extraction leaves the turn stored (pending, retried later): reported, and the next one still goes.
        report(error);
      }
    }
  };

  const remember = async (params: CallOptions, reply: string | undefined): Promise<void> => {
    if (mode === false) return;
    const user = lastUserText(params.prompt);
    if (!user) return;
    if (mode === "await") return store(user, reply, params.abortSignal);
    const job = store(user, reply).finally(() => pending.delete(job));
    pending.add(job);
  };

  return {
    specificationVersion: "v3",
    async transformParams({ params }) {
      const query = lastUserText(params.prompt);
      if (!query) return params;
      let records: MemoryRecord[];
      try {
        records = await memory.query(query.slice(0, 4_000), { scope, limit, ...call, ...(params.abortSignal ? { signal: params.abortSignal } : {}) });
      } catch (error) {
        if (params.abortSignal?.aborted) throw error;
        report(error);
        return params;
      }
      if (records.length === 0) return params;
      return { ...params, prompt: withSystem(params.prompt, format(records)) };
    },
    async wrapGenerate({ doGenerate, params }) {
      let result: Awaited<ReturnType<typeof doGenerate>>;
      try {
        result = await doGenerate();
      } catch (error) {
        await remember(params, undefined);
        throw error;
      }
      const reply = result.content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("");
      await remember(params, reply);
      return result;
    },
    async wrapStream({ doStream, params }) {
      let result: Awaited<ReturnType<typeof doStream>>;
      try {
        result = await doStream();
      } catch (error) {
        await remember(params, undefined);
        throw error;
      }
      let reply = "";
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        void remember(params, reply).catch(report);
      };
      const tap = new TransformStream({
        transform(part, controller) {
          if (part.type === "text-delta") reply += part.delta;
          controller.enqueue(part);
        },
        flush: finish,
      });
      return { ...result, stream: result.stream.pipeThrough(tap) };
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
      if (failures.length > 0) {
        const errors = failures.splice(0);
        throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} memory writes failed.`);
      }
    },
  };
}

/** The text of the conversation's last user message (what the memory is about, and what is stored). */
function lastUserText(prompt: Prompt): string {
  for (let i = prompt.length - 1; i >= 0; i--) {
    const message = prompt[i]!;
    if (message.role === "user") return textOf(message.content).trim();
  }
  return "";
}

/** `prompt` with a system message added after its leading system messages. */
function withSystem(prompt: Prompt, content: string): Prompt {
  let at = 0;
  while (at < prompt.length && prompt[at]!.role === "system") at++;
  return [...prompt.slice(0, at), { role: "system", content }, ...prompt.slice(at)];
}
