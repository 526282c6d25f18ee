import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import { REINFORCEMENT } from "../../config/defaults.js";
import { ClosedError, SpectronError } from "../../errors.js";
import { queryTerms } from "../../pipeline/recall/normalize.js";
import type { CacheEntryRow } from "../cache.js";
import type { DocumentRow, DocumentStatus } from "../documents.js";
import type * as S from "../store.js";
import * as answers from "./answers-sql.js";
import { recordCandidates } from "./candidates.js";
import { appendChanges, ChangeFeed } from "./change-feed.js";
import { one, query, transaction } from "./connection.js";
import { applyPatch, readSettings } from "./contexts-sql.js";
import * as documents from "./documents-sql.js";
import { forgetRecord } from "./erase-sql.js";
import { FollowedIndex } from "./followed-index.js";
import { nearestRecords } from "./nearest.js";
import * as budgets from "./budget-sql.js";
import { editRecord } from "./edit-record-sql.js";
import * as evolve from "./evolve-sql.js";
import { applyNeighbourDecisions, neighbourCandidates } from "./neighbours-sql.js";
import { reconcile, type Tx } from "./reconcile-sql.js";
import * as records from "./records-sql.js";
import * as reindex from "./reindex-sql.js";
import * as sweeps from "./sweeps-sql.js";
import * as traces from "./traces-sql.js";
import * as turns from "./turns-sql.js";
import { ensureVectorSet, findVectorSet, getVector, type VectorSet } from "./vector-sets.js";

/**
 * One Context's store on PostgreSQL: a thin class over the topic files (turns-sql, records-sql, reconcile-sql,
 * answers-sql, documents-sql, erase-sql, sweeps-sql, reindex-sql, traces-sql, …). Each write is one transaction on
 * one pooled client (`write`), its time from the injected clock, its vector changes through the change log.
 */
export class PostgresStore implements S.Store {
  readonly engine = "postgres";
  private readonly origin = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly feed: ChangeFeed;
  private readonly listeners = new Set<(change: S.StoreChange) => void>();
  private readonly sets = new Map<string, VectorSet>();
  private readonly indexes = new Map<string, FollowedIndex>();
  private settingsCache: S.ContextSettings | undefined;
  /** What the last budget read or write returned (`lastBudget`). */
  private budgetSeen: S.BudgetState | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly context: string,
    /** pgvector answers nearest-neighbour queries; otherwise the in-process FollowedIndex does. */
    readonly pgvector: boolean,
    /** The injected clock: the only source of time for what this store writes. */
    private readonly now: () => number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.feed = new ChangeFeed(
      pool,
      context,
      this.origin,
      (space, model) => this.vectorSet(space, model),
      (space, model) => {
        const index = this.indexes.get(`${space}\u001f${model}`);
        return index ? (changes) => index.apply(changes) : undefined;
      },
      (change) => this.deliver(change),
      onError,
    );
  }

  async start(): Promise<void> {
    await this.feed.start();
  }

  private assertOpen(method: string): void {
    if (this.closed) throw new ClosedError(method);
  }

  private deliver(change: S.StoreChange): void {
    if (change.kind === "settings") this.settingsCache = undefined;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.onError(error);
      }
    }
  }

  /**
   * One write: a transaction on one pooled client whose change-log entries are appended last; after the commit,
   * this instance's own changes go to its subscribers and its in-process indexes read the log.
   */
  private async write<T>(method: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.assertOpen(method);
    let entries: Tx["entries"] = [];
    let seqs: number[] = [];
    const value = await transaction(this.pool, async (client) => {
      entries = [];
      const tx: Tx = { client, context: this.context, entries, recordSet: (model) => this.sets.get(`records\u001f${model}`) };
      const result = await fn(tx);
      seqs = await appendChanges(client, this.context, this.origin, entries, this.now());
      return result;
    });
    if (entries.length > 0) {
      const vectorChanges = new Map<string, { space: S.VectorSpace; model: string; changes: { seq: number; label: number; op: "add" | "remove" }[] }>();
      entries.forEach((entry, i) => {
        if (entry.kind === "vectors") {
          const key = `${entry.space}\u001f${entry.model}`;
          const group = vectorChanges.get(key) ?? { space: entry.space, model: entry.model, changes: [] };
          group.changes.push({ seq: seqs[i]!, label: entry.label, op: entry.op });
          vectorChanges.set(key, group);
        } else if (entry.kind === "settings") this.deliver({ kind: "settings" });
        else if (entry.kind === "cache") this.deliver({ kind: "cache", evicted: entry.ids });
        else this.deliver({ kind: "records", ids: entry.ids });
      });
      for (const group of vectorChanges.values()) this.deliver({ kind: "vectors", ...group });
      // In-process indexes follow the log, own writes included: read it now so that this instance's next search
      // finds what it just wrote.
      if (vectorChanges.size > 0 && this.indexes.size > 0) await this.feed.poll();
    }
    if (entries.some((e) => e.kind === "settings")) this.settingsCache = undefined;
    return value;
  }

  private async vectorSet(space: S.VectorSpace, model: string): Promise<VectorSet | undefined> {
    const key = `${space}\u001f${model}`;
    let set = this.sets.get(key);
    if (!set) {
      set = await findVectorSet(this.pool, space, model);
      if (set) this.sets.set(key, set);
    }
    return set;
  }

  private async ensureSet(space: S.VectorSpace, model: string, dim: number): Promise<VectorSet> {
    const set = (await this.vectorSet(space, model)) ?? (await ensureVectorSet(this.pool, space, model, dim, this.pgvector));
    this.sets.set(`${space}\u001f${model}`, set);
    return set;
  }

  /** Every records vector set known to the database, loaded (a write that may remove any record's vector needs them). */
  private async loadRecordSets(): Promise<void> {
    const models = await query<{ model: string }>(this.pool, "SELECT model FROM vector_sets WHERE space = 'records'");
    for (const { model } of models) await this.vectorSet("records", model);
  }

  private async prepareVectors(write: S.FactsWrite): Promise<void> {
    const first = write.vectors.find((v) => v);
    if (first) await this.ensureSet("records", write.embeddingModel, first.length);
  }

  /** The in-process index of a set stored as arrays (undefined for pgvector sets: PostgreSQL searches those). */
  followedIndex(set: VectorSet): FollowedIndex | undefined {
    if (set.storage === "pgvector") return undefined;
    const key = `${set.space}\u001f${set.model}`;
    let index = this.indexes.get(key);
    if (!index) this.indexes.set(key, (index = new FollowedIndex(this.pool, this.context, set, this.now, this.onError)));
    return index;
  }

  // ---- Context settings ------------------------------------------------------------------------------------

  async openContext(init: S.ContextInit): Promise<S.ContextSettings> {
    await this.write("openContext", async (tx) => {
      // The advisory lock keeps two processes opening a new Context at once apart.
      await query(tx.client, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`context\u001f${this.context}`]);
      const stored = await readSettings(tx.client, this.context);
      const patch = init.decide(stored);
      if (!stored && patch.create) {
        await query(tx.client, "INSERT INTO contexts (name, created_at, models, cache, last_decay_at) VALUES ($1, $2, $3, $4, $2)", [
          this.context, init.now, JSON.stringify(patch.create.models), JSON.stringify(patch.create.cache),
        ]);
      }
      if (await applyPatch(tx, this.context, patch)) tx.entries.push({ kind: "settings" });
    });
    this.settingsCache = undefined;
    return this.settings();
  }

  async settings(): Promise<S.ContextSettings> {
    this.assertOpen("settings");
    if (this.settingsCache) return this.settingsCache;
    const settings = await readSettings(this.pool, this.context);
    if (!settings) throw new SpectronError("internal", `Context \`${this.context}\` is missing from the database.`);
    return (this.settingsCache = settings);
  }

  async updateSettings(patch: S.ContextPatch): Promise<S.ContextSettings> {
    await this.write("updateSettings", async (tx) => {
      if (await applyPatch(tx, this.context, patch)) tx.entries.push({ kind: "settings" });
    });
    this.settingsCache = undefined;
    return this.settings();
  }

  // ---- Turns -----------------------------------------------------------------------------------------------

  async storeTurn(turn: turns.NewTurn, passageExpiresAt: number | null): Promise<S.TurnRow> {
    return this.write("storeTurn", (tx) => turns.insertTurn(tx, turn, passageExpiresAt));
  }

  async storeTurns(list: readonly { turn: turns.NewTurn; passageExpiresAt: number | null }[]): Promise<S.TurnRow[]> {
    return this.write("storeTurns", async (tx) => {
      const out: S.TurnRow[] = [];
      for (const { turn, passageExpiresAt } of list) out.push(await turns.insertTurn(tx, turn, passageExpiresAt));
      return out;
    });
  }

  async getTurn(id: number): Promise<S.TurnRow | undefined> {
    this.assertOpen("getTurn");
    return turns.getTurn(this.pool, this.context, id);
  }

  async listTurns(filter: { status?: S.TurnStatus; scopeKeys?: readonly string[]; limit: number; after?: number }): Promise<S.TurnRow[]> {
    this.assertOpen("listTurns");
    return turns.listTurns(this.pool, this.context, filter);
  }

  async failTurnAttempt(id: number, error: string, maxAttempts: number, now: number): Promise<S.TurnStatus> {
    return this.write("failTurnAttempt", (tx) => turns.failTurnAttempt(tx, id, error, maxAttempts, now));
  }

  async extractTurn(turnId: number, write: S.FactsWrite): Promise<S.FactsWritten | undefined> {
    await this.prepareVectors(write);
    return this.write("extractTurn", (tx) => turns.extractTurn(tx, turnId, write));
  }

  /** The newest decision trace that extracted `turn_<id>`, with each record it names and its outcome. */
  async extractionOfTurn(turnId: number): Promise<{ traceId: number; outcomes: { record: S.RecordRow; outcome: S.Outcome }[] } | undefined> {
    this.assertOpen("extractionOfTurn");
    const row = await one<{ id: number; payload: string }>(
      this.pool,
      `SELECT id, payload FROM traces WHERE context = $1 AND kind = 'decision_trace'
         AND (payload::jsonb)->'source'->>'kind' = 'turn' AND (payload::jsonb)->'source'->>'id' = $2 ORDER BY id DESC LIMIT 1`,
      [this.context, `turn_${turnId}`],
    );
    if (!row) return undefined;
    const listed = (JSON.parse(row.payload) as { outcomes?: { record_id: string; outcome: S.Outcome }[] }).outcomes ?? [];
    const idOf = (o: { record_id: string }) => Number(o.record_id.slice(4));
    const rows = new Map((await records.getRecords(this.pool, this.context, listed.map(idOf))).map((r) => [r.id, r]));
    return { traceId: row.id, outcomes: listed.flatMap((o) => (rows.has(idOf(o)) ? [{ record: rows.get(idOf(o))!, outcome: o.outcome }] : [])) };
  }

  // ---- Records ---------------------------------------------------------------------------------------------

  async getRecord(id: number): Promise<S.RecordRow | undefined> {
    this.assertOpen("getRecord");
    return records.getRecord(this.pool, this.context, id);
  }

  async getRecords(ids: readonly number[]): Promise<S.RecordRow[]> {
    this.assertOpen("getRecords");
    return records.getRecords(this.pool, this.context, ids);
  }

  async listRecords(filter: S.RecordListFilter): Promise<S.RecordRow[]> {
    this.assertOpen("listRecords");
    return records.listRecords(this.pool, this.context, filter);
  }

  async writeFacts(write: S.FactsWrite): Promise<S.FactsWritten> {
    await this.prepareVectors(write);
    return this.write("writeFacts", (tx) => reconcile(tx, write));
  }

  async applyNeighbourDecisions(input: Parameters<S.Store["applyNeighbourDecisions"]>[0]): Promise<{ traceId: number | undefined }> {
    await this.loadRecordSets();
    return this.write("applyNeighbourDecisions", (tx) => applyNeighbourDecisions(tx, input));
  }

  /** Explicit deletion, with erasure (erase-sql.ts). */
  async forgetRecord(id: number, actor: S.TraceActor, now: number): Promise<S.RecordRow> {
    await this.loadRecordSets();
    const row = await this.write("forgetRecord", (tx) => forgetRecord(tx, id, actor, now));
    if (!row) throw new SpectronError("internal", `Record ${id} is not in Context \`${this.context}\`.`);
    return row;
  }

  async editRecord(edit: S.RecordEditWrite): Promise<{ record: S.RecordRow } | { refused: S.RecordStatus | "gone" }> {
    const set = await this.ensureSet("records", edit.model, edit.vector.length);
    await this.loadRecordSets();
    return this.write("editRecord", (tx) => editRecord(tx, set, edit));
  }

  async recordScopeKeys(): Promise<string[]> {
    this.assertOpen("recordScopeKeys");
    return records.recordScopeKeys(this.pool, this.context);
  }

  async recordsOfKind(filter: S.RecordFilter, kind: S.RecordRow["kind"], limit: number): Promise<S.RecordRow[]> {
    this.assertOpen("recordsOfKind");
    return records.recordsOfKind(this.pool, this.context, filter, kind, limit);
  }

  async reinforce(ids: readonly number[], factor: number, now: number, options: { extendLife?: boolean } = {}): Promise<S.RecordRow[]> {
    const extend = options.extendLife ? { rules: (await this.settings()).retention } : undefined;
    return this.write("reinforce", (tx) => records.reinforce(tx.client, this.context, ids, factor, now, extend));
  }

  async populatedScopeKeys(scopeKeys: readonly string[]): Promise<string[]> {
    this.assertOpen("populatedScopeKeys");
    return records.populatedScopeKeys(this.pool, this.context, scopeKeys);
  }

  async entityNames(recordIds: readonly number[]): Promise<Map<number, string[]>> {
    this.assertOpen("entityNames");
    return records.entityNames(this.pool, recordIds);
  }

  async maxRecordId(): Promise<number> {
    this.assertOpen("maxRecordId");
    return (await one<{ m: number | null }>(this.pool, "SELECT max(id) AS m FROM records WHERE context = $1", [this.context]))?.m ?? 0;
  }

  // ---- Retrieval -------------------------------------------------------------------------------------------

  async nearestRecords(q: S.NearestQuery): Promise<{ hits: S.VectorHit[]; path: "exact" | "ann" }> {
    this.assertOpen("nearestRecords");
    const set = await this.vectorSet("records", q.model);
    if (!set) return { hits: [], path: "exact" };
    const index = this.followedIndex(set);
    // Another process's commits first: what it wrote before this call is found by it.
    if (index) await this.feed.poll();
    return nearestRecords(this.pool, this.context, set, index, q);
  }

  async recordCandidates(q: S.RecordCandidatesQuery): Promise<S.RecordCandidates> {
    this.assertOpen("recordCandidates");
    const set = q.vector ? await this.vectorSet("records", q.vector.model) : undefined;
    const index = set ? this.followedIndex(set) : undefined;
    if (index) await this.feed.poll();
    return recordCandidates(this.pool, this.context, set, index, q);
  }

  async recordVector(id: number, model: string): Promise<Float32Array | undefined> {
    this.assertOpen("recordVector");
    const set = await this.vectorSet("records", model);
    return set ? getVector(this.pool, set, id) : undefined;
  }

  async passageCandidates(q: { text: S.QueryText; scopeKeys: readonly string[]; now: number; candidates: number }): Promise<S.Scored[]> {
    this.assertOpen("passageCandidates");
    return turns.passageCandidates(this.pool, this.context, q);
  }

  async livePassages(turnIds: readonly number[], scopeKeys: readonly string[], now: number): Promise<S.PassageRow[]> {
    this.assertOpen("livePassages");
    return turns.livePassages(this.pool, this.context, turnIds, scopeKeys, now);
  }

  async chunkCandidates(q: Parameters<S.Store["chunkCandidates"]>[0]): Promise<{ row: S.ChunkRow; score: number }[]> {
    this.assertOpen("chunkCandidates");
    const set = q.vector ? await this.vectorSet("chunks", q.vector.model) : undefined;
    return documents.chunkCandidates(this.pool, this.context, set, {
      terms: queryTerms(q.text.query, q.text.keywords),
      scopeKeys: q.scopeKeys,
      ...(q.vector ? { vector: q.vector.vector } : {}),
      candidates: q.candidates,
      limit: q.limit,
    });
  }

  async feedbackBoosts(q: Parameters<S.Store["feedbackBoosts"]>[0]): Promise<Map<number, number>> {
    this.assertOpen("feedbackBoosts");
    const set = await this.vectorSet("queries", q.model);
    return set ? answers.feedbackBoosts(this.pool, this.context, set, q) : new Map();
  }

  // ---- Cache and the writes of reads -----------------------------------------------------------------------

  async cacheByQuery(cacheKey: string, normQuery: string): Promise<CacheEntryRow[]> {
    this.assertOpen("cacheByQuery");
    return answers.cacheByQuery(this.pool, this.context, cacheKey, normQuery);
  }

  async cacheBySimilarity(q: Parameters<S.Store["cacheBySimilarity"]>[0]): Promise<{ entry: CacheEntryRow; similarity: number }[]> {
    this.assertOpen("cacheBySimilarity");
    const set = await this.vectorSet("queries", q.model);
    return set ? answers.cacheBySimilarity(this.pool, this.context, set, q) : [];
  }

  async cacheEntryUsable(entryId: number, now: number, minTrust: number): Promise<{ deps: number[]; chunks: S.ChunkRow[] } | undefined> {
    this.assertOpen("cacheEntryUsable");
    return answers.cacheEntryUsable(this.pool, entryId, now, minTrust);
  }

  async flushCache(): Promise<number> {
    return this.write("flushCache", async (tx) => {
      const ids = (await query<{ id: number }>(tx.client, "DELETE FROM cache_entries WHERE context = $1 RETURNING id", [this.context])).map((r) => r.id);
      if (ids.length > 0) tx.entries.push({ kind: "cache", ids });
      return ids.length;
    });
  }

  async writeAnswer(write: S.AnswerWrite): Promise<{ responseTraceId: number; retrievalTraceId: number }> {
    const set = await this.ensureSet("queries", write.query.model, write.query.vector.length);
    return this.write("writeAnswer", (tx) => answers.writeAnswer(tx, write, set));
  }

  /** Committed at once: this engine does not group the writes of reads (each is one round of statements). */
  async writeReuse(write: S.ReuseWrite): Promise<{ traceId: number; records: S.RecordRow[] }> {
    const extend = write.extendLife ? { rules: (await this.settings()).retention } : undefined;
    return this.write("writeReuse", async (tx) => ({
      traceId: await answers.writeReuseTrace(tx, write),
      records: await records.reinforce(tx.client, this.context, write.reinforce, REINFORCEMENT, write.now, extend),
    }));
  }

  async writeRankedRead(write: { retrieval: S.RetrievalTraceWrite; reinforce: readonly S.RecordRow[]; extendLife?: boolean; now: number }): Promise<S.RecordRow[]> {
    const extend = write.extendLife ? { rules: (await this.settings()).retention } : undefined;
    return this.write("writeRankedRead", async (tx) => {
      await answers.writeRetrievalTrace(tx, write.retrieval, write.now);
      return records.reinforce(tx.client, this.context, write.reinforce.map((r) => r.id), REINFORCEMENT, write.now, extend);
    });
  }

  async writeReflection(write: S.ReflectionWrite): Promise<{ responseTraceId: number; written: S.FactsWritten | undefined }> {
    if (write.insights) await this.prepareVectors({ ...write.insights, source: { kind: "reflect", id: null, key: null } });
    await this.loadRecordSets();
    return this.write("writeReflection", (tx) => answers.writeReflection(tx, write));
  }

  /** Nothing is grouped on this engine: every write has committed when its promise resolved. */
  async flush(): Promise<void> {
    this.assertOpen("flush");
  }

  // ---- Documents -------------------------------------------------------------------------------------------

  async storeDocument(doc: Parameters<S.Store["storeDocument"]>[0], pieces: readonly string[]): Promise<DocumentRow> {
    const id = await this.write("storeDocument", (tx) => documents.storeDocument(tx, doc, pieces));
    return (await documents.getDocument(this.pool, this.context, id))!;
  }

  async getDocument(id: number): Promise<DocumentRow | undefined> {
    this.assertOpen("getDocument");
    return documents.getDocument(this.pool, this.context, id);
  }

  async documentChunks(documentId: number): Promise<{ id: number; text: string }[]> {
    this.assertOpen("documentChunks");
    return documents.documentChunks(this.pool, this.context, documentId);
  }

  async listDocuments(filter: { status?: DocumentStatus; scopeKeys?: readonly string[]; limit: number; touchedBefore?: number }): Promise<DocumentRow[]> {
    this.assertOpen("listDocuments");
    return documents.listDocuments(this.pool, this.context, filter);
  }

  async startDocumentAttempt(id: number, now: number): Promise<void> {
    await this.write("startDocumentAttempt", async (tx) => {
      await query(tx.client, "UPDATE documents SET attempts = attempts + 1, updated_at = $1 WHERE id = $2 AND context = $3", [now, id, this.context]);
    });
  }

  async touchDocument(id: number, now: number): Promise<void> {
    await this.write("touchDocument", async (tx) => {
      await query(tx.client, "UPDATE documents SET updated_at = $1 WHERE id = $2 AND context = $3 AND status <> 'indexed'", [now, id, this.context]);
    });
  }

  async failDocumentAttempt(id: number, error: string, maxAttempts: number, now: number): Promise<DocumentStatus | undefined> {
    return this.write("failDocumentAttempt", (tx) => documents.failDocumentAttempt(tx, id, error, maxAttempts, now));
  }

  async removeDocument(id: number): Promise<{ chunks: number } | undefined> {
    const models = await query<{ model: string }>(this.pool, "SELECT model FROM vector_sets WHERE space = 'chunks'");
    for (const { model } of models) await this.vectorSet("chunks", model);
    return this.write("removeDocument", (tx) => documents.removeDocument(tx, id, (model) => this.sets.get(`chunks\u001f${model}`)));
  }

  async indexDocument(documentId: number, chunks: { model: string; vectors: readonly Float32Array[] }, facts: S.FactsWrite): Promise<S.FactsWritten | "gone" | "indexed"> {
    const first = chunks.vectors.find((v) => v);
    const chunkSet = first ? await this.ensureSet("chunks", chunks.model, first.length) : undefined;
    await this.prepareVectors(facts);
    return this.write("indexDocument", async (tx) => {
      // The row lock: another process indexing the same document waits, then finds it indexed.
      const doc = await one<{ status: DocumentStatus }>(tx.client, "SELECT status FROM documents WHERE id = $1 AND context = $2 FOR UPDATE", [documentId, this.context]);
      if (!doc) return "gone";
      if (doc.status === "indexed") return "indexed";
      if (chunkSet) await documents.putChunkVectors(tx, chunkSet, documentId, chunks.vectors);
      const written = await reconcile(tx, facts);
      await query(tx.client, "UPDATE documents SET status = 'indexed', error = NULL, updated_at = $1 WHERE id = $2", [facts.now, documentId]);
      return written;
    });
  }

  // ---- Reindex ---------------------------------------------------------------------------------------------

  async claimReindex(decide: Parameters<S.Store["claimReindex"]>[0]): Promise<S.ReindexState | undefined> {
    return this.write("claimReindex", (tx) => reindex.claimReindex(tx, decide));
  }

  async rowsToReindex(space: S.VectorSpace, model: string, limit: number): Promise<{ id: number; text: string }[]> {
    this.assertOpen("rowsToReindex");
    return reindex.rowsToReindex(this.pool, this.context, space, model, limit);
  }

  async writeReindexBatch(input: Parameters<S.Store["writeReindexBatch"]>[0]): Promise<boolean> {
    const set = input.rows[0] ? await this.ensureSet(input.space, input.model, input.rows[0].vector.length) : undefined;
    return this.write("writeReindexBatch", (tx) => reindex.writeReindexBatch(tx, set, input));
  }

  async renewReindexLease(owner: string, now: number): Promise<boolean> {
    return this.write("renewReindexLease", (tx) => reindex.renewReindexLease(tx, owner, now));
  }

  async finishReindex(owner: string, model: string, from: string): Promise<boolean> {
    return this.write("finishReindex", (tx) => reindex.finishReindex(tx, owner, model, from));
  }

  async failReindex(owner: string, error: string): Promise<void> {
    await this.write("failReindex", (tx) => reindex.failReindex(tx, owner, error));
  }

  // ---- Sweeps ----------------------------------------------------------------------------------------------

  async decayRange(from: number, to: number, factors: { context: number; knowledge: number }, now: number): Promise<number> {
    return this.write("decayRange", (tx) => sweeps.decayRange(tx, from, to, factors, now));
  }

  async expireBatch(batch: number, now: number): Promise<S.SweepStep> {
    await this.loadRecordSets();
    return this.write("expireBatch", (tx) => sweeps.expireBatch(tx, batch, now));
  }

  async finishSweep(input: { actor: S.TraceActor; payload: Record<string, unknown>; lastDecayAt?: number; now: number }): Promise<number> {
    return this.write("finishSweep", (tx) => sweeps.finishSweep(tx, input));
  }

  /**
   * Runs `fn` holding a session advisory lock named after the Context and `name`, on a connection of its own held
   * for the duration; undefined, without running `fn`, when another session (another process) holds it. The lock
   * goes with the connection, so a process that dies mid-sweep releases it.
   */
  async withSweepLock<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    this.assertOpen("withSweepLock");
    const client = await this.pool.connect();
    const key = `sweep\u001f${this.context}\u001f${name}`;
    let broken = false;
    try {
      const got = await one<{ ok: boolean }>(client, "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [key]);
      if (!got?.ok) return undefined;
      try {
        return await fn();
      } finally {
        await one(client, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]).catch(() => (broken = true));
      }
    } finally {
      client.release(broken);
    }
  }

  // ---- Evolution (consolidation, elaboration) -------------------------------------------------------------

  async startSweep(input: { actor: S.TraceActor; payload: Record<string, unknown>; now: number }): Promise<number> {
    return this.write("startSweep", (tx) => evolve.startSweep(tx, input));
  }

  async beginConsolidation(input: Parameters<S.Store["beginConsolidation"]>[0]): Promise<{ sweepId: number; reinforced: number; answers: number; through: number }> {
    return this.write("beginConsolidation", (tx) => evolve.beginConsolidation(tx, input));
  }

  async consolidationClusters(q: { now: number; minSize: number; limit: number }): Promise<S.Cluster[]> {
    this.assertOpen("consolidationClusters");
    return evolve.consolidationClusters(this.pool, this.context, q);
  }

  async liveRecordsOfSlot(slot: { scopeKey: string; subject: string; attribute: string }): Promise<S.RecordRow[]> {
    this.assertOpen("liveRecordsOfSlot");
    return evolve.liveRecordsOfSlot(this.pool, this.context, slot);
  }

  async writeObservation(input: { facts: S.FactsWrite; members: readonly number[]; proofCount: number }): Promise<{ written: S.FactsWritten; recordId: number | undefined }> {
    await this.prepareVectors(input.facts);
    await this.loadRecordSets();
    return this.write("writeObservation", (tx) => evolve.writeObservation(tx, input));
  }

  async coConsideredPairs(q: { traces: number; minCount: number }): Promise<S.EntityPair[]> {
    this.assertOpen("coConsideredPairs");
    return evolve.coConsideredPairs(this.pool, this.context, q);
  }

  async documentTurnBridges(limit: number): Promise<S.DocumentTurnBridge[]> {
    this.assertOpen("documentTurnBridges");
    return evolve.documentTurnBridges(this.pool, this.context, limit);
  }

  async entitiesLinked(a: number, b: number): Promise<boolean> {
    this.assertOpen("entitiesLinked");
    return evolve.entitiesLinked(this.pool, a, b);
  }

  async entityNamesById(ids: readonly number[]): Promise<Map<number, string>> {
    this.assertOpen("entityNamesById");
    return evolve.entityNamesById(this.pool, this.context, ids);
  }

  async ensureEntity(input: { name: string; normName: string; now: number }): Promise<number> {
    return this.write("ensureEntity", (tx) => evolve.ensureEntity(tx, input));
  }

  async rejectEntityPair(input: { a: number; b: number; now: number }): Promise<void> {
    await this.write("rejectEntityPair", (tx) => evolve.rejectEntityPair(tx, input));
  }

  async writeRelation(input: { facts: S.FactsWrite; a: number; b: number; relation: string }): Promise<S.FactsWritten> {
    await this.prepareVectors(input.facts);
    await this.loadRecordSets();
    return this.write("writeRelation", (tx) => evolve.writeRelation(tx, input));
  }

  // ---- Background budget, backlog, reconciliation ----------------------------------------------------------

  async budget(): Promise<S.BudgetState> {
    this.assertOpen("budget");
    return (this.budgetSeen = await budgets.budget(this.pool, this.context));
  }

  lastBudget(): S.BudgetState | undefined {
    return this.closed ? undefined : this.budgetSeen;
  }

  async setBudget(config: S.BudgetConfig): Promise<S.BudgetState> {
    await this.write("setBudget", (tx) => budgets.setBudget(tx, config));
    return this.budget();
  }

  async chargeBudget(charge: S.BudgetCharge): Promise<S.BudgetState> {
    await this.write("chargeBudget", (tx) => budgets.chargeBudget(tx, charge));
    return this.budget();
  }

  async addToBacklog(items: readonly Omit<S.BacklogItem, "id">[], now: number): Promise<void> {
    await this.write("addToBacklog", (tx) => budgets.addToBacklog(tx, items, now));
    await this.budget(); // lastBudget() shows the backlog as it now is
  }

  async takeFromBacklog(limit: number): Promise<S.BacklogItem[]> {
    const taken = await this.write("takeFromBacklog", (tx) => budgets.takeFromBacklog(tx, limit));
    if (taken.length > 0) await this.budget();
    return taken;
  }

  async neighbourCandidates(queries: readonly S.NeighbourQuery[], minSimilarity: number): Promise<Map<number, S.NeighbourCandidates>> {
    this.assertOpen("neighbourCandidates");
    return neighbourCandidates(this.pool, this.context, (model) => this.vectorSet("records", model), queries, minSimilarity);
  }

  // ---- Traces, trust ---------------------------------------------------------------------------------------

  async getTrace(id: number): Promise<S.TraceRow | undefined> {
    this.assertOpen("getTrace");
    return traces.getTrace(this.pool, this.context, id);
  }

  async listTraces(filter: S.TraceListFilter): Promise<S.TraceRow[]> {
    this.assertOpen("listTraces");
    return traces.listTraces(this.pool, this.context, filter);
  }

  async traceEdges(id: number): Promise<{ out: S.EdgeRow[]; in: S.EdgeRow[] }> {
    this.assertOpen("traceEdges");
    return traces.traceEdges(this.pool, this.context, id);
  }

  async tracesByIds(ids: readonly number[]): Promise<S.TraceRow[]> {
    this.assertOpen("tracesByIds");
    return traces.tracesByIds(this.pool, this.context, ids);
  }

  async edgesOfTraces(ids: readonly number[]): Promise<S.EdgeRow[]> {
    this.assertOpen("edgesOfTraces");
    return traces.edgesOfTraces(this.pool, this.context, ids);
  }

  async scopeKeysOf(kind: "record" | "turn" | "chunk" | "document" | "trace", ids: readonly number[]): Promise<Map<number, string | null>> {
    this.assertOpen("scopeKeysOf");
    return traces.scopeKeysOf(this.pool, this.context, kind, ids);
  }

  async addTraceEdges(traceId: number, edges: readonly { kind: string; to: { type: S.NodeType; id: number | string } }[], now: number): Promise<void> {
    await this.write("addTraceEdges", (tx) => traces.addTraceEdges(tx, traceId, edges, now));
  }

  async updateTracePayload(id: number, payload: unknown): Promise<void> {
    await this.write("updateTracePayload", (tx) => traces.updateTracePayload(tx, id, payload));
  }

  async sourceTrust(sourceKey: string | null): Promise<number> {
    this.assertOpen("sourceTrust");
    if (sourceKey === null) return 1;
    return (await one<{ trust: number }>(this.pool, "SELECT trust FROM sources WHERE context = $1 AND key = $2", [this.context, sourceKey]))?.trust ?? 1;
  }

  // ---- Changes, lifetime -----------------------------------------------------------------------------------

  subscribe(listener: (change: S.StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async poll(): Promise<void> {
    this.assertOpen("poll");
    await this.feed.poll();
  }

  async idle(): Promise<void> {
    await this.feed.poll().catch(() => undefined);
  }

  /** No background index work to wait for: the in-process indexes apply the change log as they read it. */
  async throttle(): Promise<void> {
    this.assertOpen("throttle");
  }

  async close(): Promise<{ unsaved: { path: string; code: string; message: string }[] }> {
    if (this.closed) return { unsaved: [] };
    this.closed = true;
    await this.feed.close();
    this.listeners.clear();
    // In-process indexes save a snapshot to the database when they moved on since theirs (followed-index.ts); a
    // save that fails is reported through onError and costs the next process a build, not data.
    for (const index of this.indexes.values()) await index.close();
    return { unsaved: [] };
  }
}
