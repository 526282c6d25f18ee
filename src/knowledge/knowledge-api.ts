import { z } from "zod";
import type { KnowledgeAddInput, KnowledgeListOptions } from "../types/inputs.js";
import type { Access } from "../access/access.js";
import { actorOf, can, canReadRecord, readableScopeKeys } from "../access/access.js";
import type { Core } from "../core.js";
import { callContextSchema, callContextShape, metadataSchema, parseInput, scopeSchema, type CallContext } from "../config/schemas.js";
import { NotFoundError } from "../errors.js";
import type { DocumentRow, DocumentStatus, ReindexState } from "../store/store.js";
import type { OnProgress } from "../config/progress.js";
import { parseId, toId } from "../store/ids.js";
import { parseScopeKey, scopeKey } from "../store/scope.js";
import { iso } from "../state/public-record.js";
import { chunkText } from "./chunk.js";
import { indexDocument, retryDocuments, type KnowledgeAddResult } from "./index-document.js";
import { reindexStatus, startReindex } from "./reindex.js";

/** What the knowledge namespace uses: the store, and indexing and reindexing deps. */
export type KnowledgeDeps = Pick<Core, "store" | "models" | "settings" | "queue" | "now" | "logger">;

export type { KnowledgeAddResult };

const onProgressSchema = z.custom<OnProgress>((v) => typeof v === "function", "a function ({ phase, done, total }) => void");

/** `knowledge.reindex` options: who is calling, and a progress callback (`reindex` phase, once per committed batch). */
const reindexOptionsSchema = z.strictObject({ ...callContextShape, onProgress: onProgressSchema.optional() });

export const knowledgeAddSchema = z.strictObject({
  title: z.string().trim().min(1, "a non-empty title").max(512),
  text: z.string().trim().min(1, "non-empty text").max(5_000_000, "at most 5,000,000 characters"),
  scope: scopeSchema.default({}),
  metadata: metadataSchema.optional(),
  /** Called as the document is embedded (`embed`), its chunks' facts extracted (`extract`, one per chunk) and written (`store`). */
  onProgress: onProgressSchema.optional(),
  ...callContextShape,
});

export const knowledgeListSchema = z.strictObject({
  status: z.enum(["pending", "indexed", "failed"]).optional(),
  scope: scopeSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  ...callContextShape,
});
export type { KnowledgeAddInput, KnowledgeListOptions } from "../types/inputs.js";

/** A stored document as `knowledge.list` shows it (without its text: its chunks carry it). */
export interface KnowledgeDocument {
  id: string;
  title: string;
  scope: Record<string, string>;
  /** `pending` until embedded and extracted; `failed` after MAX_DOCUMENT_ATTEMPTS attempts (knowledge.retry() tries again). */
  status: DocumentStatus;
  /** Indexing attempts started, the one in `add` included. */
  attempts: number;
  /** The last attempt's error, if it failed. */
  error: string | null;
  chunks: number;
  metadata: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

function toPublicDocument(d: DocumentRow): KnowledgeDocument {
  return {
    id: toId("document", d.id),
    title: d.title,
    scope: parseScopeKey(d.scope_key),
    status: d.status,
    attempts: d.attempts,
    error: d.error,
    chunks: d.chunks,
    metadata: d.metadata ? (JSON.parse(d.metadata) as Record<string, unknown>) : null,
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
  };
}

/**
 * Documents: stored first (with their chunks, searchable by BM25 at once), then embedded and indexed, then
 * knowledge facts extracted from each chunk through the same reconciler as turns. If a model call fails the
 * document and its chunks stay (status `pending`) and the error is thrown; the background retry (on open and on
 * the `retry` schedule) indexes it later, `knowledge.list({ status })` shows it, `knowledge.retry()` retries it.
 */
export function createKnowledgeApi(core: KnowledgeDeps, access: Access, guard: (method: string) => void) {
  return {
    async add(input: KnowledgeAddInput): Promise<KnowledgeAddResult> {
      guard("knowledge.add");
      const i = parseInput(knowledgeAddSchema, input, "input");
      access.assert(i, "write", i.scope);
      const actor = actorOf(i);
      const pieces = chunkText(i.text);
      const now = core.now();
      const doc = await core.store.storeDocument(
          {
            scope_key: scopeKey(i.scope),
            title: i.title,
            text: i.text,
            metadata: i.metadata ? JSON.stringify(i.metadata) : null,
            principal: actor.principal,
            on_behalf_of: actor.onBehalfOf,
            session: actor.session,
            created_at: now,
          },
          pieces,
      );
      return indexDocument(core, doc, i.signal, i.onProgress);
    },

    /**
     * Stored documents, oldest first, optionally by status (`pending`, `indexed`, `failed`) and scope. Like
     * `turns.list`: reading needs `read` on `scope` (the whole Context without one); a principal sees the
     * scopes its grants read.
     */
    async list(options: KnowledgeListOptions = {}): Promise<KnowledgeDocument[]> {
      guard("knowledge.list");
      const opts = parseInput(knowledgeListSchema, options, "options");
      access.assert(opts, "read", opts.scope ?? {});
      const rows = await core.store.listDocuments({
        ...(opts.status ? { status: opts.status } : {}),
        ...(opts.scope ? { scopeKeys: readableScopeKeys(opts.principal, opts.scope) } : {}),
        limit: opts.limit,
      });
      return rows.map(toPublicDocument);
    },

    /**
     * Indexes the documents still `pending` and those marked `failed`, oldest first, up to 100 (not those this
     * instance is indexing right now). `failed` counts the attempts that failed again. Needs `manage`.
     */
    async retry(ctx?: CallContext): Promise<{ indexed: number; failed: number }> {
      guard("knowledge.retry");
      const call = parseInput(callContextSchema, ctx ?? {}, "knowledge.retry(ctx)");
      access.assert(call, "manage", {});
      return retryDocuments(core, { includeFailed: true, ...(call.signal ? { signal: call.signal } : {}) });
    },

    /** Removes a document, its chunks (from every index) and the answers that cited them. Its extracted records stay unless forgotten. */
    async remove(documentId: string, ctx?: CallContext): Promise<{ chunks: number }> {
      guard("knowledge.remove");
      const id = parseId("document", documentId);
      const call = parseInput(callContextSchema, ctx ?? {}, "knowledge.remove(…, ctx)");
      const stored = await core.store.getDocument(id);
      // A document the caller may neither read nor write is "not found", like a missing id; then write decides.
      const doc = access.find(call, "write", "document", documentId, stored, (d) => {
        const scope = parseScopeKey(d.scope_key);
        return can(call.principal, "write", scope) || canReadRecord(call.principal, scope);
      });
      access.assert(call, "write", parseScopeKey(doc.scope_key));
      const removed = await core.store.removeDocument(id);
      if (!removed) throw new NotFoundError("document", documentId);
      return removed;
    },

    /**
     * Re-embeds records, chunks and cached queries with the configured embedding model, in the background.
     * Retrieval keeps using the old vectors until it completes; then the new index takes over atomically.
     * Progress is committed per batch: a reindex interrupted by a crash continues from its last batch, on the
     * next open or the next call. While another live instance (in this process or another) runs it, this
     * returns its status (`owner` names it) and starts nothing (and `onProgress` is not called).
     */
    async reindex(ctx?: CallContext & { onProgress?: OnProgress }): Promise<ReindexState> {
      guard("knowledge.reindex");
      const o = parseInput(reindexOptionsSchema, ctx ?? {}, "knowledge.reindex(ctx)");
      access.assert(o, "manage", {});
      await startReindex(core, o.onProgress);
      return reindexStatus(core);
    },

    async reindexStatus(ctx?: CallContext) {
      guard("knowledge.reindexStatus");
      access.assert(parseInput(callContextSchema, ctx ?? {}, "knowledge.reindexStatus(ctx)"), "read", {});
      return reindexStatus(core);
    },
  };
}

