import { sql } from "../store/database.js";
import { z } from "zod";
import type { Access } from "../access/access.js";
import { actorOf } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, callContextShape, metadataSchema, parseInput, scopeSchema, type CallContext } from "../config/schemas.js";
import { NotFoundError } from "../errors.js";
import { extractionPrompt, type ExtractedFact } from "../models/prompts/extraction.js";
import { applyVectorChanges, type IngestResult } from "../pipeline/ingest.js";
import { reconcile } from "../pipeline/reconcile.js";
import { evictByChunks } from "../store/cache.js";
import { parseId, toId } from "../store/ids.js";
import { parseScopeKey, scopeKey } from "../store/scope.js";
import { deleteVector, putVector } from "../store/vectors.js";
import { toPublicRecord } from "../state/public-record.js";
import { chunkText } from "./chunk.js";
import { reindexStatus, startReindex } from "./reindex.js";

export const knowledgeAddSchema = z.strictObject({
  title: z.string().trim().min(1, "a non-empty title").max(512),
  text: z.string().trim().min(1, "non-empty text").max(5_000_000, "at most 5,000,000 characters"),
  scope: scopeSchema.default({}),
  metadata: metadataSchema.optional(),
  ...callContextShape,
});
export type KnowledgeAddInput = z.input<typeof knowledgeAddSchema>;

export interface KnowledgeAddResult {
  documentId: string;
  chunks: number;
  /** Knowledge records extracted from the document, with their reconciliation outcome. */
  records: IngestResult["records"];
  traceId: string;
}

/**
 * Documents: stored first (with their chunks, searchable by BM25 at once), then embedded and indexed, then
 * knowledge facts extracted from each chunk through the same reconciler as turns. If a model call fails the
 * document and its chunks stay (status `pending`) and the error is thrown.
 */
export function createKnowledgeApi(core: Core, access: Access, guard: (method: string) => void) {
  return {
    async add(input: KnowledgeAddInput): Promise<KnowledgeAddResult> {
      guard("knowledge.add");
      const i = parseInput(knowledgeAddSchema, input, "input");
      access.assert(i, "write", i.scope);
      const { db, context } = core;
      const key = scopeKey(i.scope);
      const pieces = chunkText(i.text);
      const now = core.now();
      const { documentId, chunkIds } = core.transaction(() => {
        const documentId = Number(
          sql(db, "INSERT INTO documents (context, scope_key, title, text, metadata, status, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)")
            .run(context, key, i.title, i.text, i.metadata ? JSON.stringify(i.metadata) : null, now).lastInsertRowid,
        );
        const insert = sql(db, "INSERT INTO chunks (context, document_id, scope_key, ord, text, created_at) VALUES (?, ?, ?, ?, ?, ?)");
        const chunkIds = pieces.map((text, ord) => Number(insert.run(context, documentId, key, ord, text, now).lastInsertRowid));
        return { documentId, chunkIds };
      });

      const signal = i.signal ? { signal: i.signal } : {};
      const fail = (error: unknown): never => {
        sql(db, "UPDATE documents SET error = ? WHERE id = ?").run(error instanceof Error ? error.message : String(error), documentId);
        throw error;
      };
      const embedder = core.embedder();
      const chunkVectors = await embedder.embed(pieces, signal).catch(fail);
      core.recordUsage("embedding", chunkVectors.usage);
      const facts: ExtractedFact[] = [];
      const model = core.model("extraction");
      for (const piece of pieces) {
        const extraction = await model.generate(extractionPrompt, { role: "user", content: piece, source: "document" }, signal).catch(fail);
        core.recordUsage("extraction", extraction.usage);
        for (const fact of extraction.value.facts) facts.push({ ...fact, memory_category: "knowledge" });
      }
      const factVectors = facts.length > 0 ? await embedder.embed(facts.map((f) => f.text), signal).catch(fail) : undefined;
      if (factVectors) core.recordUsage("embedding", factVectors.usage);

      const { result, chunkChanges } = core.transaction(() => {
        const chunkChanges = chunkIds.map((id, n) => {
          sql(db, "UPDATE chunks SET embedding_model = ? WHERE id = ?").run(embedder.id, id);
          return { seq: putVector(db, context, "chunks", embedder.id, id, chunkVectors.vectors[n]!), label: id, op: "add" as const, vector: chunkVectors.vectors[n]! };
        });
        const result = reconcile(db, {
          context,
          scope: i.scope,
          scopeKey: key,
          facts,
          vectors: factVectors?.vectors ?? [],
          embeddingModel: embedder.id,
          source: { kind: "document", id: toId("document", documentId), key: `document:${toId("document", documentId)}`, node: { type: "document", id: documentId } },
          actor: actorOf(i),
          retention: core.settings().retention,
          now: core.now(),
          provenance: { prompt: `${extractionPrompt.name}@${extractionPrompt.version}`, document: toId("document", documentId), chunks: chunkIds.length },
          metadata: { document: toId("document", documentId), title: i.title },
        });
        sql(db, "UPDATE documents SET status = 'indexed', error = NULL WHERE id = ?").run(documentId);
        return { result, chunkChanges };
      });
      const chunkIndex = core.vectorIndex("chunks", embedder.id);
      for (const c of chunkChanges) chunkIndex.notify(c);
      applyVectorChanges(core, embedder.id, result.vectorChanges);
      return {
        documentId: toId("document", documentId),
        chunks: chunkIds.length,
        records: result.outcomes.map(({ record, outcome }) => ({ ...toPublicRecord(record), outcome })),
        traceId: toId("trace", result.traceId),
      };
    },

    /** Removes a document, its chunks (from every index) and the answers that cited them. Its extracted records stay unless forgotten. */
    async remove(documentId: string, ctx?: CallContext): Promise<{ chunks: number }> {
      guard("knowledge.remove");
      const id = parseId("document", documentId);
      const call = parseInput(callContextSchema, ctx ?? {}, "knowledge.remove(…, ctx)");
      const { db, context } = core;
      const doc = sql(db, "SELECT scope_key FROM documents WHERE id = ? AND context = ?").get(id, context) as { scope_key: string } | undefined;
      if (!doc) throw new NotFoundError("document", documentId);
      access.assert(call, "write", parseScopeKey(doc.scope_key));
      const changes = core.transaction(() => {
        const chunks = sql(db, "SELECT id, embedding_model FROM chunks WHERE document_id = ?").all(id) as { id: number; embedding_model: string | null }[];
        evictByChunks(db, chunks.map((c) => c.id));
        const out: { model: string; seq: number; label: number }[] = [];
        for (const c of chunks) {
          const seq = c.embedding_model ? deleteVector(db, context, "chunks", c.embedding_model, c.id) : undefined;
          if (seq !== undefined) out.push({ model: c.embedding_model!, seq, label: c.id });
        }
        sql(db, "DELETE FROM chunks WHERE document_id = ?").run(id);
        sql(db, "DELETE FROM documents WHERE id = ?").run(id);
        return { out, count: chunks.length };
      });
      for (const c of changes.out) core.vectorIndex("chunks", c.model).notify({ seq: c.seq, label: c.label, op: "remove" });
      return { chunks: changes.count };
    },

    /**
     * Re-embeds records, chunks and cached queries with the configured embedding model, in the background.
     * Retrieval keeps using the old vectors until it completes; then the new index takes over atomically.
     */
    async reindex(ctx?: CallContext): Promise<ReturnType<typeof reindexStatus>> {
      guard("knowledge.reindex");
      access.assert(parseInput(callContextSchema, ctx ?? {}, "knowledge.reindex(ctx)"), "manage", {});
      startReindex(core);
      return reindexStatus(core);
    },

    async reindexStatus(ctx?: CallContext) {
      guard("knowledge.reindexStatus");
      access.assert(parseInput(callContextSchema, ctx ?? {}, "knowledge.reindexStatus(ctx)"), "read", {});
      return reindexStatus(core);
    },
  };
}

