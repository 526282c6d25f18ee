import type { ContextConfig } from "../config/config-api.js";
import type { ChatResult } from "../pipeline/chat.js";
import type { CloseReport } from "../core.js";
import type { StageUsage } from "../models/stage-usage.js";
import type { KnowledgeAddResult } from "../knowledge/index-document.js";
import type { KnowledgeDocument } from "../knowledge/knowledge-api.js";
import type { SweepResult } from "../lifecycle/lifecycle-api.js";
import type { ConsolidateResult } from "../lifecycle/consolidate.js";
import type { ElaborateResult } from "../lifecycle/elaborate.js";
import type { BudgetConfig } from "../store/budget.js";
import type { OnProgress } from "../config/progress.js";
import type { IngestResult } from "../pipeline/ingest.js";
import type { RecallResult } from "../pipeline/recall/recall.js";
import type { ReflectResult } from "../pipeline/reflect.js";
import type { SearchResult } from "../state/public-passage.js";
import type { MemoryRecord } from "../state/public-record.js";
import type { ReindexState } from "../store/contexts.js";
import type {
  CacheConfig,
  CallContext,
  ChatOptions,
  IngestBatchInput,
  IngestInput,
  KnowledgeAddInput,
  KnowledgeListOptions,
  Models,
  ModelsInput,
  Permission,
  Principal,
  ProvidersInput,
  QueryOptions,
  RecallOptions,
  RetentionRule,
  StateListOptions,
  StateUpdate,
  TraceKind,
  TracesListOptions,
  TurnRole,
  TurnStatus,
  TurnsListOptions,
} from "./inputs.js";
import type { Trace, TraceWithEdges } from "./trace.js";

/**
 * The namespaces of a Spectron instance, as callers see them. Each is implemented next to its logic
 * (state/state-api.ts, config/config-api.ts, …); these interfaces are what the published declarations show.
 */

/** One page of `state.list`. */
export interface StateList {
  records: MemoryRecord[];
  /** Pass to the next call to continue; null when there is no more. */
  cursor: string | null;
}

export interface StateApi {
  /** One record with importance, expiry, category, status and lineage. Needs read. */
  get(id: string, ctx?: CallContext): Promise<MemoryRecord>;
  /**
   * Records visible to `scope`, newest first. By default current and flagged ones that have not expired;
   * `status` selects another status. `across: true` (manage on `scope`) lists every record whose scope contains
   * `scope` instead: all of a user's facts across their scopes.
   */
  list(options?: StateListOptions): Promise<StateList>;
  /**
   * Edits a record by hand (`text`, or `value` for a record with an attribute) through the reconciler: a traced
   * decision (`source.kind: "update"`), an "updated" history entry, cached answers citing it evicted. Needs
   * write on the record's scope.
   */
  update(id: string, patch: StateUpdate): Promise<MemoryRecord>;
  /** Explicit deletion: gone from every read path and index, cached answers citing it evicted, a traced tombstone left. */
  forget(id: string, ctx?: CallContext): Promise<MemoryRecord>;
}

export interface TracesApi {
  /** With `kind`, the traces come narrowed to that kind: `list({ kind: "decision_trace" })` reads `payload.outcomes` directly. */
  list<K extends TraceKind>(options: TracesListOptions & { kind: K }): Promise<{ traces: Extract<Trace, { kind: K }>[]; cursor: string | null }>;
  list(options?: TracesListOptions): Promise<{ traces: Trace[]; cursor: string | null }>;
  /** One trace with its edges (out: what it considered, returned, created…; in: what points at it). */
  get(id: string, ctx?: CallContext): Promise<TraceWithEdges>;
}

export interface ConfigApi {
  /** Assigns models to stages; omitted stages keep their model. */
  models(models: ModelsInput, ctx?: CallContext): Promise<Models>;
  /** Sets provider keys (write-only). Persisted only encrypted, and only with a `secretKey`. */
  providers(providers: ProvidersInput, ctx?: CallContext): Promise<{ providers_configured: string[] }>;
  /** Retention rules `{ scope, memory_category, ttl }`, first match wins. Applies to records written after. */
  retention(rules: RetentionRule[], ctx?: CallContext): Promise<RetentionRule[]>;
  /** Tier-2 thresholds: `similarity` (default 0.95), `freshness`, `min_trust`. Partial updates. */
  cache(cache: Partial<CacheConfig>, ctx?: CallContext): Promise<CacheConfig>;
  /** Caps the tokens of background model calls per UTC day of the clock; `null`: no cap. Needs manage. */
  budget(budget: { background_tokens_per_day: number | null }, ctx?: CallContext): Promise<BudgetConfig>;
  get(ctx?: CallContext): Promise<ContextConfig>;
}

export interface LifecycleApi {
  /** Applies the daily decay factors for the whole days elapsed since each record was last decayed. Needs manage. */
  decay(ctx?: CallContext): Promise<SweepResult>;
  /** Expires records whose `expires_at` has passed. Needs manage. */
  expire(ctx?: CallContext): Promise<SweepResult>;
  /** Reinforces what answers used, then turns groups of related facts into observation records. Needs manage. */
  consolidate(ctx?: CallContext): Promise<ConsolidateResult>;
  /** Proposes relations between entities considered together but never linked. Needs manage. */
  elaborate(ctx?: CallContext): Promise<ElaborateResult>;
}

export interface KnowledgeApi {
  add(input: KnowledgeAddInput): Promise<KnowledgeAddResult>;
  list(options?: KnowledgeListOptions): Promise<KnowledgeDocument[]>;
  retry(ctx?: CallContext): Promise<{ indexed: number; failed: number }>;
  remove(documentId: string, ctx?: CallContext): Promise<{ chunks: number }>;
  reindex(ctx?: CallContext & { onProgress?: OnProgress | undefined }): Promise<ReindexState>;
  reindexStatus(ctx?: CallContext): Promise<ReindexState>;
}

export interface CacheApi {
  flush(ctx?: CallContext): Promise<{ evicted: number }>;
}

/** A stored turn. */
export interface Turn {
  id: string;
  role: TurnRole;
  content: string;
  scope: Record<string, string>;
  status: TurnStatus;
  attempts: number;
  error: string | null;
  created_at: string;
}

export interface TurnsApi {
  list(options?: TurnsListOptions): Promise<Turn[]>;
  /**
   * Extracts the turns still `pending` and those marked `failed` (five failed attempts: the background retry
   * stops there), up to 100. `failed` counts the attempts that failed again.
   */
  retry(ctx?: CallContext): Promise<{ extracted: number; failed: number }>;
}

export interface AccessApi {
  /** Denied attempts per principal and permission, in this process. */
  deniedCounts(): { principal: string; permission: Permission; count: number }[];
}

/** `ingest` of several messages: one result per message, in order. */
export interface IngestBatchResult {
  turns: IngestResult[];
}

/** `memory.as(principal)`: every call carries the principal (and `onBehalfOf`, `session`). */
export interface SpectronView {
  readonly principal: Principal;
  ingest(input: IngestInput): Promise<IngestResult>;
  ingest(input: IngestBatchInput | IngestInput[]): Promise<IngestBatchResult>;
  recall(query: string, options?: RecallOptions): Promise<RecallResult>;
  reflect(question: string, options?: RecallOptions): Promise<ReflectResult>;
  chat(message: string, options?: ChatOptions): Promise<ChatResult>;
  query(query: string, options?: QueryOptions): Promise<MemoryRecord[]>;
  search(query: string, options?: QueryOptions): Promise<SearchResult[]>;
  state: {
    get(id: string): Promise<MemoryRecord>;
    list(options?: StateListOptions): Promise<StateList>;
    /** The view's principal rides in `patch`. */
    update(id: string, patch: StateUpdate): Promise<MemoryRecord>;
    forget(id: string): Promise<MemoryRecord>;
  };
  traces: {
    list<K extends TraceKind>(options: TracesListOptions & { kind: K }): Promise<{ traces: Extract<Trace, { kind: K }>[]; cursor: string | null }>;
    list(options?: TracesListOptions): Promise<{ traces: Trace[]; cursor: string | null }>;
    get(id: string): Promise<TraceWithEdges>;
  };
  turns: { list(options?: TurnsListOptions): Promise<Turn[]>; retry(): Promise<{ extracted: number; failed: number }> };
  knowledge: {
    add(input: KnowledgeAddInput): Promise<KnowledgeAddResult>;
    remove(documentId: string): Promise<{ chunks: number }>;
    list(options?: KnowledgeListOptions): Promise<KnowledgeDocument[]>;
    retry(): Promise<{ indexed: number; failed: number }>;
    reindex(options?: { onProgress?: OnProgress | undefined }): Promise<ReindexState>;
    reindexStatus(): Promise<ReindexState>;
  };
  config: {
    models(models: ModelsInput): Promise<Models>;
    providers(providers: ProvidersInput): Promise<{ providers_configured: string[] }>;
    retention(rules: RetentionRule[]): Promise<RetentionRule[]>;
    cache(cache: Partial<CacheConfig>): Promise<CacheConfig>;
    budget(budget: { background_tokens_per_day: number | null }): Promise<BudgetConfig>;
    get(): Promise<ContextConfig>;
  };
  lifecycle: {
    decay(): Promise<SweepResult>;
    expire(): Promise<SweepResult>;
    consolidate(): Promise<ConsolidateResult>;
    elaborate(): Promise<ElaborateResult>;
  };
  cache: { flush(): Promise<{ evicted: number }> };
}

export type { CloseReport, StageUsage, ConsolidateResult, ElaborateResult, BudgetConfig };
