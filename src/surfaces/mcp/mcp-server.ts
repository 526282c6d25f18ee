import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Spectron } from "../../spectron.js";
import { ingestSchema, querySchema, queryOptionsSchema, recallOptionsSchema, scopeSchema, type Principal } from "../../config/schemas.js";
import { isSpectronError } from "../../errors.js";

/**
 * The instance a server serves: a `Spectron`, typed by the methods the server calls. Structural, so that the
 * declarations of `spectron/mcp` (a bundle of its own, with its own copy of the class's declaration) accept the
 * `Spectron` of the main entry: a class with private members is only assignable to its own declaration.
 */
export type McpMemory = Pick<Spectron, "as" | "ingest" | "recall" | "query" | "reflect" | "state" | "traces">;

export interface McpServerOptions {
  /**
   * Act as this principal (every tool call and resource read goes through `memory.as(principal)`); without one,
   * the server acts as the application, with access to the whole Context. Over HTTP, pass the principal the
   * request's token maps to.
   */
  principal?: Principal;
  /** The scope of tool calls that give none, and of resource listings. @default {} (the whole Context) */
  defaultScope?: Record<string, string>;
  /** Server name announced to the client. @default "spectron" */
  name?: string;
  /** Server version announced to the client. @default "0.0.0" */
  version?: string;
}

/**
 * The scope as tool arguments carry it: the JSON side of the SDK's scope schema (dimension names of letters,
 * digits and _, at most 8 dimensions, values of 1–256 characters). The SDK checks the rest (reserved names,
 * unstorable characters) when the call reaches it.
 */
const scopeArgument = (scopeSchema as unknown as z.ZodPipe<z.ZodType, z.ZodType<Record<string, string>>>).out
  .optional()
  .describe("Whose memory: scope dimensions such as {\"user\": \"alice\"} or {\"org\": \"acme\", \"user\": \"alice\"}. Omit for the server's default scope.");

const idArgument = (prefix: string) => z.string().min(1).max(64).describe(`An id as Spectron returns it (\`${prefix}_…\`).`);

/**
 * An MCP server over a Spectron instance: tools `remember`, `recall`, `search`, `forget`, `inspect_trace`,
 * `reflect`, and resources `spectron://facts/{id}` and `spectron://traces/{id}`. Not connected: connect it to a
 * transport (`StdioServerTransport` for `spectron mcp`, `StreamableHTTPServerTransport` under an HTTP server).
 * Cheap to create: one per HTTP session (or request) is fine. It never closes `memory`.
 *
 * @example
 * const server = createMcpServer(memory, { defaultScope: { user: "alice" } });
 * await server.connect(new StdioServerTransport());
 */
export function createMcpServer(memory: McpMemory, options: McpServerOptions = {}): McpServer {
  const api = options.principal ? memory.as(options.principal) : memory;
  const defaultScope = options.defaultScope ?? {};
  /** A read tool's options: its scope or the server's, and its limit when given. */
  const readOptions = (args: { scope?: Record<string, string> | undefined; limit?: number | undefined }) => ({
    scope: args.scope ?? defaultScope,
    ...(args.limit ? { limit: args.limit } : {}),
  });
  const server = new McpServer(
    { name: options.name ?? "spectron", version: options.version ?? "0.0.0" },
    { instructions: "Long-term memory for this user. Call `recall` before answering anything that may depend on what you were told in earlier conversations; call `remember` when the user states a preference, a fact about themselves or their work, a decision or a change." },
  );

  server.registerTool(
    "remember",
    {
      title: "Remember",
      description:
        "Store something worth remembering across conversations: a preference, a fact about the user or their work, a decision, a change (\"I moved to Lisbon\"). Call it when the user states such a thing; pass their words as `content`. Spectron extracts facts from it and reconciles them with what it already knows (a change supersedes the older fact). Returns the facts written and what happened to each.",
      inputSchema: {
        content: ingestSchema.shape.content.describe("The turn's text, in the speaker's words."),
        scope: scopeArgument,
        role: ingestSchema.shape.role.optional().describe("Who said it. Default: user."),
        speaker: ingestSchema.shape.speaker.describe("The speaker's name, when several people talk."),
        occurred_at: z.iso.datetime({ offset: true }).optional().describe("When it was said (ISO 8601 with a time zone), if not now."),
        metadata: ingestSchema.shape.metadata.describe("Free-form JSON kept with the turn."),
      },
    },
    async (args) =>
      run(() =>
        api.ingest({
          content: args.content,
          scope: args.scope ?? defaultScope,
          ...(args.role ? { role: args.role } : {}),
          ...(args.speaker ? { speaker: args.speaker } : {}),
          ...(args.occurred_at ? { occurred_at: args.occurred_at } : {}),
          ...(args.metadata ? { metadata: args.metadata } : {}),
        }),
      ),
  );

  server.registerTool(
    "recall",
    {
      title: "Recall",
      description:
        "Answer a question from long-term memory, with the facts the answer rests on. Call it before answering anything that may depend on what the user told you earlier (their preferences, plans, people, past decisions). Ask in natural language, as the user would.",
      inputSchema: { query: querySchema.describe("The question, in natural language."), scope: scopeArgument, limit: recallOptionsSchema.shape.limit.optional() },
    },
    async (args) => run(() => api.recall(args.query, readOptions(args))),
  );

  server.registerTool(
    "search",
    {
      title: "Search memory",
      description:
        "Ranked facts matching a query, without composing an answer (no language-model call). Call it to look facts up or list what is known about a topic or person, or to find a fact's id before `forget`.",
      inputSchema: { query: querySchema.describe("Words or a question to match."), scope: scopeArgument, limit: queryOptionsSchema.shape.limit.optional() },
    },
    async (args) => run(() => api.query(args.query, readOptions(args))),
  );

  server.registerTool(
    "forget",
    {
      title: "Forget",
      description:
        "Delete one fact for good (its text leaves every index; a traced tombstone stays). Call it only when the user asks you to forget something, or a fact is plainly wrong; find the id with `search` first.",
      inputSchema: { id: idArgument("rec") },
    },
    async (args) => run(() => api.state.forget(args.id)),
  );

  server.registerTool(
    "inspect_trace",
    {
      title: "Inspect a trace",
      description:
        "One trace (a recall, an ingest decision, a sweep) with its edges: what was considered, returned, created or superseded. Call it to explain why memory answered or changed as it did; trace ids come with every remember/recall/reflect result.",
      inputSchema: { id: idArgument("trace") },
    },
    async (args) => run(() => api.traces.get(args.id)),
  );

  server.registerTool(
    "reflect",
    {
      title: "Reflect",
      description:
        "Answer a synthesis question over many facts (\"What does the user care about most?\", \"How has their plan changed?\") and keep the insights as new observations. Call it for summaries and patterns, not for single facts (use `recall`).",
      inputSchema: { question: querySchema.describe("The synthesis question."), scope: scopeArgument, limit: recallOptionsSchema.shape.limit.optional() },
    },
    async (args) => run(() => api.reflect(args.question, readOptions(args))),
  );

  server.registerResource(
    "fact",
    new ResourceTemplate("spectron://facts/{id}", {
      list: async () => ({
        resources: (await api.state.list({ scope: defaultScope, limit: 100 })).records.map((r) => ({
          uri: `spectron://facts/${r.id}`,
          name: r.id,
          description: r.text.slice(0, 200),
          mimeType: "application/json",
        })),
      }),
    }),
    { title: "Fact", description: "A fact (record) with its history and lineage, as JSON.", mimeType: "application/json" },
    async (uri, { id }) => json(uri, await api.state.get(String(id))),
  );

  server.registerResource(
    "trace",
    new ResourceTemplate("spectron://traces/{id}", {
      list: async () => ({
        resources: (await api.traces.list({ limit: 50 })).traces.map((t) => ({
          uri: `spectron://traces/${t.id}`,
          name: t.id,
          description: `${t.kind} at ${t.created_at}`,
          mimeType: "application/json",
        })),
      }),
    }),
    { title: "Trace", description: "A trace with its edges, as JSON.", mimeType: "application/json" },
    async (uri, { id }) => json(uri, await api.traces.get(String(id))),
  );

  return server;
}

function json(uri: URL, value: unknown) {
  return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(value, null, 2) }] };
}

/**
 * A tool's result as JSON text; a SpectronError as a tool error naming its code (the model can act on it),
 * recognised by shape (errors.ts): under CommonJS, `spectron/mcp` is a bundle of its own.
 */
async function run(fn: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return { content: [{ type: "text", text: JSON.stringify(await fn(), null, 2) }] };
  } catch (error) {
    if (!isSpectronError(error)) throw error;
    return { isError: true, content: [{ type: "text", text: `${error.code}: ${error.message}` }] };
  }
}
