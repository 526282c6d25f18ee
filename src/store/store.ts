// The store interface: every read and write of durable state Spectron does, as coarse, domain-level operations.
//
// SHAPE: stable from 18:10 UTC on (the PostgreSQL engine is built against it). Additions are fine; a rename or a
// removal is announced here, with the date, before it lands.
//   (no renames so far)
// ADDITIONS 2026-11-30 20:07 UTC (ws-iface, issue 13): the evolution sweeps, the background budget and backlog, the
//   reflection pass's neighbours, the hand edit of a record and write backpressure, so that nothing outside
//   src/store touches SQLite: see "Evolution", "Background budget", "Background reconciliation", `editRecord`,
//   `throttle` below.
//
// Rules every engine keeps:
// - One method that writes is one transaction inside the engine, committed before its promise resolves (or, for
//   the "writes of reads" marked GROUPED, committed within one turn of the event loop, see `flush`). The SQLite
//   engine runs its transactions synchronously inside (no `await` inside a transaction); a PostgreSQL engine runs
//   each on one pooled client. Callbacks passed into a write (`decide`) are synchronous and pure: they run inside
//   the transaction, possibly more than once (a PostgreSQL engine may retry a serialization failure).
// - Time comes from the caller: every write that stamps a row takes `now` (the injected clock), never `now()` in SQL.
// - A write that changes vectors tells the engine's vector index itself, after commit, in one place (callers never
//   do); it also emits a `vectors` change to `subscribe`rs.
// - Ids are the numeric primary keys; callers turn them into public ids (store/ids.ts).
// - Every method is bound to one Context (the `context` the store was opened for).

import type { CacheConfig, Models, RetentionRule } from "../config/schemas.js";
import type { BacklogItem, BudgetCharge, BudgetConfig, BudgetState, BudgetWindow, DeferredKind } from "./budget.js";
import type { CacheEntryRow } from "./cache.js";
import type { Cluster } from "./consolidation.js";
import type { DocumentTurnBridge, EntityPair } from "./elaboration.js";
import type { ContextSettings, ReindexState } from "./contexts.js";
import type { DocumentRow, DocumentStatus } from "./documents.js";
import type { EdgeRow, NodeType } from "./graph.js";
import type { PassageRow } from "./passages.js";
import type { HistoryEntry, MemoryCategory, RecordRow, RecordStatus, SourceKind } from "./records.js";
import type { TraceActor, TraceKind, TraceRow } from "./traces.js";
import type { TurnRow, TurnStatus } from "./turns.js";
import type { VectorChange } from "./vector-index.js";

export type { CacheEntryRow, ContextSettings, ReindexState, DocumentRow, DocumentStatus, EdgeRow, NodeType, PassageRow };
export type { HistoryEntry, MemoryCategory, RecordRow, RecordStatus, SourceKind, TraceActor, TraceKind, TraceRow, TurnRow, TurnStatus };
export type { VectorChange };
export type { BacklogItem, BudgetCharge, BudgetConfig, BudgetState, BudgetWindow, Cluster, DeferredKind, DocumentTurnBridge, EntityPair };

/** What a vector belongs to. Each (space, embedding model) pair is its own vector set. */
export type VectorSpace = "records" | "chunks" | "queries";

/** Statuses a record is live in (found by reads, counted by sweeps): the one definition of "live". */
export const LIVE_STATUSES = ["current", "flagged"] as const;

// ---------------------------------------------------------------------------------------------------------------
// Inputs and outputs

/** Which records a read may see: live, unexpired at `now`, in one of `scopeKeys`; optionally minus one id. */
export interface RecordFilter {
  scopeKeys: readonly string[];
  now: number;
  /** Leave this record out (a record's own neighbours). */
  exceptId?: number;
  /** Ignore expiry (the background reconciliation pass compares with every live record). */
  includeExpired?: boolean;
}

export interface NearestQuery {
  model: string;
  vector: Float32Array;
  k: number;
  filter: RecordFilter;
  /** Enough visible hits from an over-fetched ANN search (see hybrid.ts); default `k`. */
  enough?: number;
  /** Up to this many visible records, exact search rather than the ANN index. */
  exactLimit?: number;
}

export interface VectorHit {
  label: number;
  /** Cosine distance (1 − similarity). */
  distance: number;
}

export interface Scored {
  id: number;
  score: number;
}

/** Tier-3 record channels, each at most `candidates` long, best first. */
export interface RecordCandidatesQuery {
  filter: RecordFilter;
  /** The query and what query understanding made of it (full-text terms, graph entities and attributes). */
  text: QueryText & { subjects: readonly string[]; attributes: readonly string[] };
  /** The query vector and its model, for the vector channel; absent: no vector channel. */
  vector?: { model: string; vector: Float32Array; enough: number };
  /** Turns whose passages matched: their visible live records come back in `ofTurns`. */
  turnIds?: readonly number[];
  candidates: number;
}

/** A query's text and the keywords query understanding added (the engine derives its full-text terms). */
export interface QueryText {
  query: string;
  keywords: readonly string[];
}

export interface RecordCandidates {
  vector: Scored[];
  fts: Scored[];
  graph: Scored[];
  vectorPath: "exact" | "ann" | "none";
  /** Visible live records extracted from `turnIds`. */
  ofTurns: number[];
}

export interface ChunkRow {
  id: number;
  document_id: number;
  scope_key: string;
  ord: number;
  text: string;
  title: string;
}

/** One write of facts through the reconciler (turns, documents, reflect, background passes). */
export interface FactsWrite {
  scope: Readonly<Record<string, string>>;
  scopeKey: string;
  facts: readonly FactInput[];
  derivedFrom?: readonly number[];
  /** One vector per fact (same order), made by `embeddingModel`. */
  vectors: readonly Float32Array[];
  embeddingModel: string;
  source: { kind: SourceKind; id: string | null; key: string | null; node?: { type: NodeType; id: number } };
  actor: TraceActor;
  retention: readonly RetentionRule[];
  now: number;
  provenance?: Record<string, unknown>;
  metadata?: Record<string, unknown> | undefined;
  parentTrace?: number;
}

export interface FactInput {
  kind: RecordRow["kind"];
  memory_category: MemoryCategory;
  subject: string;
  attribute: string | null;
  value: string | null;
  cardinality: "one" | "many";
  text: string;
  confidence: number;
  entities: string[];
}

export type Outcome = "created" | "updated" | "superseded" | "flagged";

export interface FactsWritten {
  traceId: number;
  outcomes: { record: RecordRow; outcome: Outcome }[];
  evictedCacheIds: number[];
}

/** A retrieval trace's content (recall, reflect, ranked reads); the engine adds its edges. */
export interface RetrievalTraceWrite {
  actor: TraceActor;
  scopeKey: string;
  payload: Record<string, unknown>;
  /** Record ids returned (a `returned` edge each), chunk ids returned, runners-up (`considered`, weighted). */
  returned: readonly number[];
  returnedChunks: readonly number[];
  /** Turns whose passages were returned (`returned` edges to them); the engine adds `about` edges to the entities of the returned records. */
  returnedTurns?: readonly number[];
  considered: readonly Scored[];
}

export interface AnswerWrite {
  retrieval: RetrievalTraceWrite;
  /** `used`: the records the answer used (a `used` edge each). */
  response: { actor: TraceActor; scopeKey: string; payload: Record<string, unknown>; used?: readonly number[] };
  /** The query row and vector (tier 2 and feedback read them). */
  query: { text: string; norm: string; model: string; vector: Float32Array };
  /** Cache entry to add; absent when the answer must not be cached. */
  cache?: { scopeKey: string; signature: string; answer: string; deps: readonly number[]; topics: readonly string[]; chunkDeps: readonly number[] };
  now: number;
}

export interface ReuseWrite {
  actor: TraceActor;
  scopeKey: string;
  payload: Record<string, unknown>;
  /** The answer reused (a `reused_from` edge), or the records cited directly (`fact:<id>`, `cited` edges). */
  reusedFrom?: number;
  cited: readonly number[];
  /** Records to reinforce (importance × REINFORCEMENT, capped at 1). */
  reinforce: readonly number[];
  /** The reinforced records were used in an answer: their lives are extended too (lifecycle/survival.ts). */
  extendLife?: boolean;
  now: number;
}

export interface ReflectionWrite {
  retrieval: RetrievalTraceWrite;
  /** `used`: the records the synthesis used (a `used` edge each). */
  response: { actor: TraceActor; scopeKey: string; payload: Record<string, unknown>; used?: readonly number[] };
  /** Insights to reconcile as observations; their decision trace is linked `produced_decision`. */
  insights?: Omit<FactsWrite, "parentTrace" | "source">;
  now: number;
}

export interface NeighbourDecision {
  neighbour: number;
  relation: "duplicate" | "contradicts" | "conflict";
  reason: string;
}

export interface RecordListFilter {
  scopeKeys: readonly string[];
  status?: RecordStatus;
  memoryCategory?: MemoryCategory;
  expiresBefore?: number;
  /** Ids below this one (the cursor). */
  before?: number;
  limit: number;
  now: number;
}

export interface TraceListFilter {
  kind?: TraceKind;
  session?: string;
  before?: number;
  limit: number;
  /** Grants whose scopes the traces must lie within (`{ dims }`: every dimension equal); none: no traces. */
  within: readonly Readonly<Record<string, string>>[];
  /** Every trace of the Context, unscoped ones (sweeps) included; `within` is ignored. */
  all?: boolean;
}

export interface ContextInit {
  /** Runs inside the transaction with the stored settings (undefined for a new Context); says what to write. */
  decide(stored: ContextSettings | undefined): ContextPatch & { create?: Pick<ContextSettings, "models" | "cache"> };
  now: number;
}

export interface ContextPatch {
  models?: Models;
  /** Set the index model; with `indexModelAfterChange`, the engine applies the rule (contexts.ts). */
  indexModel?: string;
  embeddingChangedTo?: { from: string; to: string };
  retention?: RetentionRule[];
  cache?: CacheConfig;
  providersConfigured?: string[];
  providersSealed?: string | null;
  lastDecayAt?: number;
  reindex?: ReindexState;
}

/** What a sweep changed: count, and the trace it wrote. */
export interface SweepStep {
  changed: number;
  /** `expire`: cache entries evicted. */
  evicted?: number;
  /** `expire`: records expired for importance below the floor, traces cut, turns whose words were erased. */
  belowFloor?: number;
  cutTraces?: number;
  erasedPassages?: number;
  /** No more to do. */
  done: boolean;
}

/** A hand edit of one live record (`editRecord`): its new text and value, re-embedded with `model`. */
export interface RecordEditWrite {
  id: number;
  text: string;
  value: string | null;
  model: string;
  vector: Float32Array;
  actor: TraceActor;
  now: number;
}

/** One record the background reconciliation pass looks for neighbours of (`neighbourCandidates`). */
export interface NeighbourQuery {
  recordId: number;
  scopeKey: string;
  /** With `attributes`: live records of this subject and one of these attributes (same slot or its opposite). */
  subject: string | null;
  attributes: readonly string[];
  /** The record's embedding model: near restatements among the scope's live records of this model. null: none. */
  model: string | null;
}

/** Neighbours found for one record: same-slot ids in id order; near restatements, any order. */
export interface NeighbourCandidates {
  sameSlot: number[];
  similar: { id: number; similarity: number }[];
}

/** Something another instance (this process or another) or this one committed. */
export type StoreChange =
  | { kind: "vectors"; space: VectorSpace; model: string; changes: readonly VectorChange[] }
  | { kind: "settings" }
  | { kind: "cache"; evicted: readonly number[] }
  | { kind: "records"; ids: readonly number[] };

// ---------------------------------------------------------------------------------------------------------------
// The interface

export interface Store {
  /** "sqlite" or "postgres". */
  readonly engine: string;
  /** The Context every method reads and writes. */
  readonly context: string;

  // Context settings
  /** Creates the Context or updates it, as `decide` says, in one transaction; returns the settings then stored. */
  openContext(init: ContextInit): Promise<ContextSettings>;
  /** The stored settings (cached by the engine until a `settings` change; cheap to call per request). */
  settings(): Promise<ContextSettings>;
  /** Writes part of the settings; emits a `settings` change. */
  updateSettings(patch: ContextPatch): Promise<ContextSettings>;

  // Turns
  /** Stores a turn as `pending`, findable as a passage until `passageExpiresAt`; returns it. */
  storeTurn(turn: Omit<TurnRow, "id" | "status" | "attempts" | "error" | "updated_at">, passageExpiresAt: number | null): Promise<TurnRow>;
  /** Several turns stored together, in one transaction (batch ingest); in order. */
  storeTurns(turns: readonly { turn: Omit<TurnRow, "id" | "status" | "attempts" | "error" | "updated_at">; passageExpiresAt: number | null }[]): Promise<TurnRow[]>;
  /** One turn, or undefined. */
  getTurn(id: number): Promise<TurnRow | undefined>;
  /** Turns, oldest first, by status and scope keys, after an id. */
  listTurns(filter: { status?: TurnStatus; scopeKeys?: readonly string[]; limit: number; after?: number }): Promise<TurnRow[]>;
  /** Counts a failed extraction attempt; `failed` once `maxAttempts` is reached. Returns the new status. */
  failTurnAttempt(id: number, error: string, maxAttempts: number, now: number): Promise<TurnStatus>;
  /** Reconciles a turn's facts, marks it extracted, counts its passage's facts; undefined when already extracted. */
  extractTurn(turnId: number, write: FactsWrite): Promise<FactsWritten | undefined>;
  /** How a turn extracted elsewhere came out: its decision trace and each record with its outcome. */
  extractionOfTurn(turnId: number): Promise<{ traceId: number; outcomes: { record: RecordRow; outcome: Outcome }[] } | undefined>;

  // Records
  /** One record of this Context (any status), or undefined. */
  getRecord(id: number): Promise<RecordRow | undefined>;
  /** Records by id (any status), with reinforcements still pending in a group applied; order not kept. */
  getRecords(ids: readonly number[]): Promise<RecordRow[]>;
  /** Records in scope, newest first: live and unexpired by default, or of one status. */
  listRecords(filter: RecordListFilter): Promise<RecordRow[]>;
  /** Reconciles facts (reflect insights, elaboration, consolidation) in one transaction. */
  writeFacts(write: FactsWrite): Promise<FactsWritten>;
  /** Applies the background reconciliation pass's decisions for one record. */
  applyNeighbourDecisions(input: { recordId: number; decisions: readonly NeighbourDecision[]; actor: TraceActor; scope: Readonly<Record<string, string>>; now: number; parentTrace: number; provenance: Record<string, unknown> }): Promise<{ traceId: number | undefined }>;
  /** Forgets a record: text out, tombstone trace, edges, cache evicted, vector removed. Returns the record after. */
  forgetRecord(id: number, actor: TraceActor, now: number): Promise<RecordRow>;
  /**
   * A hand edit (`state.update`), in one transaction: refused (the record's status, or "gone") unless the record
   * is current or flagged; else its text, normalised text, value, embedding model and `updated_at` change, an
   * "updated" history entry keeps the old text, a decision_trace (`source.kind: "update"`, its outcome `updated`
   * with the previous text and value) with an `updated` edge, the old vector replaced by `vector`, and every cache
   * entry that cited the record or is about a topic it touched (before or after) in a scope containing it evicted.
   */
  editRecord(edit: RecordEditWrite): Promise<{ record: RecordRow } | { refused: RecordStatus | "gone" }>;
  /** Every scope key holding a record in this Context (any status). */
  recordScopeKeys(): Promise<string[]>;
  /** Visible records of one kind, most important first (query-type dispatch reads them first). */
  recordsOfKind(filter: RecordFilter, kind: RecordRow["kind"], limit: number): Promise<RecordRow[]>;
  /** importance × factor (capped at 1) and last access = now, for each id; returns the records after. */
  /** `extendLife`: the records were used in an answer, their lives extended too (lifecycle/survival.ts). */
  reinforce(ids: readonly number[], factor: number, now: number, options?: { extendLife?: boolean }): Promise<RecordRow[]>;
  /** The subset of `scopeKeys` holding any record (cache keys depend on it). */
  populatedScopeKeys(scopeKeys: readonly string[]): Promise<string[]>;
  /** Entity names linked to each record. */
  entityNames(recordIds: readonly number[]): Promise<Map<number, string[]>>;
  /** The highest record id of the file (a cheap size bound). */
  maxRecordId(): Promise<number>;

  // Retrieval (tier 3 channels; fusion and weighing stay in the pipeline)
  /** Vector, full-text and graph candidates among the records `filter` lets through, and the records of matching turns. */
  recordCandidates(query: RecordCandidatesQuery): Promise<RecordCandidates>;
  /** The k nearest records `filter` lets through: exact for small sets, the ANN index otherwise. */
  nearestRecords(query: NearestQuery): Promise<{ hits: VectorHit[]; path: "exact" | "ann" }>;
  /** A record's stored vector. */
  recordVector(id: number, model: string): Promise<Float32Array | undefined>;
  /** Passages (turns) matching the terms, BM25-scored, in scope and live at `now`; best first. */
  passageCandidates(query: { text: QueryText; scopeKeys: readonly string[]; now: number; candidates: number }): Promise<Scored[]>;
  /** Live passages by turn id in scope. */
  livePassages(turnIds: readonly number[], scopeKeys: readonly string[], now: number): Promise<PassageRow[]>;
  /** Document chunks for a query (full text and vector, RRF), at most `limit`, with scores. */
  chunkCandidates(query: { text: QueryText; scopeKeys: readonly string[]; vector?: { model: string; vector: Float32Array }; candidates: number; limit: number }): Promise<{ row: ChunkRow; score: number }[]>;
  /** Records returned for similar past queries in scope: id → summed similarity (ranking feedback). */
  feedbackBoosts(query: { model: string; vector: Float32Array; scopeKeys: readonly string[]; similar: number; recent: number }): Promise<Map<number, number>>;

  // Response cache (tiers 1 and 2)
  /** Cache entries for this exact normalised query in one cache scope, newest first. */
  cacheByQuery(cacheKey: string, normQuery: string): Promise<CacheEntryRow[]>;
  /** Cache entries of similar past queries with this signature in one cache scope, with their similarity. */
  cacheBySimilarity(query: { cacheKey: string; signature: string; model: string; vector: Float32Array; k: number; threshold: number }): Promise<{ entry: CacheEntryRow; similarity: number }[]>;
  /** Whether every record an entry cites is still current, unexpired and trusted ≥ minTrust; its deps and chunks. */
  cacheEntryUsable(entryId: number, now: number, minTrust: number): Promise<{ deps: number[]; chunks: ChunkRow[] } | undefined>;
  /** Deletes every cache entry of this Context; returns how many. Emits a `cache` change. */
  flushCache(): Promise<number>;

  // Writes of reads (GROUPED: may be committed with the other reads of this turn of the event loop)
  /** A tier-3 answer: retrieval and response traces, edges, the query and its vector, the cache entry. */
  writeAnswer(write: AnswerWrite): Promise<{ responseTraceId: number; retrievalTraceId: number }>;
  /** A tier-1/2 reuse or `fact:` lookup: response trace, edges, reinforcement (GROUPED). Returns the trace id and the records as reinforced. */
  writeReuse(write: ReuseWrite): Promise<{ traceId: number; records: RecordRow[] }>;
  /** A ranked read (query, search): its retrieval trace and the reinforcement of what it returned (GROUPED). */
  writeRankedRead(write: { retrieval: RetrievalTraceWrite; reinforce: readonly RecordRow[]; extendLife?: boolean; now: number }): Promise<RecordRow[]>;
  /** Reflect: traces, edges, and the insights reconciled, in one transaction. */
  writeReflection(write: ReflectionWrite): Promise<{ responseTraceId: number; written: FactsWritten | undefined }>;
  /** Commits the grouped writes of reads now (before close, or before another process must see them). */
  flush(): Promise<void>;

  // Documents
  /** Stores a document and its chunks as `pending`, first attempt started. */
  storeDocument(doc: Pick<DocumentRow, "scope_key" | "title" | "metadata" | "principal" | "on_behalf_of" | "session" | "created_at"> & { text: string }, pieces: readonly string[]): Promise<DocumentRow>;
  /** One document (without its text). */
  getDocument(id: number): Promise<DocumentRow | undefined>;
  /** A document's chunks in order. */
  documentChunks(documentId: number): Promise<{ id: number; text: string }[]>;
  /** Documents, oldest first, by status, scope keys, last touch. */
  listDocuments(filter: { status?: DocumentStatus; scopeKeys?: readonly string[]; limit: number; touchedBefore?: number }): Promise<DocumentRow[]>;
  /** Counts an indexing attempt started. */
  startDocumentAttempt(id: number, now: number): Promise<void>;
  /** Marks a document as being worked on (keeps the background retry away). */
  touchDocument(id: number, now: number): Promise<void>;
  /** Counts a failed attempt; `failed` at `maxAttempts`. Returns the new status, or undefined if gone. */
  failDocumentAttempt(id: number, error: string, maxAttempts: number, now: number): Promise<DocumentStatus | undefined>;
  /** Chunk vectors and reconciled facts, document marked indexed. "gone" / "indexed" when someone was first. */
  indexDocument(documentId: number, chunks: { model: string; vectors: readonly Float32Array[] }, facts: FactsWrite): Promise<FactsWritten | "gone" | "indexed">;
  /** Removes a document, its chunks (from every index) and the answers citing them. undefined when absent. */
  removeDocument(id: number): Promise<{ chunks: number } | undefined>;

  // Reindex (re-embedding under a lease)
  /** In one transaction: reads the stored reindex state and writes what `decide` returns (a claim, or nothing). */
  claimReindex(decide: (state: ReindexState, counts: (model: string) => { done: number; missing: number }) => ReindexState | undefined): Promise<ReindexState | undefined>;
  /** Rows of `space` not yet re-embedded with `model`, in id order, at most `limit`, with their text. */
  rowsToReindex(space: VectorSpace, model: string, limit: number): Promise<{ id: number; text: string }[]>;
  /** Writes a batch of vectors and its progress if `owner` still holds the lease; false when it lost it. */
  writeReindexBatch(input: { owner: string; space: VectorSpace; model: string; rows: readonly { id: number; vector: Float32Array }[]; now: number }): Promise<boolean>;
  /** Renews the lease; false when `owner` no longer holds it. */
  renewReindexLease(owner: string, now: number): Promise<boolean>;
  /** Switches retrieval to `model` and marks the reindex complete, if `owner` holds the lease. */
  finishReindex(owner: string, model: string, from: string): Promise<boolean>;
  /** Marks the reindex failed, if `owner` holds the lease. */
  failReindex(owner: string, error: string): Promise<void>;

  // Sweeps (each step one short transaction)
  /** Decays the live records with id in (from, to]; returns how many moved. */
  decayRange(from: number, to: number, factors: { context: number; knowledge: number }, now: number): Promise<number>;
  /** Expires up to `batch` records whose `expires_at` has passed: status, history, vector, cache. */
  expireBatch(batch: number, now: number): Promise<SweepStep>;
  /** Writes a sweep_trace (and, for a complete decay, the Context's last decay time). */
  finishSweep(input: { actor: TraceActor; payload: Record<string, unknown>; lastDecayAt?: number; now: number }): Promise<number>;
  /**
   * Runs `fn` while holding the sweep lock named `name` across every process on this database; resolves to
   * undefined without running it when another process holds it (SQLite: one file, so one writer at a time
   * already; the lock only keeps two processes from sweeping the same range twice).
   */
  withSweepLock<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;

  // Evolution (lifecycle/consolidate.ts, elaborate.ts): the reads between model calls, the writes after them
  /** Writes a sweep_trace with `payload` (its outcome filled in later by `updateTracePayload`); returns its id. */
  startSweep(input: { actor: TraceActor; payload: Record<string, unknown>; now: number }): Promise<number>;
  /**
   * Consolidation's first step, in one transaction: reads the previous consolidation's watermark (the last
   * `consolidate` sweep_trace's `through_response_trace`, 0 if none), writes this sweep's sweep_trace
   * (`{ sweep: "consolidate", complete: false, through_response_trace }`), then counts the records each of up to
   * `answers` response traces after the watermark used (the response's `used` record ids when it has them, else
   * what its retrieval returned; a reused answer counts for the records of the answer it reused; an answer that
   * is `noAnswer` counts for nothing) and reinforces each live one (importance × `factor` ** uses, capped at 1,
   * last access `now`, a "reinforced" history entry naming the sweep). `reinforced`: records changed; `answers`:
   * answers that used any; `through`: the last response trace read (the new watermark).
   */
  beginConsolidation(input: { actor: TraceActor; now: number; answers: number; factor: number; noAnswer: string }): Promise<{
    sweepId: number;
    reinforced: number;
    answers: number;
    through: number;
  }>;
  /**
   * Live (`current`), unexpired facts (observations and uncertainties left out) with a subject and attribute,
   * grouped by scope, subject and attribute, for groups of at least `minSize`; the groups most recently added to
   * first, at most `limit`; member ids oldest first.
   */
  consolidationClusters(query: { now: number; minSize: number; limit: number }): Promise<Cluster[]>;
  /** Live records (any kind, expired or not) of one scope's subject and attribute, oldest first. */
  liveRecordsOfSlot(slot: { scopeKey: string; subject: string; attribute: string }): Promise<RecordRow[]>;
  /**
   * An observation reconciled (`facts`), in one transaction; when the reconciler created or updated a record, its
   * `proof_count` is set to `proofCount` and a "consolidated" history entry names `members` (the decision trace
   * its trace). `recordId`: that record, undefined when the reconciler created or updated none.
   */
  writeObservation(input: { facts: FactsWrite; members: readonly number[]; proofCount: number }): Promise<{ written: FactsWritten; recordId: number | undefined }>;
  /**
   * Entities examined together: for each of the last `traces` decision traces, the entities of the live records it
   * considered, created, updated, superseded or flagged, paired within each scope (a < b); pairs seen in at least
   * `minCount` traces, most frequent first (then a, then b), `evidence` the records that brought them up.
   */
  coConsideredPairs(query: { traces: number; minCount: number }): Promise<EntityPair[]>;
  /**
   * Live (`current`) turn records and live document records that mention the same entity, most recent turn record
   * first, at most `limit` rows, each with the other entities of both records.
   */
  documentTurnBridges(limit: number): Promise<DocumentTurnBridge[]>;
  /** Whether a live record mentions both entities, or an earlier elaboration related them or found nothing to relate. */
  entitiesLinked(a: number, b: number): Promise<boolean>;
  /** Display names of entities, by entity id. */
  entityNamesById(ids: readonly number[]): Promise<Map<number, string>>;
  /** The id of the entity of `normName`, created (named `name`) if new. */
  ensureEntity(input: { name: string; normName: string; now: number }): Promise<number>;
  /** Marks a pair the model found nothing to relate (an `elaboration:none` edge a → b): `entitiesLinked` from then on. */
  rejectEntityPair(input: { a: number; b: number; now: number }): Promise<void>;
  /** A relation reconciled (`facts`) and its entity → entity edge (`relation:<relation>`, a → b), in one transaction. */
  writeRelation(input: { facts: FactsWrite; a: number; b: number; relation: string }): Promise<FactsWritten>;

  // Background budget (lifecycle/budget.ts) and the backlog of records waiting for background reconciliation
  /** The budget config, the last window charged and the backlog's size. */
  budget(): Promise<BudgetState>;
  /**
   * `budget()` synchronously, for `usage()`: SQLite reads it now; PostgreSQL gives the state as this instance last
   * read or changed it (another process's charges since then are not in it), undefined before its first budget call.
   */
  lastBudget(): BudgetState | undefined;
  /** Sets the budget config (`config.budget()`); returns the state after. */
  setBudget(config: BudgetConfig): Promise<BudgetState>;
  /**
   * Adds a background call's tokens, calls or deferrals to the window starting at `windowStart`, in one
   * transaction (a stored window of another start is replaced by a fresh one); returns the state after. Charges
   * from several processes add up.
   */
  chargeBudget(charge: BudgetCharge): Promise<BudgetState>;
  /** Appends records to the backlog (oldest first when taken). */
  addToBacklog(items: readonly Omit<BacklogItem, "id">[], now: number): Promise<void>;
  /** Removes and returns the oldest `limit` items of the backlog, oldest first. */
  takeFromBacklog(limit: number): Promise<BacklogItem[]>;

  // Background reconciliation (pipeline/reflection-pass.ts); its decisions go through `applyNeighbourDecisions`
  /**
   * For each query, the live records of the same scope it could conflict with, never looking beyond that scope:
   * same slot (`subject` and one of `attributes`, the record itself left out), and records whose stored vector of
   * `model` is at least `minSimilarity` (cosine) to the record's own (an exact scan of the scope's live records of
   * that model). Keyed by `recordId`; a record without a stored vector has no `similar`.
   */
  neighbourCandidates(queries: readonly NeighbourQuery[], minSimilarity: number): Promise<Map<number, NeighbourCandidates>>;

  // Traces
  /** One trace of this Context. */
  getTrace(id: number): Promise<TraceRow | undefined>;
  /** Traces newest first, within the grants' scopes, by kind, session, before an id. */
  listTraces(filter: TraceListFilter): Promise<TraceRow[]>;
  /** A trace's edges, out and in. */
  traceEdges(id: number): Promise<{ out: EdgeRow[]; in: EdgeRow[] }>;
  /** Traces by id (payload redaction reads them in bulk). */
  tracesByIds(ids: readonly number[]): Promise<TraceRow[]>;
  /** Edges out of these traces, in id order. */
  edgesOfTraces(ids: readonly number[]): Promise<EdgeRow[]>;
  /** Scope keys of nodes by kind (records, turns, chunks, documents, traces): id → scope key. */
  scopeKeysOf(kind: "record" | "turn" | "chunk" | "document" | "trace", ids: readonly number[]): Promise<Map<number, string | null>>;
  /** Edges from a trace to other nodes (chat links its response to the turns it wrote), in one transaction. */
  addTraceEdges(traceId: number, edges: readonly { kind: string; to: { type: NodeType; id: number | string } }[], now: number): Promise<void>;
  /** A decision trace's payload rewritten (outcomes filled after the fact). */
  updateTracePayload(id: number, payload: unknown): Promise<void>;

  // Trust calibration
  /** A source's trust (1 when unknown). */
  sourceTrust(sourceKey: string | null): Promise<number>;

  // Changes, vector indexes, lifetime
  /**
   * Calls `listener` with what changed after each commit: this instance's own at once, other instances' and
   * processes' when the engine learns of them (SQLite: PRAGMA data_version, checked by `poll`; PostgreSQL: the
   * change log and LISTEN/NOTIFY). Returns the unsubscribe function.
   */
  subscribe(listener: (change: StoreChange) => void): () => void;
  /** Checks for other processes' commits now (emits their changes); cheap when there are none. */
  poll(): Promise<void>;
  /** Waits for background index work (ANN insertions) to finish. */
  idle(): Promise<void>;
  /**
   * Backpressure for tight write loops (ingest): resolves once the engine's background index work is small
   * enough to keep up (SQLite: an ANN index with more than a few hundred insertions pending is flushed first); at
   * once when it is, and always for an engine with no such work.
   */
  throttle(): Promise<void>;
  /** Saves the vector indexes (what could not be saved is listed), commits grouped writes, closes. */
  close(): Promise<{ unsaved: { path: string; code: string; message: string }[] }>;
}
