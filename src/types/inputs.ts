import type { OnProgress } from "../config/progress.js";
/**
 * The public input and option types, written out by hand so that the published declarations name no zod type
 * (a consumer compiles them with `skipLibCheck: false` and needs nothing but this package). Each mirrors the zod
 * schema that validates it at the boundary (config/schemas.ts); test/public-types.test.ts fails the type-check
 * when the two drift apart.
 */

/** A flat map of scope dimensions (`{ org, user, project, … }`, at most 8), values of 1 to 256 characters. */
export type Scope = Readonly<Record<string, string>>;

export type Permission = "read" | "write" | "manage";

/** One grant: `permissions` on every request scope that contains `scope`. */
export interface Grant {
  scope: Record<string, string>;
  permissions: Permission[];
}

/** Who is calling. No principal means the embedding application, which may do everything. */
export interface Principal {
  id: string;
  /** At most 100. */
  grants: Grant[];
}

/** Rides in the options of every method, or as a trailing argument where a method has none. */
export interface CallContext {
  principal?: Principal | undefined;
  /** Recorded on traces; never widens access. */
  onBehalfOf?: string | undefined;
  session?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** An ISO 8601 date-time with a time zone, a Date or epoch milliseconds (years 1–9999). */
export type DateInput = string | Date | number;

export type MemoryCategory = "identity" | "knowledge" | "context";
export type RecordKind = "entity" | "attribute" | "relation" | "instruction" | "uncertainty" | "observation";
export type RecordStatus = "current" | "superseded" | "flagged" | "expired" | "forgotten";
export type TurnRole = "user" | "assistant" | "system" | "tool";

/** JSON metadata: at most 64 KB as JSON, 16 levels deep. */
export type Metadata = Record<string, JsonValue>;
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One message of a turn. */
export interface IngestMessage {
  /** @default "user" */
  role?: TurnRole | undefined;
  /** 1 to 64,000 characters. */
  content: string;
  speaker?: string | undefined;
  occurred_at?: DateInput | undefined;
  metadata?: Metadata | undefined;
}

/** `ingest(input)`: one message, stored as a turn. */
export interface IngestInput extends IngestMessage, CallContext {
  /** @default {} (Context-wide) */
  scope?: Record<string, string> | undefined;
}

/**
 * `ingest({ messages, scope })`: several messages, one turn each, extracted in one model call. (An array of
 * `IngestInput` works too, each with its own scope.)
 */
export interface IngestBatchInput extends CallContext {
  /** 1 to 100 messages; all are validated (and access-checked) before any is stored. */
  messages: IngestMessage[];
  /** @default {} */
  scope?: Record<string, string> | undefined;
}

export interface RecallOptions extends CallContext {
  /** @default {} */
  scope?: Record<string, string> | undefined;
  /** Records retrieved for the answer, 1 to 100. @default 8 */
  limit?: number | undefined;
}

export interface ChatOptions extends RecallOptions {
  /** Who said the message (stored on the user turn, as `ingest({ speaker })`). */
  speaker?: string | undefined;
}

export interface QueryOptions extends CallContext {
  /** @default {} */
  scope?: Record<string, string> | undefined;
  /** 1 to 1,000. @default 10 */
  limit?: number | undefined;
}

export interface StateListOptions extends CallContext {
  /** Records visible at this scope. @default {} */
  scope?: Record<string, string> | undefined;
  /**
   * With `manage` on `scope`: every record whose scope contains `scope` (all of a user's scopes for
   * `{ user: "alice" }`), not only those visible at it.
   */
  across?: boolean | undefined;
  expires_before?: DateInput | undefined;
  memory_category?: MemoryCategory | undefined;
  /** By default current and flagged records that have not expired. */
  status?: RecordStatus | undefined;
  /** 1 to 1,000. @default 100 */
  limit?: number | undefined;
  /** The `cursor` of a previous page. */
  cursor?: string | undefined;
}

/**
 * `state.update(id, patch)`: new `text` (1 to 64,000 characters), a new `value` (for a record with an attribute:
 * the text follows it where it states the old value), or both; at least one.
 */
export interface StateUpdate extends CallContext {
  text?: string | undefined;
  value?: string | undefined;
}

export type TraceKind = "retrieval_trace" | "decision_trace" | "response_trace" | "sweep_trace";

export interface TracesListOptions {
  kind?: TraceKind | undefined;
  session?: string | undefined;
  /** 1 to 1,000. @default 50 */
  limit?: number | undefined;
  cursor?: string | undefined;
  principal?: Principal | undefined;
  onBehalfOf?: string | undefined;
  signal?: AbortSignal | undefined;
}

export type TurnStatus = "pending" | "extracted" | "failed";

export interface TurnsListOptions extends CallContext {
  status?: TurnStatus | undefined;
  scope?: Record<string, string> | undefined;
  /** 1 to 1,000. @default 100 */
  limit?: number | undefined;
}

export interface KnowledgeAddInput extends CallContext {
  /** 1 to 512 characters. */
  title: string;
  /** At most 5,000,000 characters. */
  text: string;
  /** @default {} */
  scope?: Record<string, string> | undefined;
  metadata?: Metadata | undefined;
  /** Called as chunks are embedded (`embed`), extracted (`extract`, one per chunk) and written (`store`). */
  onProgress?: OnProgress | undefined;
}

export type DocumentStatus = "pending" | "indexed" | "failed";

export interface KnowledgeListOptions extends CallContext {
  status?: DocumentStatus | undefined;
  scope?: Record<string, string> | undefined;
  /** @default 100 */
  limit?: number | undefined;
}

import type { ModelInput } from "../models/model-objects.js";

export type StageName = "extraction" | "query_understanding" | "response" | "reflection" | "background" | "embedding";

/**
 * A model per stage, as an id (`"gpt-4o-mini"`, `"ollama:llama3.1"`) or a model object (Spectron's
 * `LanguageModel` / `EmbeddingModel`, or a Vercel AI SDK model); omitted stages keep their model.
 */
export type ModelsInput = { [K in StageName]?: ModelInput | undefined };
/** The model id of every stage. */
export type Models = { [K in StageName]: string };

/** An API key, or `{ apiKey, baseURL }`. */
export type ProviderInput = string | { apiKey: string; baseURL?: string | undefined };
/** A named OpenAI-compatible provider (`ollama`, `openrouter`, …): `{ baseURL, apiKey?, dimensions?, headers? }`. */
export interface NamedProviderInput {
  baseURL: string;
  apiKey?: string | undefined;
  /** Embedding model id → its dimension. */
  dimensions?: Record<string, number> | undefined;
  headers?: Record<string, string> | undefined;
}
/** Provider connections: `openai` / `anthropic` (a key, or `{ apiKey, baseURL }`) and named OpenAI-compatible providers. */
export type ProvidersInput = { openai?: ProviderInput | undefined; anthropic?: ProviderInput | undefined } & {
  [name: string]: ProviderInput | NamedProviderInput | undefined;
};

/** `{ scope, memory_category, ttl }`: first match wins. `ttl` such as "30d", "12h", "90m". */
export interface RetentionRule {
  scope: Record<string, string>;
  memory_category: MemoryCategory;
  ttl: string;
}

/** Tier-2 (semantic response cache) thresholds. */
export interface CacheConfig {
  /** Cosine similarity above which a past answer is reused. @default 0.95 */
  similarity: number;
  /** Oldest cached answer that may be reused, as a duration; null for no limit. @default null */
  freshness: string | null;
  /** Lowest trust × confidence of any cited record for reuse. @default 0 */
  min_trust: number;
}

export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** An interval in ms from 100 to 2,147,483,647, or `false` for none. */
export type Interval = number | false;

/**
 * A database engine for `new Spectron({ store })`: `postgresStore(…)` from `spectron/postgres`. The instance opens
 * its Context on it (asynchronously: every call waits for it) and, when the last instance using the engine closes,
 * closes the engine.
 */
export interface StoreEngine {
  /** "postgres". */
  readonly engine: string;
  /** Opens one Context's store (migrating the database first if needed). */
  open(context: string, options: { now: () => number; onError?: (error: unknown) => void }): Promise<object>;
  /** Releases what the engine holds (the pool it created). */
  close(): Promise<void>;
}

export interface SpectronOptions {
  /** The Context: letters, digits, ".", "_", ":" or "-" (such as "acme-prod"). */
  context: string;
  /** A SQLite file path (not with `store`). @default ":memory:" */
  path?: string | undefined;
  /**
   * Another database engine instead of the SQLite file, such as PostgreSQL:
   * `store: postgresStore({ connectionString })` (from `spectron/postgres`). Not with `path`.
   */
  store?: StoreEngine | undefined;
  /** Epoch milliseconds now. @default Date.now */
  clock?: (() => number) | undefined;
  /** Models per stage, fixed when the Context is first created (later: `config.models`). */
  models?: ModelsInput | undefined;
  /** Provider keys. When omitted, `OPENAI_API_KEY` and `ANTHROPIC_API_KEY` are read once; `{}` reads nothing. */
  providers?: ProvidersInput | undefined;
  /** 16 to 4,096 characters or bytes: persists provider keys encrypted. */
  secretKey?: string | Uint8Array | undefined;
  /** @default a no-op logger */
  logger?: Logger | undefined;
  /** Background intervals in ms, or `false` each; `false` for none. */
  schedule?:
    | false
    | {
        decay?: Interval | undefined;
        expire?: Interval | undefined;
        consolidate?: Interval | undefined;
        elaborate?: Interval | undefined;
        retry?: Interval | undefined;
      }
    | undefined;
  /** Ranking feedback from past retrieval traces. @default true */
  feedback?: boolean | undefined;
  /** Timeout and retries of real provider calls. */
  provider?:
    | {
        /** @default 30000 */
        timeoutMs?: number | undefined;
        /** @default 3 */
        maxRetries?: number | undefined;
        /** @default 250 */
        retryBaseMs?: number | undefined;
        /** @default 8000 */
        retryCapMs?: number | undefined;
      }
    | undefined;
}
