import { z } from "zod";
import type { Core } from "../core.js";
import { callContextShape, integer, scopeSchema } from "../config/schemas.js";
import { responsePrompt } from "../models/prompts/response.js";
import { parseId, toId } from "../store/ids.js";
import { scopeKey, type Scope } from "../store/scope.js";
import type { TraceActor } from "../store/traces.js";
import type { MemoryRecord } from "../state/public-record.js";
import type { IngestResult } from "./ingest.js";
import { answerContext, embedQuery } from "./recall/answer-context.js";
import { answerUsage } from "./recall/answer-usage.js";
import { round } from "./recall/hybrid.js";
import { reinforce, retrievalTraceWrite, type RecalledChunk } from "./recall/recall.js";
import { usedOf } from "./recall/used-of.js";
import { publicChunk } from "./recall/public-chunk.js";

/** What chat uses: an answer's context, the response model, the store. */
export type ChatDeps = Pick<Core, "store" | "models" | "now" | "logger" | "feedback">;

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
export async function chat(core: ChatDeps, req: ChatRequest): Promise<ChatResult> {
  const started = performance.now();
  const signal = req.signal ? { signal: req.signal } : {};
  const embedded = await embedQuery(core, req.message, req.signal);
  const { understanding: qu, now, retrieval, records: shown } = await answerContext(core, {
    query: req.message,
    embedded,
    scopeKeys: req.readable,
    limit: req.limit,
    ...signal,
  });
  const input = { query: req.message, records: shown };
  const response = await core.models.model("response").generate(responsePrompt, input, signal);
  core.models.recordUsage("response", response.usage);
  const answer = response.value.answer;
  const used = usedOf(response.value.used, retrieval).records.map((id) => toId("record", id));

  const key = scopeKey(req.scope);
  const { responseTraceId: traceId } = await core.store.writeReflection({
    retrieval: retrievalTraceWrite(req.actor, key, req.message, qu.value, retrieval, {
      query_understanding: qu.usage.model,
      response: response.usage.model,
      embedding: embedded.embedder.id,
    }, qu.fallback),
    response: {
      actor: req.actor,
      scopeKey: key,
      payload: {
        kind: "chat",
        message: req.message,
        prompt: responsePrompt.render(input),
        answer,
        used,
        ...answerUsage({ query_understanding: qu.usage, response: response.usage }),
        latency_ms: round(performance.now() - started),
      },
    },
    now,
  });
  const records = await reinforce(core, retrieval.records.map((r) => r.id));

  const link = (turn: IngestResult) =>
    core.store.addTraceEdges(
      traceId,
      [
        { kind: "produced_decision", to: { type: "trace", id: parseId("trace", turn.traceId) } },
        ...turn.records.map((r) => ({ kind: "wrote", to: { type: "record" as const, id: parseId("record", r.id) } })),
      ],
      core.now(),
    );
  const user = await req.ingest({ role: "user", content: req.message, ...(req.speaker ? { speaker: req.speaker } : {}) });
  await link(user);
  const assistant = await req.ingest({ role: "assistant", content: answer });
  await link(assistant);

  return {
    answer,
    records,
    chunks: retrieval.chunks.map(({ row }) => publicChunk(row)),
    used,
    turns: { user, assistant },
    traceId: toId("trace", traceId),
  };
}
