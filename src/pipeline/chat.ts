import { z } from "zod";
import type { Core } from "../core.js";
import { callContextShape, integer, scopeSchema } from "../config/schemas.js";
import { understandQuery } from "./recall/understand.js";
import { responsePrompt } from "../models/prompts/response.js";
import { addEdge, entityNamesOf } from "../store/graph.js";
import { parseId, toId, tryParseId } from "../store/ids.js";
import { scopeKey, type Scope } from "../store/scope.js";
import { insertTrace, type TraceActor } from "../store/traces.js";
import type { MemoryRecord } from "../state/public-record.js";
import type { IngestResult } from "./ingest.js";
import { retrieve, round } from "./recall/hybrid.js";
import { promptRecords, reinforce, writeRetrievalTrace, type RecalledChunk } from "./recall/recall.js";
import { publicChunk } from "./recall/reuse.js";

/** A chat message: what the user says, answered from memory and then remembered. */
export const chatMessageSchema = z.string().trim().min(1, "a non-empty message").max(16_000, "at most 16,000 characters");

export const chatOptionsSchema = z.strictObject({
  scope: scopeSchema.default({}),
  /** How many records to retrieve for the answer. @default 8 */
  limit: integer(1, 100).default(8),
  /** Who said the message (stored on the user turn, as `ingest({ speaker })`). */
  speaker: z.string().min(1).max(256).optional(),
  ...callContextShape,
});
export type { ChatOptions } from "../types/inputs.js";

export interface ChatResult {
  /** The assistant's reply, from the response stage over the recalled memory. */
  answer: string;
  /** The records recalled for the answer (as they were before this message was ingested). */
  records: MemoryRecord[];
  /** Document chunks recalled for the answer. */
  chunks: RecalledChunk[];
  /** Ids of the recalled records the response model says the answer relies on. */
  used: string[];
  /** The two turns ingested: the user's message, then the reply. */
  turns: { user: IngestResult; assistant: IngestResult };
  /** The chat's response_trace: `used_retrieval`, `produced_decision` (one per turn) and `wrote` edges. */
  traceId: string;
}

export interface ChatRequest {
  message: string;
  scope: Scope;
  readable: string[];
  limit: number;
  speaker?: string;
  actor: TraceActor;
  signal?: AbortSignal;
  /** Ingests one turn through the public ingest path (same validation, access check and extraction). */
  ingest: (turn: { role: "user" | "assistant"; content: string; speaker?: string }) => Promise<IngestResult>;
}

/**
 * One conversational exchange (spec: response_trace, "/chat"): the message is recalled against (hybrid
 * retrieval, never the response cache: a chat message is not a question asked again), answered by the response
 * stage from what was recalled, and both turns are then ingested. Recall runs before the message is ingested,
 * so the answer draws on what memory held, not on the message repeating itself.
 *
 * Model calls: query understanding and response (plus one extraction per turn, as `ingest`). One
 * response_trace joins them: `used_retrieval` to the retrieval_trace, `produced_decision` to each turn's
 * decision_trace, `wrote` to each record those decisions touched, `parent_session` to the session.
 * If a turn's extraction fails, the turn stays `pending` (retried in the background, as any ingest), the
 * response trace keeps the edges of what was written, and the error is thrown.
 */
export async function chat(core: Core, req: ChatRequest): Promise<ChatResult> {
  const started = performance.now();
  const signal = req.signal ? { signal: req.signal } : {};
  const embedder = core.embedder();
  const embedded = await embedder.embed([req.message], signal);
  core.recordUsage("embedding", embedded.usage);
  const qu = await understandQuery(core, req.message, req.signal);
  const now = core.now();
  const retrieval = retrieve(core, {
    query: req.message,
    vector: embedded.vectors[0]!,
    embeddingModel: embedder.id,
    understanding: qu.value,
    scopeKeys: req.readable,
    limit: req.limit,
    now,
  });
  const input = { query: req.message, records: promptRecords(retrieval, now, (id) => entityNamesOf(core.db, id)) };
  const response = await core.model("response").generate(responsePrompt, input, signal);
  core.recordUsage("response", response.usage);
  const answer = response.value.answer;
  const used = response.value.used.filter((id) => {
    const n = tryParseId("record", id);
    return n !== undefined && retrieval.records.some((r) => r.id === n);
  });

  const key = scopeKey(req.scope);
  const usages = [qu.usage, response.usage];
  const traceId = core.transaction(() => {
    const retrievalTrace = writeRetrievalTrace(core, req.actor, key, req.message, qu.value, retrieval, {
      query_understanding: qu.usage.model,
      response: response.usage.model,
      embedding: embedder.id,
    }, qu.fallback);
    const id = insertTrace(
      core.db,
      core.context,
      "response_trace",
      req.actor,
      key,
      {
        kind: "chat",
        message: req.message,
        prompt: responsePrompt.render(input),
        answer,
        used,
        tokens: { input: usages.reduce((s, u) => s + u.inputTokens, 0), output: usages.reduce((s, u) => s + u.outputTokens, 0) },
        cost_usd: usages.reduce((s, u) => s + u.costUsd, 0),
        latency_ms: round(performance.now() - started),
        usage: { query_understanding: qu.usage, response: response.usage },
        model_calls: 2,
      },
      now,
    );
    addEdge(core.db, core.context, { type: "trace", id }, "used_retrieval", { type: "trace", id: retrievalTrace }, now);
    if (req.actor.session) addEdge(core.db, core.context, { type: "trace", id }, "parent_session", { type: "session", id: req.actor.session }, now);
    return id;
  });
  const records = reinforce(core, retrieval.records.map((r) => r.id));

  const link = (turn: IngestResult) =>
    core.transaction(() => {
      const at = core.now();
      const node = { type: "trace", id: traceId } as const;
      addEdge(core.db, core.context, node, "produced_decision", { type: "trace", id: parseId("trace", turn.traceId) }, at);
      for (const r of turn.records) addEdge(core.db, core.context, node, "wrote", { type: "record", id: parseId("record", r.id) }, at);
    });
  const user = await req.ingest({ role: "user", content: req.message, ...(req.speaker ? { speaker: req.speaker } : {}) });
  link(user);
  const assistant = await req.ingest({ role: "assistant", content: answer });
  link(assistant);

  return {
    answer,
    records,
    chunks: retrieval.chunks.map(({ row }) => publicChunk(row)),
    used,
    turns: { user, assistant },
    traceId: toId("trace", traceId),
  };
}
