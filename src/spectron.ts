import { z } from "zod";
import { Access, actorOf, cacheScopeKey, can, readableScopeKeys } from "./access/access.js";
import { reflect, type ReflectResult } from "./pipeline/reflect.js";
import { chat, chatMessageSchema, chatOptionsSchema, type ChatOptions, type ChatResult } from "./pipeline/chat.js";
import { createConfigApi, validateModels } from "./config/config-api.js";
import { contextOpening } from "./config/context-opening.js";
import { DEFAULT_SCHEDULE } from "./config/defaults.js";
import {
  ingestSchema,
  ingestArraySchema,
  ingestBatchSchema,
  parseInput,
  queryOptionsSchema,
  querySchema,
  recallOptionsSchema,
  spectronOptionsSchema,
  type IngestInput,
  type Logger,
  type QueryOptions,
  type RecallOptions,
  type SpectronOptions,
  type StoreEngine,
  type TurnsListOptions,
  type Principal,
  type StateListOptions,
  type TracesListOptions,
  type ModelsInput,
  type ProvidersInput,
  type RetentionRule,
  type BudgetConfigInput,
  type CacheConfig,
  principalSchema,
} from "./config/schemas.js";
import type { KnowledgeAddInput } from "./knowledge/knowledge-api.js";
import { Core, type CloseReport } from "./core.js";
import type { StageUsage } from "./models/stage-usage.js";
import { commitGroups } from "./store/sqlite/writer.js";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import { createCacheApi } from "./cache/cache-api.js";
import { createTurnsApi } from "./turns/turns-api.js";
import { typedErrors, withTypedErrors } from "./typed-errors.js";
import { holdEngine, openFailure, releaseEngine } from "./store/engine-users.js";
import { ClosedError, SpectronValidationError } from "./errors.js";
import { checkedClock, guardInput, guardOptions } from "./config/input-guard.js";
import { toSpectronError } from "./store/storage-errors.js";
import { createLifecycleApi } from "./lifecycle/lifecycle-api.js";
import { budgetUsage, type BudgetUsage } from "./lifecycle/budget.js";
import { drainBacklog } from "./pipeline/reflection-pass.js";
import { createKnowledgeApi, type KnowledgeListOptions } from "./knowledge/knowledge-api.js";
import { resumeInterrupted } from "./knowledge/resume.js";
import type { Stage } from "./models/types.js";
import { extractTurn, retryPending, type IngestResult } from "./pipeline/ingest.js";
import { extractTurns } from "./pipeline/ingest-batch.js";
import { rankedRead } from "./pipeline/ranked-read.js";
import { storeTurns, type ParsedIngest } from "./pipeline/store-turns.js";
import { recall, type RecallResult } from "./pipeline/recall/recall.js";
import { toSearchResults, type SearchResult } from "./state/public-passage.js";
import { scopeKey, visibleScopeKeys } from "./store/scope.js";
import type { Store } from "./store/store.js";
import { createStateApi } from "./state/state-api.js";
import type { MemoryRecord } from "./state/public-record.js";
import { toPublicRecord } from "./state/public-record.js";
import { createTracesApi } from "./traces/traces-api.js";
import type { AccessApi, CacheApi, ConfigApi, IngestBatchResult, KnowledgeApi, LifecycleApi, SpectronView, StateApi, TracesApi, TurnsApi } from "./types/namespaces.js";
import type { IngestBatchInput, StateUpdate } from "./types/inputs.js";

/** `as()` requires a principal: a view without one would carry the application's full access. */
const boundContextSchema = z.strictObject({
  principal: principalSchema,
  onBehalfOf: z.string().min(1).max(256).optional(),
  session: z.string().min(1).max(256).optional(),
});

const NOOP_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export type { Turn } from "./types/namespaces.js";

/**
 * An in-process memory layer for one Context. Synchronous SQLite underneath; only model calls and the
 * scheduler are asynchronous.
 *
 * @example
 * await using memory = new Spectron({ context: "acme-prod", path: "./memory.db" });
 * await memory.ingest({ content: "I'm on the Enterprise plan.", scope: { user: "alice" } });
 * const { answer } = await memory.recall("which plan am I on?", { scope: { user: "alice" } });
 */
export class Spectron {
  readonly context: string;
  readonly config: ConfigApi;
  readonly state: StateApi;
  readonly traces: TracesApi;
  readonly lifecycle: LifecycleApi;
  readonly knowledge: KnowledgeApi;
  readonly cache: CacheApi;
  readonly turns: TurnsApi;
  /** Denied attempts per principal and permission (`deniedCounts()`). */
  readonly access: AccessApi;
  /** The access checks (`access` shows callers only their counts). */
  private readonly acl = new Access();
  private readonly core: Core;
  private closing: Promise<CloseReport> | undefined;
  /** With a `store` engine: settles once the store and the Context are open (rejects, typed, if they fail). */
  private readonly ready: Promise<void> | undefined;
  /** The engine this instance opened its store on (released on close). */
  private engine: StoreEngine | undefined;
  private opened = false;

  constructor(options: SpectronOptions) {
    const o = parseInput(spectronOptionsSchema, options, "options", OPAQUE_OPTIONS);
    // Ids and model objects checked now; named providers once the providers are known (below).
    const assigned = o.models ? validateModels(o.models, "options.models", { providerOptions: o.provider ?? {} }) : undefined;
    const clock = o.clock ? checkedClock(o.clock as () => number) : Date.now;
    clock(); // a clock that returns garbage fails here, before anything is opened
    const logger = o.logger ?? NOOP_LOGGER;
    this.context = o.context;
    if (o.store && o.path !== undefined) {
      throw new SpectronValidationError(
        "options.store",
        "either `store` (a database engine, such as postgresStore(…)) or `path` (a SQLite file), not both",
        { store: o.store.engine, path: o.path },
        "Remove `path` to use the engine, or `store` to use the SQLite file.",
      );
    }
    const opening = contextOpening(o, assigned);
    if (o.store) {
      // An async engine: the constructor returns at once; every call awaits `ready` (see `gate`), which opens the
      // store, opens the Context and attaches both to the core. A failure is kept, typed, for the first call and
      // close(); it is never left unhandled.
      const engine = o.store as StoreEngine;
      this.core = new Core(o.context, clock, logger, opening.providers(), o.provider ?? {}, o.feedback ?? true);
      const core = this.core;
      this.ready = (async () => {
        let store: Store | undefined;
        try {
          store = (await engine.open(o.context, { now: clock, onError: (error) => logger.warn("Store change feed error", { error: String(error) }) })) as Store;
          const settings = await store.openContext({ now: clock(), decide: opening.decide });
          core.models.setProviders(opening.providers());
          core.attach(store, settings);
          for (const [id, model] of assigned?.objects ?? []) core.models.register(id, model);
          holdEngine(engine);
          this.engine = engine;
          this.opened = true;
        } catch (error) {
          await store?.close().catch(() => undefined);
          throw openFailure(error);
        }
      })();
      this.ready.catch(() => undefined);
    } else {
      let store: SqliteStore;
      try {
        store = new SqliteStore(o.path ?? ":memory:", o.context, logger);
      } catch (error) {
        throw toSpectronError(error, "new Spectron");
      }
      try {
        // One transaction: another process may be creating the same Context at this moment.
        const settings = store.openContextSync({ now: clock(), decide: opening.decide });
        this.core = new Core(o.context, clock, logger, opening.providers(), o.provider ?? {}, o.feedback ?? true);
        this.core.attach(store, settings);
        for (const [id, model] of assigned?.objects ?? []) this.core.models.register(id, model);
      } catch (error) {
        store.discard();
        throw toSpectronError(error, "new Spectron");
      }
    }
    const core = this.core;
    this.access = this.acl;
    const guard = (method: string) => this.guard(method);
    const gate = () => this.pendingOpen();
    this.config = typedErrors("config", createConfigApi(core, this.acl, {
      guard,
      secretKey: o.secretKey,
      onEmbeddingChange: (from, to) => logger.info("Embedding model changed; run knowledge.reindex()", { from, to }),
    }), gate);
    this.state = typedErrors("state", createStateApi(core, this.acl, guard), gate);
    this.traces = typedErrors("traces", createTracesApi(core, this.acl, guard), gate) as TracesApi;
    this.lifecycle = typedErrors("lifecycle", createLifecycleApi(core, this.acl, guard), gate);
    this.knowledge = typedErrors("knowledge", createKnowledgeApi(core, this.acl, guard), gate);
    this.cache = typedErrors("cache", createCacheApi(core, this.acl, guard), gate);
    this.turns = typedErrors("turns", createTurnsApi(core, this.acl, guard), gate);
    // Open the ANN indexes now, against the state on disk: loading a sidecar (or starting a background
    // rebuild) here keeps later writes on the cheap notify path instead of a log replay.
    // (An embedding model of undeclared dimension, before its first reply, has none to open yet.)
    const sqlite = core.sqlite;
    if (sqlite && core.models.dimensionsOf(core.models.indexModel()) !== undefined) {
      sqlite.indexes.get("records", core.models.indexModel());
      sqlite.indexes.get("chunks", core.models.indexModel());
    }
    // Timers and resumed jobs start once the store is open (at once for SQLite), and never after close().
    const start = () => {
      if (this.closing) return;
      const schedule =
        o.schedule === false
          ? ({ decay: false, expire: false, retry: false, consolidate: false, elaborate: false } as const)
          : { ...DEFAULT_SCHEDULE, ...(o.schedule ?? {}) };
      core.queue.every(schedule.decay, "decay", () => this.lifecycle.decay());
      core.queue.every(schedule.expire, "expiry", () => this.lifecycle.expire());
      core.queue.every(schedule.consolidate, "consolidation", () => this.lifecycle.consolidate());
      core.queue.every(schedule.elaborate, "elaboration", () => this.lifecycle.elaborate());
      // Jobs a crash interrupted (a reindex, documents left pending) resume now, and on the retry schedule with
      // the pending turns.
      const resume = () => resumeInterrupted(core).catch((error: unknown) => logger.warn("Resuming interrupted jobs failed; the retry sweep tries again", { error: String(error) }));
      core.queue.every(schedule.retry, "retry of pending turns and interrupted jobs", async () => {
        await resumeInterrupted(core);
        await retryPending(core);
        // Background reconciliation a spent budget window left behind, once a new window can afford it.
        await drainBacklog(core);
      });
      void core.queue.track(resume());
    };
    if (this.ready) void this.ready.then(start, () => undefined);
    else start();
  }

  /**
   * Stores a turn (before any model call), extracts facts from it and reconciles them with memory.
   * One synchronous model call (extraction). If it fails, the turn stays `pending` and the error is thrown.
   */
  async ingest(input: IngestInput): Promise<IngestResult>;
  /**
   * Several messages in one call (`{ messages, scope }`, or an array of inputs each with its own scope): all are
   * validated and access-checked before any is stored, then stored as turns together and extracted with one
   * model call; one result per message, in order.
   */
  async ingest(input: IngestBatchInput | IngestInput[]): Promise<IngestBatchResult>;
  async ingest(input: IngestInput | IngestBatchInput | IngestInput[]): Promise<IngestResult | IngestBatchResult> {
    this.guard("ingest");
    guardInput(input, "input");
    if (Array.isArray(input) || (typeof input === "object" && input !== null && Object.prototype.hasOwnProperty.call(input, "messages"))) {
      return this.ingestBatch(input as IngestBatchInput | IngestInput[]);
    }
    const i = parseInput(ingestSchema, input, "input");
    this.acl.assert(i, "write", i.scope);
    const core = this.core;
    const turn = (await storeTurns(core, [i]))[0]!;
    return extractTurn(core, turn, i.signal);
  }

  private async ingestBatch(input: IngestBatchInput | IngestInput[]): Promise<IngestBatchResult> {
    let items: ParsedIngest[];
    let signal: AbortSignal | undefined;
    if (Array.isArray(input)) {
      items = parseInput(ingestArraySchema, input, "input");
      signal = items.find((i) => i.signal)?.signal;
    } else {
      const b = parseInput(ingestBatchSchema, input, "input");
      items = b.messages.map((m) => ({ ...m, scope: b.scope, principal: b.principal, onBehalfOf: b.onBehalfOf, session: b.session }));
      signal = b.signal;
    }
    for (const i of items) this.acl.assert(i, "write", i.scope);
    const core = this.core;
    const turns = await storeTurns(core, items);
    return { turns: await extractTurns(core, turns, signal) };
  }

  /** Answers from memory through the three tiers: direct lookup, semantic response cache, hybrid retrieval + response model. */
  async recall(query: string, options: RecallOptions = {}): Promise<RecallResult> {
    this.guard("recall", { read: true });
    const q = parseInput(querySchema, query, "query");
    const o = parseInput(recallOptionsSchema, options, "options");
    this.acl.assert(o, "read", o.scope);
    return recall(this.core, {
      query: q,
      scope: o.scope,
      readable: readableScopeKeys(o.principal, o.scope),
      cacheKey: o.principal ? cacheScopeKey(o.principal, o.scope, await this.core.store.populatedScopeKeys(visibleScopeKeys(o.scope))) : scopeKey(o.scope),
      limit: o.limit,
      actor: actorOf(o),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  /**
   * Answers a synthesis question ("What does alice care about most?") with the reflection stage's model from
   * hybrid retrieval (never the cache), and keeps what the records show together as new `observation` records
   * (source.kind "reflect") when the caller may write the scope.
   */
  async reflect(question: string, options: RecallOptions = {}): Promise<ReflectResult> {
    this.guard("reflect");
    const q = parseInput(querySchema, question, "question");
    const o = parseInput(recallOptionsSchema, options, "options");
    this.acl.assert(o, "read", o.scope);
    return reflect(this.core, {
      query: q,
      scope: o.scope,
      readable: readableScopeKeys(o.principal, o.scope),
      limit: o.limit,
      actor: actorOf(o),
      write: can(o.principal, "write", o.scope),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  /**
   * One conversational exchange: the message is recalled against (hybrid retrieval, never the response cache),
   * answered by the response stage from the recalled memory, and then both turns (the message, the reply) are
   * ingested. One `response_trace` joins it all: `used_retrieval`, `produced_decision` (one per turn), `wrote`
   * (each record the turns touched), `parent_session`. Needs `read` and `write` on `scope`. If a turn's
   * extraction fails, it stays `pending` (retried in the background) and the error is thrown.
   *
   * @example
   * const { answer, traceId } = await memory.chat("Any ideas for my trip?", { scope: { user: "alice" }, session: "s-1" });
   */
  async chat(message: string, options: ChatOptions = {}): Promise<ChatResult> {
    this.guard("chat");
    const m = parseInput(chatMessageSchema, message, "message");
    const o = parseInput(chatOptionsSchema, options, "options");
    this.acl.assert(o, "read", o.scope);
    this.acl.assert(o, "write", o.scope);
    const call = {
      scope: o.scope,
      ...(o.principal ? { principal: o.principal } : {}),
      ...(o.onBehalfOf ? { onBehalfOf: o.onBehalfOf } : {}),
      ...(o.session ? { session: o.session } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    };
    return chat(this.core, {
      message: m,
      scope: o.scope,
      readable: readableScopeKeys(o.principal, o.scope),
      limit: o.limit,
      ...(o.speaker ? { speaker: o.speaker } : {}),
      actor: actorOf(o),
      ...(o.signal ? { signal: o.signal } : {}),
      ingest: (turn) => this.ingest({ ...turn, ...call }),
    });
  }

  /**
   * Ranked records for a query, with no language-model call (rule-based query understanding). Passages (the
   * turns records came from) count in the ranking; `search` returns them too.
   */
  async query(query: string, options: QueryOptions = {}): Promise<MemoryRecord[]> {
    this.guard("query", { read: true });
    const { retrieval, run } = await this.rankedRead(query, options);
    return (await run(retrieval.records)).map(toPublicRecord);
  }

  /**
   * Records and passages for a query, fused and ranked, with no language-model call: each record with the turn
   * it was extracted from, and turns that extraction wrote nothing for (or nothing that matched) as passages of
   * their own. One result per turn. Passages follow their records' lifecycle: a turn whose records have all
   * expired or been forgotten is not found; one that yielded none is found for the context TTL.
   *
   * @example
   * const results = await memory.search("what is my cat called?", { scope: { user: "alice" } });
   * for (const r of results) console.log(r.kind, r.kind === "record" ? r.record.text : r.passage.text);
   */
  async search(query: string, options: QueryOptions = {}): Promise<SearchResult[]> {
    this.guard("search", { read: true });
    const { retrieval, run } = await this.rankedRead(query, options);
    const rows = retrieval.results.flatMap((r) => (r.kind === "record" ? [r.row] : []));
    const records = new Map((await run(rows)).map(toPublicRecord).map((r) => [r.id, r]));
    return toSearchResults(retrieval.results, records);
  }

  private async rankedRead(query: string, options: QueryOptions) {
    const q = parseInput(querySchema, query, "query");
    const o = parseInput(queryOptionsSchema, options, "options");
    this.acl.assert(o, "read", o.scope);
    return rankedRead(this.core, q, o);
  }

  /**
   * Tokens, latency and estimated cost of model calls so far, per stage (this process), and `budget`: the
   * Context's background budget window (`config.budget()`): tokens and calls spent today, calls deferred by kind,
   * and the records waiting in the backlog (absent after `close()`).
   */
  usage(): Partial<Record<Stage, StageUsage>> & { budget?: BudgetUsage } {
    const stages: Partial<Record<Stage, StageUsage>> = Object.fromEntries([...this.core.models.usage].map(([stage, u]) => [stage, { ...u }]));
    // The budget window lives in the database (Store.lastBudget): absent once the instance is closed; on PostgreSQL
    // as this instance last read or charged it (`config.budget()` reads it afresh).
    const state = this.opened || this.core.sqlite ? this.core.store.lastBudget() : undefined;
    return state ? { ...stages, budget: budgetUsage(state, this.core.now()) } : stages;
  }

  /** Resolves when the background work queued so far (reconciliation, sweeps, reindex, ANN insertions) has finished. */
  async idle(): Promise<void> {
    this.guard("idle");
    await this.core.idle();
  }

  /**
   * A view of this instance whose every call carries `principal` (and, optionally, the principal it acts on
   * behalf of and the session). Delegation never widens access: checks use `principal`'s own grants.
   *
   * @example
   * const agent = memory.as({ id: "agent-7", grants: [{ scope: { org: "acme" }, permissions: ["read"] }] }, { onBehalfOf: "alice" });
   * await agent.recall("which plan am I on?", { scope: { org: "acme", user: "alice" } });
   */
  as(principal: Principal, bound: { onBehalfOf?: string; session?: string } = {}): SpectronView {
    // Options are checked before they are spread: spreading a string or a Map would make an object of its
    // characters or of nothing, and would call getters and read a proxy's traps unguarded.
    const checked = <T,>(o: T, field: string): T => {
      guardOptions(o, field);
      guardInput(o, field);
      return o;
    };
    const ctx = parseInput(boundContextSchema, { principal, ...checked(bound, "as(principal, options)") }, "as(principal, options)");
    const withCtx = <T extends object>(o: T | undefined, field = "options") => ({ ...(checked(o, field) ?? {}), ...ctx }) as T;
    return {
      principal: ctx.principal,
      ingest: (async (input: IngestInput | IngestBatchInput | IngestInput[]) =>
        Array.isArray(input)
          ? this.ingest(checked(input, "input").map((i, n) => withCtx(i, `input[${n}]`)))
          : this.ingest(withCtx(input as IngestInput, "input"))) as SpectronView["ingest"],
      recall: async (query: string, options?: RecallOptions) => this.recall(query, withCtx(options)),
      reflect: async (question: string, options?: RecallOptions) => this.reflect(question, withCtx(options)),
      chat: async (message: string, options?: ChatOptions) => this.chat(message, withCtx(options)),
      query: async (query: string, options?: QueryOptions) => this.query(query, withCtx(options)),
      search: async (query: string, options?: QueryOptions) => this.search(query, withCtx(options)),
      state: {
        get: (id: string) => this.state.get(id, ctx),
        list: async (options?: StateListOptions) => this.state.list(withCtx(options)),
        update: async (id: string, patch: StateUpdate) => this.state.update(id, withCtx(patch, "patch")),
        forget: (id: string) => this.state.forget(id, ctx),
      },
      traces: {
        list: async (options?: TracesListOptions) => this.traces.list({ ...(checked(options, "options") ?? {}), principal: ctx.principal }),
        get: (id: string) => this.traces.get(id, ctx),
      },
      turns: {
        list: async (options?: TurnsListOptions) => this.turns.list(withCtx(options)),
        retry: () => this.turns.retry(ctx),
      },
      knowledge: {
        add: async (input: KnowledgeAddInput) => this.knowledge.add(withCtx(input, "input")),
        remove: (documentId: string) => this.knowledge.remove(documentId, ctx),
        list: (options?: KnowledgeListOptions) => this.knowledge.list(withCtx(options)),
        retry: () => this.knowledge.retry(ctx),
        reindex: () => this.knowledge.reindex(ctx),
        reindexStatus: () => this.knowledge.reindexStatus(ctx),
      },
      config: {
        models: (models: ModelsInput) => this.config.models(models, ctx),
        providers: (providers: ProvidersInput) => this.config.providers(providers, ctx),
        retention: (rules: RetentionRule[]) => this.config.retention(rules, ctx),
        cache: (cache: Partial<CacheConfig>) => this.config.cache(cache, ctx),
        budget: (budget: BudgetConfigInput) => this.config.budget(budget, ctx),
        get: () => this.config.get(ctx),
      },
      lifecycle: {
        decay: () => this.lifecycle.decay(ctx),
        expire: () => this.lifecycle.expire(ctx),
        consolidate: () => this.lifecycle.consolidate(ctx),
        elaborate: () => this.lifecycle.elaborate(ctx),
      },
      cache: { flush: () => this.cache.flush(ctx) },
    };
  }

  /**
   * Stops timers, drains background work, saves the ANN indexes and closes the database. Idempotent. The
   * database is always closed; the promise resolves with what could not be saved (`unsaved`: ANN index files
   * that could not be written, e.g. a full disk — a cache, rebuilt from the database on the next open, so
   * nothing is lost), each also logged as a warning.
   */
  close(): Promise<CloseReport> {
    this.closing ??= (async () => {
      if (this.ready) {
        try {
          await this.ready;
        } catch (error) {
          // Nothing was opened (or what was is closed): stop the timers, and report why the open failed.
          await this.core.close();
          throw error;
        }
      }
      try {
        return await this.core.close();
      } finally {
        if (this.engine) await releaseEngine(this.engine);
      }
    })();
    return this.closing;
  }

  /** While a `store` engine is opening (or failed to): the promise every call waits on first; else undefined. */
  private pendingOpen(): Promise<void> | undefined {
    return this.ready && !this.opened ? this.ready : undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Refuses calls after close. Every call but a `read` (recall, query: they add to the group) first commits the
   * open groups of writes of reads (the SQLite engine's group commit, store/sqlite/writer.ts).
   */
  private guard(method: string, { read = false } = {}): void {
    if (this.closing) throw new ClosedError(method);
    if (!read) commitGroups();
  }
}

/** Top-level option keys holding the caller's own objects, not walked by the input guard. */
const OPAQUE_OPTIONS: ReadonlySet<string> = new Set(["logger", "models.*", "store"]);

// The public boundary: every method of the instance fails only with SpectronErrors (storage failures typed, a
// defect `internal` with its cause), never a raw SqliteError or TypeError.
// With a `store` engine, the asynchronous methods first wait for it to open; `usage` and `as` stay synchronous
// (a view's methods wait in turn) and `close` waits by itself.
const openGate = (self: unknown) => (self as { pendingOpen(): Promise<void> | undefined }).pendingOpen();
for (const name of ["ingest", "recall", "reflect", "chat", "query", "search", "usage", "idle", "as", "close"] as const) {
  const proto = Spectron.prototype as unknown as Record<string, (...args: never[]) => unknown>;
  proto[name] = withTypedErrors(name, proto[name]!, name === "usage" || name === "as" || name === "close" ? undefined : openGate);
}

