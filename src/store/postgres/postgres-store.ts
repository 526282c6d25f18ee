import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import { z } from "zod";
import { REINFORCEMENT } from "../../config/defaults.js";
import { ClosedError, SpectronValidationError } from "../../errors.js";
import { queryTerms } from "../../pipeline/recall/normalize.js";
import type { ContextSettings, ReindexState } from "../contexts.js";
import type { EdgeRow } from "../graph.js";
import { toId } from "../ids.js";
import { appendHistory, type RecordRow } from "../records.js";
import type { CacheEntryRow } from "../cache.js";
import type {
  AnswerWrite, ChunkRow, QueryText, RetrievalTraceWrite, ReuseWrite,
  ContextInit, ContextPatch, FactsWrite, FactsWritten, Outcome, NearestQuery, RecordCandidates, RecordCandidatesQuery, RecordListFilter, Scored, Store, StoreChange,
  SweepStep, TraceRow, TurnRow, TurnStatus, VectorHit, VectorSpace,
} from "../store.js";
import type { PassageRow } from "../passages.js";
import type { TraceActor } from "../traces.js";
import { appendChanges, ChangeFeed } from "./change-feed.js";
import { one, query, transaction } from "./connection.js";
import { FollowedIndex } from "./followed-index.js";
import { migrate } from "./migrations.js";
import * as records from "./records-sql.js";
import { addEdge, evictByRecords, insertTrace, reconcile, type Tx } from "./reconcile-sql.js";
import { nearestRecords } from "./nearest.js";
import { recordCandidates } from "./candidates.js";
import * as answers from "./answers-sql.js";
import * as documents from "./documents-sql.js";
import type { DocumentRow, DocumentStatus } from "../documents.js";
import { cosineDistance, enablePgvector, ensureVectorSet, findVectorSet, fromVectorColumn, getVector, type VectorSet } from "./vector-sets.js";

const optionsSchema = z
  .object({
    connectionString: z.string().min(1).optional(),
    pool: z.custom<pg.Pool>((value) => value instanceof pg.Pool, "a pg.Pool").optional(),
    max: z.number().int().min(2).max(1000).optional(),
    vectors: z.enum(["auto", "pgvector", "hnswlib"]).optional(),
  })
  .strict()
  .refine((o) => (o.connectionString === undefined) !== (o.pool === undefined), "exactly one of `connectionString` and `pool`");

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`. Give this or `pool`. */
  connectionString?: string;
  /** A `pg.Pool` of your own (not closed by Spectron). Give this or `connectionString`. */
  pool?: pg.Pool;
  /** Connections in the pool created from `connectionString` (one more is held for LISTEN). @default 10 */
  max?: number;
  /**
   * Where nearest-neighbour search runs: `pgvector` (an HNSW index in PostgreSQL; the extension must be installable),
   * `hnswlib` (vectors stored in PostgreSQL, searched by an in-process index that follows the change log), or
   * `auto`: pgvector when `CREATE EXTENSION IF NOT EXISTS vector` succeeds. @default "auto"
   */
  vectors?: "auto" | "pgvector" | "hnswlib";
}

/**
 * The PostgreSQL engine: one pool per engine, shared by the Contexts opened on it. Several processes (machines)
 * may open the same database: they see each other's writes through the change log and LISTEN/NOTIFY.
 *
 * @example
 * import { postgresStore } from "spectron/postgres";
 * const engine = postgresStore({ connectionString: process.env.DATABASE_URL });
 */
export function postgresStore(options: PostgresStoreOptions): PostgresEngine {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SpectronValidationError(`store.${issue.path.join(".") || "options"}`, issue.message, options);
  }
  return new PostgresEngine(parsed.data as PostgresStoreOptions);
}

export class PostgresEngine {
  readonly engine = "postgres";
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly vectorsOption: "auto" | "pgvector" | "hnswlib";
  private ready: Promise<boolean> | undefined;

  constructor(options: PostgresStoreOptions) {
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    if (this.ownsPool) this.pool.on("error", () => undefined);
    this.vectorsOption = options.vectors ?? "auto";
  }

  /** Migrates once (shared by every open), and says whether pgvector is used. Cleared on failure: a retry redoes it. */
  private init(now: number): Promise<boolean> {
    this.ready ??= (async () => {
      await migrate(this.pool, now);
      if (this.vectorsOption === "hnswlib") return false;
      const available = await enablePgvector(this.pool);
      if (!available && this.vectorsOption === "pgvector") {
        throw new SpectronValidationError("store.vectors", "a database where `CREATE EXTENSION vector` succeeds", "pgvector", "Install pgvector on the server, or use `vectors: \"auto\"`.");
      }
      return available;
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Opens one Context's store on this database (migrating it first if needed). */
  async open(context: string, options: { now: () => number; onError?: (error: unknown) => void }): Promise<PostgresStore> {
    const pgvector = await this.init(options.now());
    const store = new PostgresStore(this.pool, context, pgvector, options.now, options.onError ?? (() => undefined));
    await store.start();
    return store;
  }

  /** Ends the pool it created (a pool passed in stays open). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

/** Every Store method this engine implements so far (see the report of issue 13 for the rest). */
type Implemented =
  | "engine" | "context" | "openContext" | "settings" | "updateSettings"
  | "storeTurn" | "getTurn" | "listTurns" | "failTurnAttempt" | "extractTurn"
  | "getRecord" | "getRecords" | "listRecords" | "writeFacts" | "reinforce" | "populatedScopeKeys" | "entityNames" | "maxRecordId"
  | "recordCandidates" | "nearestRecords" | "recordVector" | "passageCandidates" | "livePassages"
  | "cacheByQuery" | "cacheBySimilarity" | "cacheEntryUsable" | "writeAnswer" | "writeReuse" | "writeRankedRead" | "flush"
  | "flushCache" | "decayRange" | "expireBatch" | "finishSweep" | "withSweepLock"
  | "getTrace" | "updateTracePayload" | "sourceTrust" | "traceEdges" | "tracesByIds" | "edgesOfTraces" | "scopeKeysOf"
  | "forgetRecord" | "extractionOfTurn"
  | "storeDocument" | "getDocument" | "documentChunks" | "listDocuments" | "startDocumentAttempt" | "touchDocument" | "failDocumentAttempt"
  | "removeDocument" | "indexDocument" | "chunkCandidates" | "feedbackBoosts"
  | "subscribe" | "poll" | "idle" | "close";

const DAY = 86_400_000;

export class PostgresStore implements Pick<Store, Implemented> {
  readonly engine = "postgres";
  private readonly origin = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly feed: ChangeFeed;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private readonly sets = new Map<string, VectorSet>();
  private readonly indexes = new Map<string, FollowedIndex>();
  private settingsCache: ContextSettings | undefined;
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

  private deliver(change: StoreChange): void {
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
      const vectorChanges = new Map<string, { space: VectorSpace; model: string; changes: { seq: number; label: number; op: "add" | "remove" }[] }>();
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
    return value;
  }

  private async vectorSet(space: VectorSpace, model: string): Promise<VectorSet | undefined> {
    const key = `${space}\u001f${model}`;
    let set = this.sets.get(key);
    if (!set) {
      set = await findVectorSet(this.pool, space, model);
      if (set) this.sets.set(key, set);
    }
    return set;
  }

  private async ensureSet(space: VectorSpace, model: string, dim: number): Promise<VectorSet> {
    const set = (await this.vectorSet(space, model)) ?? (await ensureVectorSet(this.pool, space, model, dim, this.pgvector));
    this.sets.set(`${space}\u001f${model}`, set);
    return set;
  }

  /** The in-process index of a set stored as arrays (undefined for pgvector sets: PostgreSQL searches those). */
  followedIndex(set: VectorSet): FollowedIndex | undefined {
    if (set.storage === "pgvector") return undefined;
    const key = `${set.space}\u001f${set.model}`;
    let index = this.indexes.get(key);
    if (!index) this.indexes.set(key, (index = new FollowedIndex(this.pool, this.context, set)));
    return index;
  }

  // ---- Context settings ------------------------------------------------------------------------------------

  async openContext(init: ContextInit): Promise<ContextSettings> {
    await this.write("openContext", async (tx) => {
      // The row lock (or, for a new Context, the advisory lock) keeps two processes opening it at once apart.
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

  async settings(): Promise<ContextSettings> {
    this.assertOpen("settings");
    if (this.settingsCache) return this.settingsCache;
    const settings = await readSettings(this.pool, this.context);
    if (!settings) throw new Error(`Context \`${this.context}\` is missing from the database.`);
    return (this.settingsCache = settings);
  }

  async updateSettings(patch: ContextPatch): Promise<ContextSettings> {
    await this.write("updateSettings", async (tx) => {
      if (await applyPatch(tx, this.context, patch)) tx.entries.push({ kind: "settings" });
    });
    this.settingsCache = undefined;
    return this.settings();
  }

  // ---- Turns -----------------------------------------------------------------------------------------------

  async storeTurn(turn: Omit<TurnRow, "id" | "status" | "attempts" | "error" | "updated_at">, passageExpiresAt: number | null): Promise<TurnRow> {
    return this.write("storeTurn", async (tx) =>
      (await one<TurnRow>(
        tx.client,
        `INSERT INTO turns (context, scope_key, role, content, speaker, occurred_at, metadata, session, principal, on_behalf_of,
           status, attempts, created_at, updated_at, passage_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, $11, $12) RETURNING ${TURN_COLUMNS}`,
        [this.context, turn.scope_key, turn.role, turn.content, turn.speaker, turn.occurred_at, turn.metadata, turn.session,
          turn.principal, turn.on_behalf_of, turn.created_at, passageExpiresAt],
      ))!,
    );
  }

  async getTurn(id: number): Promise<TurnRow | undefined> {
    this.assertOpen("getTurn");
    return one<TurnRow>(this.pool, `SELECT ${TURN_COLUMNS} FROM turns WHERE id = $1 AND context = $2`, [id, this.context]);
  }

  async listTurns(filter: { status?: TurnStatus; scopeKeys?: readonly string[]; limit: number; after?: number }): Promise<TurnRow[]> {
    this.assertOpen("listTurns");
    const values: unknown[] = [this.context];
    const where = ["context = $1"];
    if (filter.status) (values.push(filter.status), where.push(`status = $${values.length}`));
    if (filter.after) (values.push(filter.after), where.push(`id > $${values.length}`));
    if (filter.scopeKeys) (values.push([...filter.scopeKeys]), where.push(`scope_key = ANY($${values.length}::text[])`));
    values.push(filter.limit);
    return query<TurnRow>(this.pool, `SELECT ${TURN_COLUMNS} FROM turns WHERE ${where.join(" AND ")} ORDER BY id LIMIT $${values.length}`, values);
  }

  async failTurnAttempt(id: number, error: string, maxAttempts: number, now: number): Promise<TurnStatus> {
    return this.write("failTurnAttempt", async (tx) =>
      (await one<{ status: TurnStatus }>(
        tx.client,
        `UPDATE turns SET status = CASE WHEN attempts + 1 >= $1 THEN 'failed' ELSE 'pending' END, error = $2, attempts = attempts + 1,
           updated_at = $3 WHERE id = $4 AND context = $5 RETURNING status`,
        [maxAttempts, error, now, id, this.context],
      ))!.status,
    );
  }

  async extractTurn(turnId: number, write: FactsWrite): Promise<FactsWritten | undefined> {
    await this.prepareVectors(write);
    return this.write("extractTurn", async (tx) => {
      // The row lock: a background retry or another process extracting the same turn waits, then finds it done.
      const turn = await one<{ status: TurnStatus }>(tx.client, "SELECT status FROM turns WHERE id = $1 AND context = $2 FOR UPDATE", [turnId, this.context]);
      if (!turn || turn.status === "extracted") return undefined;
      const written = await reconcile(tx, write);
      await query(
        tx.client,
        `UPDATE turns SET status = 'extracted', error = NULL, attempts = attempts + 1, updated_at = $1,
           facts = (SELECT count(*) FROM records WHERE source_kind = 'turn' AND source_id = $2) WHERE id = $3`,
        [write.now, `turn_${turnId}`, turnId],
      );
      return written;
    });
  }

  /** The newest decision trace that extracted `turn_<id>`, with each record it names and its outcome. */
  async extractionOfTurn(turnId: number): Promise<{ traceId: number; outcomes: { record: RecordRow; outcome: Outcome }[] } | undefined> {
    this.assertOpen("extractionOfTurn");
    const row = await one<{ id: number; payload: string }>(
      this.pool,
      `SELECT id, payload FROM traces WHERE context = $1 AND kind = 'decision_trace'
         AND (payload::jsonb)->'source'->>'kind' = 'turn' AND (payload::jsonb)->'source'->>'id' = $2 ORDER BY id DESC LIMIT 1`,
      [this.context, `turn_${turnId}`],
    );
    if (!row) return undefined;
    const listed = (JSON.parse(row.payload) as { outcomes?: { record_id: string; outcome: Outcome }[] }).outcomes ?? [];
    const rows = new Map((await records.getRecords(this.pool, this.context, listed.map((o) => Number(o.record_id.slice(4))))).map((r) => [r.id, r]));
    return { traceId: row.id, outcomes: listed.flatMap((o) => (rows.has(Number(o.record_id.slice(4))) ? [{ record: rows.get(Number(o.record_id.slice(4)))!, outcome: o.outcome }] : [])) };
  }

  // ---- Records ---------------------------------------------------------------------------------------------

  /** Explicit deletion: a tombstone trace, the text out of the record (and so of the full-text index), its vector removed, answers citing it evicted. */
  async forgetRecord(id: number, actor: TraceActor, now: number): Promise<RecordRow> {
    const models = await query<{ model: string }>(this.pool, "SELECT model FROM vector_sets WHERE space = 'records'");
    for (const { model } of models) await this.vectorSet("records", model);
    return this.write("forgetRecord", async (tx) => {
      const row = await one<RecordRow>(tx.client, `SELECT ${records.RECORD_COLUMNS} FROM records WHERE id = $1 AND context = $2 FOR UPDATE`, [id, this.context]);
      if (!row) throw new Error(`Record ${id} is not in Context \`${this.context}\`.`);
      const traceId = await insertTrace(tx, "decision_trace", actor, row.scope_key, {
        source: { kind: "forget", id: null },
        outcomes: [{ record_id: toId("record", row.id), outcome: "forgotten", text: row.text }],
      }, now);
      await query(tx.client, "UPDATE records SET status = 'forgotten', updated_at = $1, history = $2, text = '[forgotten]', norm_text = '' WHERE id = $3", [
        now, appendHistory(row, { at: now, event: "forgotten", trace: traceId }), row.id,
      ]);
      await addEdge(tx, { type: "trace", id: traceId }, "forgot", { type: "record", id: row.id }, now);
      await evictByRecords(tx, [row.id]);
      const set = row.embedding_model ? tx.recordSet(row.embedding_model) : undefined;
      if (set && (await query(tx.client, `DELETE FROM ${set.table} WHERE label = $1 RETURNING label`, [row.id])).length > 0) {
        tx.entries.push({ kind: "vectors", space: "records", model: set.model, label: row.id, op: "remove" });
      }
      tx.entries.push({ kind: "records", ids: [row.id] });
      return (await records.getRecord(tx.client, this.context, row.id))!;
    });
  }

  async getRecord(id: number): Promise<RecordRow | undefined> {
    this.assertOpen("getRecord");
    return records.getRecord(this.pool, this.context, id);
  }

  async getRecords(ids: readonly number[]): Promise<RecordRow[]> {
    this.assertOpen("getRecords");
    return records.getRecords(this.pool, this.context, ids);
  }

  async listRecords(filter: RecordListFilter): Promise<RecordRow[]> {
    this.assertOpen("listRecords");
    return records.listRecords(this.pool, this.context, filter);
  }

  private async prepareVectors(write: FactsWrite): Promise<void> {
    const first = write.vectors.find((v) => v);
    if (first) await this.ensureSet("records", write.embeddingModel, first.length);
  }

  async writeFacts(write: FactsWrite): Promise<FactsWritten> {
    await this.prepareVectors(write);
    return this.write("writeFacts", (tx) => reconcile(tx, write));
  }

  async reinforce(ids: readonly number[], factor: number, now: number): Promise<RecordRow[]> {
    return this.write("reinforce", (tx) => records.reinforce(tx.client, this.context, ids, factor, now));
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

  async nearestRecords(q: NearestQuery): Promise<{ hits: VectorHit[]; path: "exact" | "ann" }> {
    this.assertOpen("nearestRecords");
    const set = await this.vectorSet("records", q.model);
    if (!set) return { hits: [], path: "exact" };
    const index = this.followedIndex(set);
    // Another process's commits first: what it wrote before this call is found by it.
    if (index) await this.feed.poll();
    return nearestRecords(this.pool, this.context, set, index, q);
  }

  async recordCandidates(q: RecordCandidatesQuery): Promise<RecordCandidates> {
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

  /** Passages matching any of the terms, ranked by ts_rank_cd (SQLite: BM25), live at `now`, best first. */
  async passageCandidates(q: { text: QueryText; scopeKeys: readonly string[]; now: number; candidates: number }): Promise<Scored[]> {
    this.assertOpen("passageCandidates");
    const terms = queryTerms(q.text.query, q.text.keywords).map((t) => t.replace(/[^\p{L}\p{N}]+/gu, " ").trim()).filter(Boolean);
    if (terms.length === 0) return [];
    const rows = await query<{ id: number; score: number }>(
      this.pool,
      `WITH q AS (SELECT string_agg('(' || p::text || ')', ' | ')::tsquery AS query
                    FROM (SELECT plainto_tsquery('english', x) AS p FROM unnest($1::text[]) AS x) AS terms WHERE p::text <> '')
       SELECT t.id, ts_rank_cd(t.tsv, q.query) AS score FROM turns t, q
        WHERE t.tsv @@ q.query AND t.context = $2 AND t.scope_key = ANY($3::text[]) AND ${LIVE_PASSAGE}
        ORDER BY score DESC, t.id DESC LIMIT $5`,
      [terms, this.context, [...q.scopeKeys], q.now, q.candidates],
    );
    return rows.map((r) => ({ id: r.id, score: r.score }));
  }

  async livePassages(turnIds: readonly number[], scopeKeys: readonly string[], now: number): Promise<PassageRow[]> {
    this.assertOpen("livePassages");
    if (turnIds.length === 0) return [];
    return query<PassageRow>(
      this.pool,
      `SELECT t.id, t.scope_key, t.role, t.content, t.speaker, t.occurred_at, t.metadata, t.created_at, t.passage_expires_at, t.facts
         FROM turns t WHERE t.id = ANY($1::bigint[]) AND t.context = $2 AND t.scope_key = ANY($3::text[]) AND ${LIVE_PASSAGE}`,
      [[...turnIds], this.context, [...scopeKeys], now],
    );
  }

  // ---- Cache and the writes of reads -----------------------------------------------------------------------

  async cacheByQuery(cacheKey: string, normQuery: string): Promise<CacheEntryRow[]> {
    this.assertOpen("cacheByQuery");
    return answers.cacheByQuery(this.pool, this.context, cacheKey, normQuery);
  }

  async cacheBySimilarity(q: { cacheKey: string; signature: string; model: string; vector: Float32Array; k: number; threshold: number }): Promise<{ entry: CacheEntryRow; similarity: number }[]> {
    this.assertOpen("cacheBySimilarity");
    const set = await this.vectorSet("queries", q.model);
    return set ? answers.cacheBySimilarity(this.pool, this.context, set, q) : [];
  }

  async cacheEntryUsable(entryId: number, now: number, minTrust: number): Promise<{ deps: number[]; chunks: ChunkRow[] } | undefined> {
    this.assertOpen("cacheEntryUsable");
    return answers.cacheEntryUsable(this.pool, entryId, now, minTrust);
  }

  async writeAnswer(write: AnswerWrite): Promise<{ responseTraceId: number; retrievalTraceId: number }> {
    const set = await this.ensureSet("queries", write.query.model, write.query.vector.length);
    return this.write("writeAnswer", (tx) => answers.writeAnswer(tx, write, set));
  }

  /** Committed at once: this engine does not group the writes of reads (each is one round of statements). */
  async writeReuse(write: ReuseWrite): Promise<{ traceId: number; records: RecordRow[] }> {
    return this.write("writeReuse", async (tx) => ({
      traceId: await answers.writeReuseTrace(tx, write),
      records: await records.reinforce(tx.client, this.context, write.reinforce, REINFORCEMENT, write.now),
    }));
  }

  async writeRankedRead(write: { retrieval: RetrievalTraceWrite; reinforce: readonly number[]; now: number }): Promise<RecordRow[]> {
    return this.write("writeRankedRead", async (tx) => {
      await answers.writeRetrievalTrace(tx, write.retrieval, write.now);
      return records.reinforce(tx.client, this.context, write.reinforce, REINFORCEMENT, write.now);
    });
  }

  /** Nothing is grouped on this engine: every write has committed when its promise resolved. */
  async flush(): Promise<void> {
    this.assertOpen("flush");
  }

  async flushCache(): Promise<number> {
    return this.write("flushCache", async (tx) => {
      const ids = (await query<{ id: number }>(tx.client, "DELETE FROM cache_entries WHERE context = $1 RETURNING id", [this.context])).map((r) => r.id);
      if (ids.length > 0) tx.entries.push({ kind: "cache", ids });
      return ids.length;
    });
  }

  // ---- Documents -------------------------------------------------------------------------------------------

  async storeDocument(
    doc: Pick<DocumentRow, "scope_key" | "title" | "metadata" | "principal" | "on_behalf_of" | "session" | "created_at"> & { text: string },
    pieces: readonly string[],
  ): Promise<DocumentRow> {
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

  async indexDocument(documentId: number, chunks: { model: string; vectors: readonly Float32Array[] }, facts: FactsWrite): Promise<FactsWritten | "gone" | "indexed"> {
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

  async chunkCandidates(q: { text: QueryText; scopeKeys: readonly string[]; vector?: { model: string; vector: Float32Array }; candidates: number; limit: number }): Promise<{ row: ChunkRow; score: number }[]> {
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

  /** Records returned for similar recent past queries in scope: id → summed similarity. Exact over the recent ones. */
  async feedbackBoosts(q: { model: string; vector: Float32Array; scopeKeys: readonly string[]; similar: number; recent: number }): Promise<Map<number, number>> {
    this.assertOpen("feedbackBoosts");
    const boosts = new Map<number, number>();
    const set = await this.vectorSet("queries", q.model);
    if (!set) return boosts;
    const recent = await query<{ id: number; trace: number; embedding: unknown }>(
      this.pool,
      `SELECT x.id, x.retrieval_trace_id AS trace, v.embedding FROM (SELECT id, retrieval_trace_id FROM queries WHERE context = $1 AND scope_key = ANY($2::text[])
         ORDER BY id DESC LIMIT $3) AS x JOIN ${set.table} v ON v.label = x.id`,
      [this.context, [...q.scopeKeys], q.recent],
    );
    const similar = recent
      .map((r) => ({ trace: r.trace, similarity: 1 - cosineDistance(q.vector, fromVectorColumn(r.embedding)) }))
      .filter((r) => r.similarity >= q.similar)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, 20);
    if (similar.length === 0) return boosts;
    const edges = await query<{ src_id: number; dst_id: string }>(
      this.pool,
      "SELECT src_id, dst_id FROM edges WHERE src_type = 'trace' AND src_id = ANY($1::bigint[]) AND kind = 'returned' AND dst_type = 'record' ORDER BY id",
      [similar.map((s) => s.trace)],
    );
    for (const s of similar) {
      for (const e of edges) if (e.src_id === s.trace) boosts.set(Number(e.dst_id), (boosts.get(Number(e.dst_id)) ?? 0) + s.similarity);
    }
    return boosts;
  }

  // ---- Sweeps ----------------------------------------------------------------------------------------------

  async decayRange(from: number, to: number, factors: { context: number; knowledge: number }, now: number): Promise<number> {
    return this.write("decayRange", async (tx) => {
      const rows = await query(
        tx.client,
        `UPDATE records SET
           importance = importance * power(CASE memory_category WHEN 'context' THEN $1::float8 WHEN 'knowledge' THEN $2::float8 ELSE 1 END,
                                            trunc(($3 - last_decay_at) / ${DAY}::numeric)),
           last_decay_at = last_decay_at + trunc(($3 - last_decay_at) / ${DAY}::numeric)::bigint * ${DAY}
         WHERE context = $4 AND id > $5 AND id <= $6 AND status IN ('current', 'flagged') AND $3 - last_decay_at >= ${DAY}
         RETURNING id`,
        [factors.context, factors.knowledge, now, this.context, from, to],
      );
      return rows.length;
    });
  }

  async expireBatch(batch: number, now: number): Promise<SweepStep> {
    const models = await query<{ model: string }>(this.pool, "SELECT DISTINCT model FROM vector_sets WHERE space = 'records'");
    for (const { model } of models) await this.vectorSet("records", model);
    return this.write("expireBatch", async (tx) => {
      const rows = await query<RecordRow>(
        tx.client,
        `SELECT ${records.RECORD_COLUMNS} FROM records WHERE context = $1 AND expires_at IS NOT NULL AND expires_at <= $2
           AND status IN ('current', 'flagged') ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [this.context, now, batch],
      );
      for (const row of rows) {
        await query(tx.client, "UPDATE records SET status = 'expired', updated_at = $1, history = $2 WHERE id = $3", [
          now, JSON.stringify([...(JSON.parse(row.history) as unknown[]), { at: now, event: "expired" }]), row.id,
        ]);
        const set = row.embedding_model ? tx.recordSet(row.embedding_model) : undefined;
        if (set && (await query(tx.client, `DELETE FROM ${set.table} WHERE label = $1 RETURNING label`, [row.id])).length > 0) {
          tx.entries.push({ kind: "vectors", space: "records", model: set.model, label: row.id, op: "remove" });
        }
      }
      const evicted = await evictByRecords(tx, rows.map((r) => r.id));
      if (rows.length > 0) tx.entries.push({ kind: "records", ids: rows.map((r) => r.id) });
      return { changed: rows.length, evicted: evicted.length, done: rows.length < batch };
    });
  }

  async finishSweep(input: { actor: TraceActor; payload: Record<string, unknown>; lastDecayAt?: number; now: number }): Promise<number> {
    return this.write("finishSweep", async (tx) => {
      if (input.lastDecayAt !== undefined) {
        await query(tx.client, "UPDATE contexts SET last_decay_at = $1 WHERE name = $2", [input.lastDecayAt, this.context]);
        tx.entries.push({ kind: "settings" });
      }
      return insertTrace(tx, "sweep_trace", input.actor, null, input.payload, input.now);
    });
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

  // ---- Traces, trust ---------------------------------------------------------------------------------------

  async getTrace(id: number): Promise<TraceRow | undefined> {
    this.assertOpen("getTrace");
    return one<TraceRow>(this.pool, `SELECT ${TRACE_COLUMNS} FROM traces WHERE id = $1 AND context = $2`, [id, this.context]);
  }

  async updateTracePayload(id: number, payload: unknown): Promise<void> {
    await this.write("updateTracePayload", async (tx) => {
      await query(tx.client, "UPDATE traces SET payload = $1 WHERE id = $2 AND context = $3", [JSON.stringify(payload), id, this.context]);
    });
  }

  async traceEdges(id: number): Promise<{ out: EdgeRow[]; in: EdgeRow[] }> {
    this.assertOpen("traceEdges");
    const [out, into] = await Promise.all([
      query<EdgeRow>(this.pool, `SELECT ${EDGE_COLUMNS} FROM edges WHERE src_type = 'trace' AND src_id = $1 AND context = $2 ORDER BY id`, [id, this.context]),
      query<EdgeRow>(this.pool, `SELECT ${EDGE_COLUMNS} FROM edges WHERE dst_type = 'trace' AND dst_id = $1 AND context = $2 ORDER BY id`, [String(id), this.context]),
    ]);
    return { out, in: into };
  }

  async tracesByIds(ids: readonly number[]): Promise<TraceRow[]> {
    this.assertOpen("tracesByIds");
    if (ids.length === 0) return [];
    return query<TraceRow>(this.pool, `SELECT ${TRACE_COLUMNS} FROM traces WHERE id = ANY($1::bigint[]) AND context = $2 ORDER BY id`, [[...ids], this.context]);
  }

  async edgesOfTraces(ids: readonly number[]): Promise<EdgeRow[]> {
    this.assertOpen("edgesOfTraces");
    if (ids.length === 0) return [];
    return query<EdgeRow>(this.pool, `SELECT ${EDGE_COLUMNS} FROM edges WHERE src_type = 'trace' AND src_id = ANY($1::bigint[]) AND context = $2 ORDER BY id`, [[...ids], this.context]);
  }

  async scopeKeysOf(kind: "record" | "turn" | "chunk" | "document" | "trace", ids: readonly number[]): Promise<Map<number, string | null>> {
    this.assertOpen("scopeKeysOf");
    if (ids.length === 0) return new Map();
    const table = { record: "records", turn: "turns", chunk: "chunks", document: "documents", trace: "traces" }[kind];
    const rows = await query<{ id: number; scope_key: string | null }>(this.pool, `SELECT id, scope_key FROM ${table} WHERE id = ANY($1::bigint[]) AND context = $2`, [[...ids], this.context]);
    return new Map(rows.map((r) => [r.id, r.scope_key]));
  }

  async sourceTrust(sourceKey: string | null): Promise<number> {
    this.assertOpen("sourceTrust");
    if (sourceKey === null) return 1;
    return (await one<{ trust: number }>(this.pool, "SELECT trust FROM sources WHERE context = $1 AND key = $2", [this.context, sourceKey]))?.trust ?? 1;
  }

  // ---- Changes, lifetime -----------------------------------------------------------------------------------

  subscribe(listener: (change: StoreChange) => void): () => void {
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

  async close(): Promise<{ unsaved: { path: string; code: string; message: string }[] }> {
    if (this.closed) return { unsaved: [] };
    this.closed = true;
    await this.feed.close();
    this.listeners.clear();
    // In-process indexes live in memory only: nothing to save (another open rebuilds them from the tables).
    return { unsaved: [] };
  }
}

const EDGE_COLUMNS = "id, context, src_type, src_id, kind, dst_type, dst_id, weight, created_at";
const TRACE_COLUMNS = "id, context, kind, principal, on_behalf_of, session, scope_key, payload, created_at";

const TURN_COLUMNS = `id, context, scope_key, role, content, speaker, occurred_at, metadata, session, principal, on_behalf_of, status,
  attempts, error, created_at, updated_at`;

/** A passage (over `turns t`) retrievable at `$4`: see store/passages.ts for the rule. */
const LIVE_PASSAGE = `(CASE WHEN t.facts > 0
    THEN EXISTS (SELECT 1 FROM records r WHERE r.source_kind = 'turn' AND r.source_id = 'turn_' || t.id AND r.context = t.context
                   AND r.status NOT IN ('expired', 'forgotten') AND (r.expires_at IS NULL OR r.expires_at > $4))
    ELSE (t.passage_expires_at IS NULL OR t.passage_expires_at > $4) END)`;

interface ContextRow {
  created_at: number;
  models: string;
  retention: string;
  cache: string;
  providers_configured: string;
  providers_sealed: string | null;
  last_decay_at: number | null;
  index_model: string | null;
  reindex: string | null;
}

async function readSettings(db: pg.Pool | pg.PoolClient, context: string): Promise<ContextSettings | undefined> {
  const row = await one<ContextRow>(db, "SELECT * FROM contexts WHERE name = $1", [context]);
  if (!row) return undefined;
  const models = JSON.parse(row.models) as ContextSettings["models"];
  return {
    createdAt: row.created_at,
    models,
    retention: JSON.parse(row.retention) as ContextSettings["retention"],
    cache: JSON.parse(row.cache) as ContextSettings["cache"],
    providersConfigured: JSON.parse(row.providers_configured) as string[],
    providersSealed: row.providers_sealed,
    lastDecayAt: row.last_decay_at,
    indexModel: row.index_model ?? models.embedding,
    reindex: row.reindex ? (JSON.parse(row.reindex) as ReindexState) : { status: "idle", done: 0, total: 0, model: null },
  };
}

/** Writes a settings patch inside `tx`; whether anything was written. */
async function applyPatch(tx: Tx, context: string, patch: ContextPatch): Promise<boolean> {
  const fields: [string, unknown][] = [];
  if (patch.models) fields.push(["models", JSON.stringify(patch.models)]);
  if (patch.retention) fields.push(["retention", JSON.stringify(patch.retention)]);
  if (patch.cache) fields.push(["cache", JSON.stringify(patch.cache)]);
  if (patch.providersConfigured) fields.push(["providers_configured", JSON.stringify(patch.providersConfigured)]);
  if (patch.providersSealed !== undefined) fields.push(["providers_sealed", patch.providersSealed]);
  if (patch.lastDecayAt !== undefined) fields.push(["last_decay_at", patch.lastDecayAt]);
  if (patch.reindex) fields.push(["reindex", JSON.stringify(patch.reindex)]);
  if (patch.embeddingChangedTo) {
    // The rule of store/contexts.ts: retrieval keeps the vectors it has until a reindex completes; with none, the
    // new model takes over at once.
    const current = (await readSettings(tx.client, context))!;
    const has = await one(
      tx.client,
      "SELECT 1 FROM records WHERE context = $1 AND embedding_model = $2 UNION ALL SELECT 1 FROM chunks WHERE context = $1 AND embedding_model = $2 LIMIT 1",
      [context, current.indexModel],
    );
    fields.push(["index_model", has ? current.indexModel : patch.embeddingChangedTo.to]);
  } else if (patch.indexModel !== undefined) fields.push(["index_model", patch.indexModel]);
  if (fields.length === 0) return false;
  await query(tx.client, `UPDATE contexts SET ${fields.map(([k], i) => `${k} = $${i + 2}`).join(", ")} WHERE name = $1`, [context, ...fields.map(([, v]) => v)]);
  return true;
}
