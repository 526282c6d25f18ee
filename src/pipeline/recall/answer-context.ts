import type { Core } from "../../core.js";
import type { ResponseInput } from "../../models/prompts/response.js";
import type { EmbeddingModel } from "../../models/types.js";
import { retrieve, type Retrieval } from "./hybrid.js";
import { promptRecords } from "./prompt-records.js";
import { understandQuery, type Understanding } from "./understand.js";

/** What embedding a question uses. */
export type EmbedQueryDeps = Pick<Core, "models">;

/** What building an answer's context uses: query understanding, retrieval, the store's entity names, the clock. */
export type AnswerContextDeps = Pick<Core, "store" | "models" | "logger" | "feedback" | "now">;

/** A question's embedding, with the model that made it (whose id the vector channel reads by). */
export interface QueryVector {
  vector: Float32Array;
  embedder: EmbeddingModel;
}

/** Embeds a question once, with the index's current model, and counts the call in `usage()`. */
export async function embedQuery(core: EmbedQueryDeps, query: string, signal?: AbortSignal): Promise<QueryVector> {
  const embedder = core.models.embedder();
  const embedded = await embedder.embed([query], signal ? { signal } : {});
  core.models.recordUsage("embedding", embedded.usage);
  return { vector: embedded.vectors[0]!, embedder };
}

export interface AnswerContextRequest {
  query: string;
  embedded: QueryVector;
  /** The scope keys the caller may read. */
  scopeKeys: readonly string[];
  limit: number;
  signal?: AbortSignal;
}

/** What a model answering from memory is given, and what its traces are written from. */
export interface AnswerContext {
  understanding: Understanding;
  /** The clock's time of the retrieval: what expiry was judged against, and the traces' time. */
  now: number;
  retrieval: Retrieval;
  /** The entity names each retrieved record is linked to. */
  entities: ReadonlyMap<number, string[]>;
  /** The retrieved records and chunks as the answering model is shown them (prompt-records.ts). */
  records: ResponseInput["records"][number][];
}

/**
 * The step every answer from memory takes (recall's tier 3, chat, reflect): query understanding (the rule
 * classifier answers if the model fails, understand.ts), hybrid retrieval over the readable scopes, and the
 * records as the answering model is shown them, each with the entities it names. One model call.
 */
export async function answerContext(core: AnswerContextDeps, req: AnswerContextRequest): Promise<AnswerContext> {
  const understanding = await understandQuery(core, req.query, req.signal);
  const now = core.now();
  const retrieval = await retrieve(core, {
    query: req.query,
    vector: req.embedded.vector,
    embeddingModel: req.embedded.embedder.id,
    understanding: understanding.value,
    scopeKeys: req.scopeKeys,
    limit: req.limit,
    now,
  });
  const entities = await core.store.entityNames(retrieval.records.map((r) => r.id));
  return { understanding, now, retrieval, entities, records: promptRecords(retrieval, now, (id) => entities.get(id) ?? []) };
}
