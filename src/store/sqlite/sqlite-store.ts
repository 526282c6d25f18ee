import { IMPORTANCE_FLOOR, lifeExtensions } from "../../lifecycle/survival.js";
import type { Logger } from "../../config/schemas.js";
import { REINFORCEMENT } from "../../config/defaults.js";
import { SpectronError } from "../../errors.js";
import { openDatabase, sql, sqlPluck, immediate, type Db } from "../database.js";
import { evictByChunks, flushCache } from "../cache.js";
import { createContext, indexModelAfterChange, readContext, updateContext } from "../contexts.js";
import {
  documentChunks,
  getDocument,
  insertDocument,
  listDocuments,
  markDocumentAttemptFailed,
  markDocumentIndexed,
  startDocumentAttempt,
  touchDocument,
} from "../documents.js";
import { addEdge, edgesFrom, edgesTo, entityNamesOf } from "../graph.js";
import { parseId, toId } from "../ids.js";
import { countPassageFacts, getLivePassages, setPassageExpiry } from "../passages.js";
import { appendHistory, extendExpiries, getRecord, getRecords, visibleOfKind, live, populatedScopeKeys, reinforceRecords, updateRecord, type RecordRow } from "../records.js";
import { sourceTrust } from "../sources.js";
import { eraseRecords } from "../erase.js";
import { extractionOfTurn, getTrace, insertTrace, listTraces, updateTracePayload } from "../traces.js";
import { getTurn, insertTurn, listTurns, markAttemptFailed, markTurn } from "../turns.js";
import { deleteVector, getVector, putVector } from "../vectors.js";
import { applyReflection } from "./reconcile.js";
import type * as S from "../store.js";
import { cacheByQuery, cacheBySimilarity, cacheEntryUsable, feedbackBoosts } from "./answer-reads.js";
import { chunkCandidates } from "./chunk-search.js";
import { reconcileFacts } from "./facts.js";
import * as budget from "./budget.js";
import { editRecord } from "./edit-record.js";
import * as evolve from "./evolve.js";
import * as maintenance from "./maintenance.js";
import { neighbourCandidates } from "./neighbours.js";
import { passageCandidates } from "./passage-search.js";
import { writeAnswer, writeRankedRead, writeReflection, writeReuse, type WriteParts } from "./read-writes.js";
import { nearestRecords, recordCandidates, toVisible } from "./record-search.js";
import { VectorIndexes } from "./vector-indexes.js";
import { Writer } from "./writer.js";

/** Node kinds whose scope keys trace redaction reads, and their tables. */
const SCOPED: Record<"record" | "turn" | "chunk" | "document" | "trace", string> = {
  record: "records",
  turn: "turns",
  chunk: "chunks",
  document: "documents",
  trace: "traces",
};
/** A live record that decay has brought below the floor (lifecycle/survival.ts; identity never): `?` is the floor. */
const BELOW_FLOOR = `(memory_category != 'identity' AND importance < ?)`;
/** Ids per `IN (…)` list. */
const BATCH = 500;
/**
 * The engine methods a ranked read (`query`, `search`) calls. None of them reads traces or edges, so they run
 * without first writing the traces of earlier reads, which wait for the next turn of the event loop
 * (Writer.defer). Every other method writes them first (Writer.settle): whatever it reads includes every read
 * made before it.
 */
const RANKED_READ_METHODS = new Set([
  "settings", "settingsSync", "passageCandidates", "recordCandidates", "getRecords", "livePassages", "feedbackBoosts",
  "chunkCandidates", "writeRankedRead",
]);

/**
 * The embedded engine: one better-sqlite3 connection (WAL, sqlite-vec, FTS5) and the hnswlib indexes of one
 * Context. Every method runs synchronously inside (transactions never span an `await`); the promises only
 * satisfy the interface. Writes of reads are group-committed (Writer). Other processes' commits are seen
 * through `PRAGMA data_version` (`poll`, and the vector indexes before each search).
 */
export class SqliteStore implements S.Store {
  readonly engine = "sqlite";
  readonly db: Db;
  readonly indexes: VectorIndexes;
  readonly writer: Writer;
  private readonly parts: WriteParts;
  private readonly listeners = new Set<(change: S.StoreChange) => void>();
  private cachedSettings: S.ContextSettings | undefined;
  /** `PRAGMA data_version` when the settings were last checked, and whether it was this turn of the event loop. */
  private dataVersion: number | undefined;
  private checkedThisTurn = false;

  /** Opens (or creates) the file, migrated; see `openDatabase`. Synchronous: the constructor of Spectron calls it. */
  constructor(
    readonly path: string,
    readonly context: string,
    logger: Logger,
  ) {
    this.db = openDatabase(path);
    this.indexes = new VectorIndexes(this.db, context, path, logger);
    this.writer = new Writer(this.db, this.indexes, logger, REINFORCEMENT);
    this.parts = { db: this.db, context, indexes: this.indexes, writer: this.writer };
    // Other connections' commits are noticed from now on (`poll`, the settings cache).
    this.dataVersion = sqlPluck(this.db, "PRAGMA data_version").get() as number;
    this.writer.extendLives = (ids, now) => extendExpiries(this.db, lifeExtensions(this.settingsSync().retention, getRecords(this.db, context, ids), now));
    settleBeforeOtherMethods(this);
  }

  private emit(change: S.StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }

  // Context settings

  /** `openContext`, synchronously (the Spectron constructor). */
  openContextSync(init: S.ContextInit): S.ContextSettings {
    immediate(this.db, () => {
      const stored = readContext(this.db, this.context);
      const { create, ...patch } = init.decide(stored);
      if (!stored && create) createContext(this.db, this.context, create, init.now);
      this.patch(patch);
    });
    // The baseline `poll` compares with: another connection's commit after this one is reported.
    this.dataVersion = sqlPluck(this.db, "PRAGMA data_version").get() as number;
    this.invalidateSettings();
    return this.settingsSync();
  }

  async openContext(init: S.ContextInit): Promise<S.ContextSettings> {
    return this.openContextSync(init);
  }

  private patch(patch: S.ContextPatch): void {
    const { db, context } = this;
    if (patch.models) updateContext(db, context, { models: patch.models });
    if (patch.embeddingChangedTo) {
      updateContext(db, context, { index_model: indexModelAfterChange(db, context, patch.embeddingChangedTo.from, patch.embeddingChangedTo.to) });
    }
    if (patch.indexModel !== undefined) updateContext(db, context, { index_model: patch.indexModel });
    if (patch.retention) updateContext(db, context, { retention: patch.retention });
    if (patch.cache) updateContext(db, context, { cache: patch.cache });
    if (patch.providersConfigured) updateContext(db, context, { providers_configured: patch.providersConfigured });
    if (patch.providersSealed !== undefined) updateContext(db, context, { providers_sealed: patch.providersSealed });
    if (patch.lastDecayAt !== undefined) updateContext(db, context, { last_decay_at: patch.lastDecayAt });
    if (patch.reindex) updateContext(db, context, { reindex: patch.reindex });
  }

  /**
   * The settings, cached. Another process (or instance) may have changed them: the cache is dropped once the file
   * has had another connection's commit, checked at most once per turn of the event loop (~20 µs).
   */
  settingsSync(): S.ContextSettings {
    if (this.cachedSettings && !this.checkedThisTurn) {
      this.checkedThisTurn = true;
      setImmediate(() => (this.checkedThisTurn = false));
      const version = sqlPluck(this.db, "PRAGMA data_version").get() as number;
      if (version !== this.dataVersion) this.cachedSettings = undefined;
      this.dataVersion = version;
    }
    this.cachedSettings ??= readContext(this.db, this.context);
    if (!this.cachedSettings) throw new SpectronError("internal", `Context \`${this.context}\` is missing from the database.`);
    return this.cachedSettings;
  }

  /** Drops the cached settings (after a write to them). */
  invalidateSettings(): void {
    this.cachedSettings = undefined;
    this.emit({ kind: "settings" });
  }

  async settings(): Promise<S.ContextSettings> {
    return this.settingsSync();
  }

  async updateSettings(patch: S.ContextPatch): Promise<S.ContextSettings> {
    this.writer.transaction(() => this.patch(patch));
    this.invalidateSettings();
    return this.settingsSync();
  }

  // Turns

  async storeTurn(turn: Omit<S.TurnRow, "id" | "status" | "attempts" | "error" | "updated_at">, passageExpiresAt: number | null): Promise<S.TurnRow> {
    const id = this.writer.transaction(() => {
      const id = insertTurn(this.db, { ...turn, context: this.context });
      // Until extraction writes records from it, the turn is a passage for as long as a context fact would be.
      setPassageExpiry(this.db, id, passageExpiresAt);
      return id;
    });
    return getTurn(this.db, this.context, id)!;
  }

  async storeTurns(turns: readonly { turn: Omit<S.TurnRow, "id" | "status" | "attempts" | "error" | "updated_at">; passageExpiresAt: number | null }[]): Promise<S.TurnRow[]> {
    const ids = this.writer.transaction(() =>
      turns.map(({ turn, passageExpiresAt }) => {
        const id = insertTurn(this.db, { ...turn, context: this.context });
        setPassageExpiry(this.db, id, passageExpiresAt);
        return id;
      }),
    );
    return ids.map((id) => getTurn(this.db, this.context, id)!);
  }

  async getTurn(id: number): Promise<S.TurnRow | undefined> {
    return getTurn(this.db, this.context, id);
  }

  async listTurns(filter: { status?: S.TurnStatus; scopeKeys?: readonly string[]; limit: number; after?: number }): Promise<S.TurnRow[]> {
    return listTurns(this.db, this.context, filter);
  }

  async failTurnAttempt(id: number, error: string, maxAttempts: number, now: number): Promise<S.TurnStatus> {
    return markAttemptFailed(this.db, id, now, error, maxAttempts);
  }

  async extractTurn(turnId: number, write: S.FactsWrite): Promise<S.FactsWritten | undefined> {
    return this.writer.transaction(() => {
      // Another caller (the background retry, another process) may have extracted it while the model answered.
      const fresh = getTurn(this.db, this.context, turnId);
      if (!fresh || fresh.status === "extracted") return undefined;
      const written = reconcileFacts(this.parts, write);
      markTurn(this.db, turnId, "extracted", write.now);
      countPassageFacts(this.db, turnId);
      return written;
    });
  }

  async extractionOfTurn(turnId: number): Promise<{ traceId: number; outcomes: { record: RecordRow; outcome: S.Outcome }[] } | undefined> {
    const done = extractionOfTurn(this.db, this.context, toId("turn", turnId));
    if (!done) return undefined;
    const outcomes: { record: RecordRow; outcome: S.Outcome }[] = [];
    for (const { record_id, outcome } of done.outcomes) {
      const row = getRecord(this.db, this.context, parseId("record", record_id));
      if (row) outcomes.push({ record: row, outcome: outcome as S.Outcome });
    }
    return { traceId: done.traceId, outcomes };
  }

  // Records

  async getRecord(id: number): Promise<RecordRow | undefined> {
    return getRecord(this.db, this.context, id);
  }

  async getRecords(ids: readonly number[]): Promise<RecordRow[]> {
    return this.writer.withPendingReinforcement(getRecords(this.db, this.context, ids));
  }

  async listRecords(f: S.RecordListFilter): Promise<RecordRow[]> {
    const where = [`context = ?`, `scope_key IN (${f.scopeKeys.map(() => "?").join(",")})`];
    const params: unknown[] = [this.context, ...f.scopeKeys];
    if (f.status) (where.push("status = ?"), params.push(f.status));
    else (where.push(`${live()} AND (expires_at IS NULL OR expires_at > ?)`), params.push(f.now));
    if (f.memoryCategory) (where.push("memory_category = ?"), params.push(f.memoryCategory));
    if (f.expiresBefore !== undefined) (where.push("expires_at IS NOT NULL AND expires_at < ?"), params.push(f.expiresBefore));
    if (f.before !== undefined) (where.push("id < ?"), params.push(f.before));
    return sql(this.db, `SELECT * FROM records WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`).all(...params, f.limit) as RecordRow[];
  }

  async writeFacts(write: S.FactsWrite): Promise<S.FactsWritten> {
    return this.writer.transaction(() => reconcileFacts(this.parts, write));
  }

  async applyNeighbourDecisions(input: {
    recordId: number;
    decisions: readonly S.NeighbourDecision[];
    actor: S.TraceActor;
    scope: Readonly<Record<string, string>>;
    now: number;
    parentTrace: number;
    provenance: Record<string, unknown>;
  }): Promise<{ traceId: number | undefined }> {
    const { traceId } = this.writer.transaction(() => applyReflection(this.db, { context: this.context, ...input }));
    return { traceId };
  }

  async forgetRecord(id: number, actor: S.TraceActor, now: number): Promise<RecordRow> {
    const { db, context } = this;
    this.writer.transaction(() => {
      const row = getRecord(db, context, id)!;
      // The decision trace names the record, never its words: erasure would only have to cut them again.
      const traceId = insertTrace(db, context, "decision_trace", actor, row.scope_key, {
        source: { kind: "forget", id: null },
        outcomes: [{ record_id: toId("record", row.id), outcome: "forgotten" }],
      }, now);
      updateRecord(db, row.id, { status: "forgotten", updated_at: now, history: appendHistory(row, { at: now, event: "forgotten", trace: traceId }) });
      addEdge(db, context, { type: "trace", id: traceId }, "forgot", { type: "record", id: row.id }, now);
      // Its words go, and those of the turn it was extracted from (store/erase.ts); the vector deletions reach the
      // ANN index from the writer after the commit.
      eraseRecords(db, context, [row.id], now, { turns: true });
    });
    return getRecord(db, context, id)!;
  }

  async editRecord(edit: S.RecordEditWrite): Promise<{ record: RecordRow } | { refused: S.RecordStatus | "gone" }> {
    return editRecord(this.parts, edit);
  }

  async recordScopeKeys(): Promise<string[]> {
    return sqlPluck(this.db, "SELECT DISTINCT scope_key FROM records WHERE context = ?").all(this.context) as string[];
  }

  async recordsOfKind(filter: S.RecordFilter, kind: RecordRow["kind"], limit: number): Promise<RecordRow[]> {
    return this.writer.withPendingReinforcement(visibleOfKind(this.db, toVisible(this.context, filter), kind, limit));
  }

  async reinforce(ids: readonly number[], factor: number, now: number, options: { extendLife?: boolean } = {}): Promise<RecordRow[]> {
    return this.writer.transaction(() => {
      const rows = reinforceRecords(this.db, this.context, ids, factor, now);
      if (options.extendLife) extendExpiries(this.db, lifeExtensions(this.settingsSync().retention, rows, now));
      return rows;
    });
  }

  async populatedScopeKeys(scopeKeys: readonly string[]): Promise<string[]> {
    return populatedScopeKeys(this.db, this.context, scopeKeys);
  }

  async entityNames(recordIds: readonly number[]): Promise<Map<number, string[]>> {
    return new Map(recordIds.map((id) => [id, entityNamesOf(this.db, id)]));
  }

  async maxRecordId(): Promise<number> {
    return maintenance.maxRecordId(this.parts);
  }

  // Retrieval

  async recordCandidates(query: S.RecordCandidatesQuery): Promise<S.RecordCandidates> {
    return recordCandidates(this.parts, query);
  }

  async nearestRecords(q: S.NearestQuery): Promise<{ hits: S.VectorHit[]; path: "exact" | "ann" }> {
    const visible = toVisible(this.context, q.filter);
    return nearestRecords(this.parts, q.model, q.vector, q.k, visible, q.enough ?? q.k, undefined, undefined, q.exactLimit);
  }

  async recordVector(id: number, model: string): Promise<Float32Array | undefined> {
    return getVector(this.db, "records", model, id);
  }

  async passageCandidates(query: { text: S.QueryText; scopeKeys: readonly string[]; now: number; candidates: number }): Promise<S.Scored[]> {
    return passageCandidates(this.parts, query);
  }

  async livePassages(turnIds: readonly number[], scopeKeys: readonly string[], now: number): Promise<S.PassageRow[]> {
    return getLivePassages(this.db, this.context, turnIds, scopeKeys, now);
  }

  async chunkCandidates(query: Parameters<S.Store["chunkCandidates"]>[0]): Promise<{ row: S.ChunkRow; score: number }[]> {
    return chunkCandidates(this.parts, query);
  }

  async feedbackBoosts(query: Parameters<S.Store["feedbackBoosts"]>[0]): Promise<Map<number, number>> {
    return feedbackBoosts(this.parts, query);
  }

  // Response cache

  async cacheByQuery(cacheKey: string, normQuery: string): Promise<S.CacheEntryRow[]> {
    return cacheByQuery(this.parts, cacheKey, normQuery);
  }

  async cacheBySimilarity(query: Parameters<S.Store["cacheBySimilarity"]>[0]): Promise<{ entry: S.CacheEntryRow; similarity: number }[]> {
    return cacheBySimilarity(this.parts, query);
  }

  async cacheEntryUsable(entryId: number, now: number, minTrust: number): Promise<{ deps: number[]; chunks: S.ChunkRow[] } | undefined> {
    return cacheEntryUsable(this.parts, entryId, now, minTrust);
  }

  async flushCache(): Promise<number> {
    const n = this.writer.transaction(() => flushCache(this.db, this.context));
    this.emit({ kind: "cache", evicted: [] });
    return n;
  }

  // Writes of reads

  async writeAnswer(write: S.AnswerWrite): Promise<{ responseTraceId: number; retrievalTraceId: number }> {
    return writeAnswer(this.parts, write);
  }

  async writeReuse(write: S.ReuseWrite): Promise<{ traceId: number; records: RecordRow[] }> {
    return writeReuse(this.parts, write);
  }

  async writeRankedRead(write: { retrieval: S.RetrievalTraceWrite; reinforce: readonly RecordRow[]; extendLife?: boolean; now: number }): Promise<RecordRow[]> {
    return writeRankedRead(this.parts, write);
  }

  async writeReflection(write: S.ReflectionWrite): Promise<{ responseTraceId: number; written: S.FactsWritten | undefined }> {
    return writeReflection(this.parts, write);
  }

  async flush(): Promise<void> {
    this.writer.commitGroup();
  }

  // Documents

  async storeDocument(
    doc: Pick<S.DocumentRow, "scope_key" | "title" | "metadata" | "principal" | "on_behalf_of" | "session" | "created_at"> & { text: string },
    pieces: readonly string[],
  ): Promise<S.DocumentRow> {
    const { documentId } = this.writer.transaction(() => insertDocument(this.db, { ...doc, context: this.context }, pieces));
    return getDocument(this.db, this.context, documentId)!;
  }

  async getDocument(id: number): Promise<S.DocumentRow | undefined> {
    return getDocument(this.db, this.context, id);
  }

  async documentChunks(documentId: number): Promise<{ id: number; text: string }[]> {
    return documentChunks(this.db, documentId);
  }

  async listDocuments(filter: { status?: S.DocumentStatus; scopeKeys?: readonly string[]; limit: number; touchedBefore?: number }): Promise<S.DocumentRow[]> {
    return listDocuments(this.db, this.context, filter);
  }

  async startDocumentAttempt(id: number, now: number): Promise<void> {
    this.writer.transaction(() => startDocumentAttempt(this.db, id, now));
  }

  async touchDocument(id: number, now: number): Promise<void> {
    this.writer.transaction(() => touchDocument(this.db, id, now));
  }

  async failDocumentAttempt(id: number, error: string, maxAttempts: number, now: number): Promise<S.DocumentStatus | undefined> {
    return this.writer.transaction(() => markDocumentAttemptFailed(this.db, id, now, error, maxAttempts));
  }

  async indexDocument(documentId: number, chunks: { model: string; vectors: readonly Float32Array[] }, facts: S.FactsWrite): Promise<S.FactsWritten | "gone" | "indexed"> {
    return this.writer.transaction(() => {
      const fresh = getDocument(this.db, this.context, documentId);
      if (!fresh) return "gone";
      if (fresh.status === "indexed") return "indexed";
      documentChunks(this.db, documentId).forEach((chunk, n) => {
        sql(this.db, "UPDATE chunks SET embedding_model = ? WHERE id = ?").run(chunks.model, chunk.id);
        putVector(this.db, this.context, "chunks", chunks.model, chunk.id, chunks.vectors[n]!);
      });
      const written = reconcileFacts(this.parts, facts);
      markDocumentIndexed(this.db, documentId, facts.now);
      return written;
    });
  }

  async removeDocument(id: number): Promise<{ chunks: number } | undefined> {
    const { db, context } = this;
    return this.writer.transaction(() => {
      if (!getDocument(db, context, id)) return undefined;
      const chunks = sql(db, "SELECT id, embedding_model FROM chunks WHERE document_id = ?").all(id) as { id: number; embedding_model: string | null }[];
      evictByChunks(db, chunks.map((c) => c.id));
      for (const c of chunks) if (c.embedding_model) deleteVector(db, context, "chunks", c.embedding_model, c.id);
      sql(db, "DELETE FROM chunks WHERE document_id = ?").run(id);
      sql(db, "DELETE FROM documents WHERE id = ?").run(id);
      return { chunks: chunks.length };
    });
  }

  // Reindex

  async claimReindex(decide: Parameters<S.Store["claimReindex"]>[0]): Promise<S.ReindexState | undefined> {
    const claimed = maintenance.claimReindex(this.parts, decide);
    this.invalidateSettings();
    return claimed;
  }

  async rowsToReindex(space: S.VectorSpace, model: string, limit: number): Promise<{ id: number; text: string }[]> {
    return maintenance.rowsToReindex(this.parts, space, model, limit);
  }

  async writeReindexBatch(input: Parameters<S.Store["writeReindexBatch"]>[0]): Promise<boolean> {
    const ok = maintenance.writeReindexBatch(this.parts, input);
    this.invalidateSettings();
    return ok;
  }

  async renewReindexLease(owner: string, now: number): Promise<boolean> {
    const ok = maintenance.renewReindexLease(this.parts, owner, now);
    this.invalidateSettings();
    return ok;
  }

  async finishReindex(owner: string, model: string, from: string): Promise<boolean> {
    const ok = maintenance.finishReindex(this.parts, owner, model, from);
    this.invalidateSettings();
    return ok;
  }

  async failReindex(owner: string, error: string): Promise<void> {
    maintenance.failReindex(this.parts, owner, error);
    this.invalidateSettings();
  }

  // Sweeps

  async decayRange(from: number, to: number, factors: { context: number; knowledge: number }, now: number): Promise<number> {
    return maintenance.decayRange(this.parts, from, to, factors, now);
  }

  async expireBatch(batch: number, now: number): Promise<S.SweepStep> {
    return maintenance.expireBatch(this.parts, batch, now, { sql: BELOW_FLOOR, value: IMPORTANCE_FLOOR });
  }


  async finishSweep(input: { actor: S.TraceActor; payload: Record<string, unknown>; lastDecayAt?: number; now: number }): Promise<number> {
    const id = maintenance.finishSweep(this.parts, input);
    if (input.lastDecayAt !== undefined) this.invalidateSettings();
    return id;
  }

  /** One file has one writer at a time, and sweeps are idempotent per record: the lock is this process's only. */
  async withSweepLock<T>(_name: string, fn: () => Promise<T>): Promise<T | undefined> {
    return fn();
  }

  // Evolution

  async startSweep(input: { actor: S.TraceActor; payload: Record<string, unknown>; now: number }): Promise<number> {
    return evolve.startSweep(this.parts, input);
  }

  async beginConsolidation(input: Parameters<S.Store["beginConsolidation"]>[0]): Promise<{ sweepId: number; reinforced: number; answers: number; through: number }> {
    return evolve.beginConsolidation(this.parts, input);
  }

  async consolidationClusters(query: { now: number; minSize: number; limit: number }): Promise<S.Cluster[]> {
    return evolve.consolidationClusters(this.parts, query);
  }

  async liveRecordsOfSlot(slot: { scopeKey: string; subject: string; attribute: string }): Promise<RecordRow[]> {
    return evolve.liveRecordsOfSlot(this.parts, slot);
  }

  async writeObservation(input: { facts: S.FactsWrite; members: readonly number[]; proofCount: number }): Promise<{ written: S.FactsWritten; recordId: number | undefined }> {
    return evolve.writeObservation(this.parts, input);
  }

  async coConsideredPairs(query: { traces: number; minCount: number }): Promise<S.EntityPair[]> {
    return evolve.coConsideredPairs(this.parts, query);
  }

  async documentTurnBridges(limit: number): Promise<S.DocumentTurnBridge[]> {
    return evolve.bridges(this.parts, limit);
  }

  async entitiesLinked(a: number, b: number): Promise<boolean> {
    return evolve.linked(this.parts, a, b);
  }

  async entityNamesById(ids: readonly number[]): Promise<Map<number, string>> {
    return evolve.entityNamesById(this.parts, ids);
  }

  async ensureEntity(input: { name: string; normName: string; now: number }): Promise<number> {
    return evolve.ensureEntity(this.parts, input);
  }

  async rejectEntityPair(input: { a: number; b: number; now: number }): Promise<void> {
    evolve.rejectEntityPair(this.parts, input);
  }

  async writeRelation(input: { facts: S.FactsWrite; a: number; b: number; relation: string }): Promise<S.FactsWritten> {
    return evolve.writeRelation(this.parts, input);
  }

  // Background budget and backlog

  async budget(): Promise<S.BudgetState> {
    return budget.budget(this.parts);
  }

  /** `budget()`, synchronously (`usage()` is synchronous); undefined once closed. */
  lastBudget(): S.BudgetState | undefined {
    if (!this.open) return undefined;
    return budget.budget(this.parts);
  }

  async setBudget(config: S.BudgetConfig): Promise<S.BudgetState> {
    return budget.setBudget(this.parts, config);
  }

  async chargeBudget(charge: S.BudgetCharge): Promise<S.BudgetState> {
    return budget.chargeBudget(this.parts, charge);
  }

  async addToBacklog(items: readonly Omit<S.BacklogItem, "id">[], now: number): Promise<void> {
    budget.addBacklog(this.parts, items, now);
  }

  async takeFromBacklog(limit: number): Promise<S.BacklogItem[]> {
    return budget.takeBacklog(this.parts, limit);
  }

  // Background reconciliation

  async neighbourCandidates(queries: readonly S.NeighbourQuery[], minSimilarity: number): Promise<Map<number, S.NeighbourCandidates>> {
    return neighbourCandidates(this.parts, queries, minSimilarity);
  }

  // Traces

  async getTrace(id: number): Promise<S.TraceRow | undefined> {
    return getTrace(this.db, this.context, id);
  }

  async listTraces(filter: S.TraceListFilter): Promise<S.TraceRow[]> {
    if (filter.all) return listTraces(this.db, this.context, filter);
    if (filter.within.length === 0) return [];
    const where = ["context = ?", "scope_key IS NOT NULL"];
    const params: unknown[] = [this.context];
    if (filter.kind) (where.push("kind = ?"), params.push(filter.kind));
    if (filter.session) (where.push("session = ?"), params.push(filter.session));
    if (filter.before !== undefined) (where.push("id < ?"), params.push(filter.before));
    // Dimension names are validated upstream (letters, digits, _); values are bound.
    const anyScope = filter.within.map((scope) => {
      const dims = Object.entries(scope);
      if (dims.length === 0) return "1";
      for (const [dim, value] of dims) params.push(`$."${dim}"`, value);
      return `(${dims.map(() => "json_extract(scope_key, ?) = ?").join(" AND ")})`;
    });
    where.push(`(${anyScope.join(" OR ")})`);
    return sql(this.db, `SELECT * FROM traces WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`).all(...params, filter.limit) as S.TraceRow[];
  }

  async traceEdges(id: number): Promise<{ out: S.EdgeRow[]; in: S.EdgeRow[] }> {
    return { out: edgesFrom(this.db, "trace", id), in: edgesTo(this.db, "trace", id) };
  }

  async tracesByIds(ids: readonly number[]): Promise<S.TraceRow[]> {
    const out: S.TraceRow[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const part = ids.slice(i, i + BATCH);
      out.push(...(sql(this.db, `SELECT * FROM traces WHERE context = ? AND id IN (${part.map(() => "?").join(",")})`).all(this.context, ...part) as S.TraceRow[]));
    }
    return out;
  }

  async edgesOfTraces(ids: readonly number[]): Promise<S.EdgeRow[]> {
    const out: S.EdgeRow[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const part = ids.slice(i, i + BATCH);
      out.push(...(sql(this.db, `SELECT * FROM edges WHERE src_type = 'trace' AND src_id IN (${part.map(() => "?").join(",")}) ORDER BY id`).all(...part) as S.EdgeRow[]));
    }
    return out;
  }

  async scopeKeysOf(kind: keyof typeof SCOPED, ids: readonly number[]): Promise<Map<number, string | null>> {
    const out = new Map<number, string | null>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const part = ids.slice(i, i + BATCH);
      const rows = sql(this.db, `SELECT id, scope_key FROM ${SCOPED[kind]} WHERE context = ? AND id IN (${part.map(() => "?").join(",")})`).all(
        this.context,
        ...part,
      ) as { id: number; scope_key: string | null }[];
      for (const row of rows) out.set(row.id, row.scope_key);
    }
    return out;
  }

  async addTraceEdges(traceId: number, edges: readonly { kind: string; to: { type: S.NodeType; id: number | string } }[], now: number): Promise<void> {
    this.writer.transaction(() => {
      for (const e of edges) addEdge(this.db, this.context, { type: "trace", id: traceId }, e.kind, e.to as { type: S.NodeType; id: number }, now);
    });
  }

  async updateTracePayload(id: number, payload: unknown): Promise<void> {
    this.writer.transaction(() => updateTracePayload(this.db, id, payload));
  }

  async sourceTrust(sourceKey: string | null): Promise<number> {
    return sourceTrust(this.db, this.context, sourceKey);
  }

  // Changes, indexes, lifetime

  subscribe(listener: (change: S.StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async poll(): Promise<void> {
    const version = sqlPluck(this.db, "PRAGMA data_version").get() as number;
    if (this.dataVersion !== undefined && version !== this.dataVersion) {
      this.cachedSettings = undefined;
      this.emit({ kind: "settings" });
    }
    this.dataVersion = version;
  }

  async idle(): Promise<void> {
    await this.indexes.idle();
  }

  /** The records index of the model retrieval reads, the one ingest embeds with (reindex batches have their own pace). */
  async throttle(): Promise<void> {
    await this.indexes.drainIfBacklogged("records", this.settingsSync().indexModel);
  }

  /** Whether the connection is open (`close()` not called yet). */
  get open(): boolean {
    return this.db.open;
  }

  /**
   * Closes the connection at once, saving nothing: for a constructor that failed after opening the file (no index
   * was opened, no write of a read is pending).
   */
  discard(): void {
    this.db.close();
  }

  async close(): Promise<{ unsaved: { path: string; code: string; message: string }[] }> {
    let unsaved: { path: string; code: string; message: string }[] = [];
    try {
      unsaved = await this.indexes.close();
    } finally {
      this.writer.close();
      this.db.close();
    }
    return { unsaved };
  }
}

/** Makes every method of `store` outside RANKED_READ_METHODS write the deferred traces of reads first. */
function settleBeforeOtherMethods(store: SqliteStore): void {
  const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(SqliteStore.prototype))) {
    if (name === "constructor" || RANKED_READ_METHODS.has(name) || typeof descriptor.value !== "function") continue;
    const method = descriptor.value as (...args: unknown[]) => unknown;
    methods[name] = (...args: unknown[]) => {
      store.writer.settle();
      return method.apply(store, args);
    };
  }
}
