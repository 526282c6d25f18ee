import { z } from "zod";
import { SpectronValidationError } from "../errors.js";
import { guardInput } from "./input-guard.js";
import { STAGES } from "../models/types.js";
import type { Logger, ProvidersInput, StoreEngine } from "../types/inputs.js";

// The public types these schemas check are written out in types/inputs.ts (the published declarations name no
// zod type); test/public-types.test.ts holds the two to each other.
export type {
  CacheConfig,
  CallContext,
  IngestInput,
  Logger,
  Models,
  ModelsInput,
  Principal,
  ProvidersInput,
  QueryOptions,
  RecallOptions,
  RetentionRule,
  SpectronOptions,
  StoreEngine,
  StateListOptions,
  TracesListOptions,
  TurnsListOptions,
} from "../types/inputs.js";
import { PROVIDER_NAME } from "../models/model-id.js";
import { isModelObject, type EmbeddingModelObject, type LanguageModelObject } from "../models/model-objects.js";

/**
 * Runs a zod schema at the public boundary, after `guardInput` has bounded the value (size, depth, cycles, plain
 * objects, well-formed text). The first issue becomes a SpectronValidationError naming the field:
 * "Invalid `options.limit`: expected an integer ≥ 1, received -1." `opaque` names top-level keys holding the
 * caller's own objects (a logger), not walked.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, root: string, opaque?: ReadonlySet<string>): z.output<S> {
  guardInput(value, root, opaque);
  const first = schema.safeParse(value);
  if (first.success) return first.data;
  // Parsed again for the messages: a per-parse error map costs on every call, and only failures need it.
  const result = schema.safeParse(value, { error: expectation });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  let received: unknown = value;
  for (const p of issue.path) received = received == null ? undefined : (received as Record<PropertyKey, unknown>)[p as PropertyKey];
  const field = `${root}${path}`.replace(/^\./, "");
  let expected = issue.message;
  if (issue.code === "unrecognized_keys") {
    const shown = issue.keys.slice(0, 5).map((k) => `\`${k.length > 40 ? `${k.slice(0, 37)}...` : k}\``);
    const more = issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : "";
    expected = `no unknown keys (${shown.join(", ")}${more} ${issue.keys.length === 1 ? "is" : "are"} not accepted)`;
  }
  throw new SpectronValidationError(field || root, expected, received);
}

const A_TYPE: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "an object",
  record: "an object",
  map: "an object",
  array: "an array",
  date: "a valid Date",
  function: "a function",
  nonoptional: "a value",
};

/**
 * What was expected, in words, for the issues our schemas leave to zod's defaults (their own messages win).
 * Only the expectation: parseInput adds the field and the received value, once.
 */
function expectation(issue: z.core.$ZodRawIssue): string {
  const bound = (n: unknown) => (typeof n === "number" || typeof n === "bigint" ? n.toLocaleString("en-US") : String(n));
  switch (issue.code) {
    case "invalid_type":
      return A_TYPE[issue.expected] ?? `a value of type ${issue.expected}`;
    case "too_small": {
      const min = bound(issue.minimum);
      if (issue.origin === "string") return `a string of at least ${min} character${min === "1" ? "" : "s"}`;
      if (issue.origin === "array" || issue.origin === "set") return `at least ${min} item${min === "1" ? "" : "s"}`;
      return `a number ${issue.inclusive ? "≥" : ">"} ${min}`;
    }
    case "too_big": {
      const max = bound(issue.maximum);
      if (issue.origin === "string") return `a string of at most ${max} characters`;
      if (issue.origin === "array" || issue.origin === "set") return `at most ${max} item${max === "1" ? "" : "s"}`;
      return `a number ${issue.inclusive ? "≤" : "<"} ${max}`;
    }
    case "invalid_value":
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return issue.format === "url" ? "a URL" : issue.format === "datetime" ? "an ISO 8601 date-time with a time zone" : `a string in ${issue.format} format`;
    case "not_multiple_of":
      return `a multiple of ${bound(issue.divisor)}`;
    case "invalid_key":
      return "valid keys";
    case "invalid_element":
      return "valid elements";
    case "invalid_union":
      return "one of the accepted forms";
    default:
      return "a valid value";
  }
}

/** An integer in [min, max], with messages that say so ("an integer ≥ 1"). */
export function integer(min: number, max: number) {
  const range = `an integer from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}`;
  return z
    .number({ error: range })
    .int({ error: range })
    .min(min, { error: `an integer ≥ ${min.toLocaleString("en-US")}` })
    .max(max, { error: `an integer ≤ ${max.toLocaleString("en-US")}` });
}

/** Epoch ms of 0001-01-01 and 9999-12-31T23:59:59.999Z: dates a person can mean, inside what Date and ISO 8601 hold. */
export const DATE_MIN_MS = -62_135_596_800_000;
export const DATE_MAX_MS = 253_402_300_799_999;

/** Free-form JSON metadata: at most 64 KB as JSON, 16 levels deep, keys of at most 256 characters. */
export const METADATA_MAX_BYTES = 65_536;
export const METADATA_MAX_DEPTH = 16;

function depthOf(value: unknown, depth = 0): number {
  if (typeof value !== "object" || value === null) return depth;
  let max = depth + 1;
  for (const v of Object.values(value)) max = Math.max(max, depthOf(v, depth + 1));
  return max;
}

/** Checked after guardInput: the value is acyclic and bounded, so serialising it is safe. */
export const metadataSchema = z
  .record(z.string().max(256, "metadata keys of at most 256 characters"), z.json())
  .refine((m) => depthOf(m) <= METADATA_MAX_DEPTH, `metadata nested at most ${METADATA_MAX_DEPTH} levels deep`)
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= METADATA_MAX_BYTES, `metadata of at most ${METADATA_MAX_BYTES / 1024} KB as JSON`);

/** The most grants a principal may carry: each one is a term in the SQL of a scoped read. */
export const PRINCIPAL_MAX_GRANTS = 100;

export const SCOPE_MAX_DIMENSIONS = 8;

const RESERVED_DIMENSIONS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * What a scope value may not hold: NUL (C strings, and so other engines' text types, end there) and unpaired
 * surrogates (not Unicode: SQLite's JSON functions decode each to U+FFFD, so a grant on one value would match
 * traces of another). Every other string a user id can be is a valid value: any script, emoji, punctuation (`|`,
 * quotes, backslashes, braces), spaces, other control characters.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A scope: at most 8 dimensions, names of letters, digits and _, values non-empty strings of at most 256 UTF-16
 * code units. Values are compared exactly, code unit for code unit: "é" and "e\u0301" are two scopes.
 */
export const scopeSchema = z
  .custom<unknown>(
    // z.record skips a `__proto__` key silently: a grant { "__proto__": "x" } would become {}, the whole Context.
    (v) => !(typeof v === "object" && v !== null && Object.keys(v).some((k) => RESERVED_DIMENSIONS.has(k))),
    "a dimension name other than __proto__, constructor or prototype",
  )
  .pipe(
    z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "a dimension name of letters, digits and _ (such as `user` or `org`)"),
        z
          .string()
          .min(1, "a non-empty string value")
          .max(256, "a value of at most 256 characters")
          .refine((v) => !UNSTORABLE.test(v), "a value without NUL characters or unpaired surrogates"),
      )
      .refine((s) => Object.keys(s).length <= SCOPE_MAX_DIMENSIONS, `a scope with at most ${SCOPE_MAX_DIMENSIONS} dimensions`),
  ) as unknown as z.ZodType<Record<string, string>, Record<string, string>>;

export const ttlSchema = z
  .string()
  .regex(/^\d{1,6}(ms|s|m|h|d|w)$/, 'a duration such as "30d", "12h", "90m" or "365d"');

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export function ttlToMs(ttl: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(ttl);
  if (!m) throw new SpectronValidationError("ttl", 'a duration such as "30d"', ttl);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export const memoryCategorySchema = z.enum(["identity", "knowledge", "context"]);
export const stageSchema = z.enum(STAGES);

const modelIdSchema = z.string().min(1, "a model id").max(256, "a model id of at most 256 characters");

/**
 * A stage's model: an id (`"gpt-4o-mini"`, `"ollama:llama3.1"`), or a model object (Spectron's
 * `LanguageModel` / `EmbeddingModel`, or a Vercel AI SDK `LanguageModelV3` / `EmbeddingModelV3`).
 */
const modelInputSchema = z.union([modelIdSchema, z.custom<LanguageModelObject | EmbeddingModelObject>(isModelObject)], {
  error: 'a model id such as "gpt-4o-mini" or "ollama:llama3.1", or a model object',
});

export const modelsSchema = z.strictObject(
  Object.fromEntries(STAGES.map((s) => [s, modelInputSchema.optional()])) as Record<(typeof STAGES)[number], z.ZodOptional<typeof modelInputSchema>>,
);

const apiKeySchema = z.string().min(1, "a non-empty API key").max(4096, "an API key of at most 4,096 characters");
const baseURLSchema = z.url({ error: "a URL" }).max(2048, "a URL of at most 2,048 characters");
const providerValueSchema = z.union(
  [apiKeySchema, z.strictObject({ apiKey: apiKeySchema, baseURL: baseURLSchema.optional() })],
  { error: "an API key, or { apiKey, baseURL }" },
);
/** A named OpenAI-compatible provider: `{ baseURL, apiKey?, dimensions?, headers? }`. */
const namedProviderSchema = z.strictObject(
  {
    baseURL: baseURLSchema,
    apiKey: apiKeySchema.optional(),
    dimensions: z.record(z.string().min(1).max(256), z.number().int().min(1).max(16_384), { error: "a map of embedding model id to its dimension (an integer from 1 to 16,384)" }).optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "an HTTP header name"), z.string().max(4096).regex(/^[^\r\n]*$/, "a header value on one line")).optional(),
  },
  { error: 'an OpenAI-compatible provider { baseURL, apiKey? }, such as { baseURL: "http://localhost:11434/v1" }' },
);
export const providersSchema: z.ZodType<ProvidersInput> = z
  .object({ openai: providerValueSchema.optional(), anthropic: providerValueSchema.optional() })
  .catchall(namedProviderSchema)
  .superRefine((value, ctx) => {
    for (const name of Object.keys(value)) {
      if (name === "local" || !PROVIDER_NAME.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `a provider name of lowercase letters, digits, "-" or "_" (starting with a letter, at most 32), other than "local"`,
          input: name,
        });
      }
    }
  });

export const retentionRuleSchema = z.strictObject({ scope: scopeSchema, memory_category: memoryCategorySchema, ttl: ttlSchema });
export const retentionSchema = z.array(retentionRuleSchema).max(1000);

export const cacheConfigSchema = z.strictObject({
  /** Cosine similarity above which a past answer is reused (tier 2). @default 0.95 */
  similarity: z.number().gt(0).max(1).optional(),
  /** Oldest cached answer that may be reused, as a duration; null for no limit. @default null */
  freshness: ttlSchema.nullable().optional(),
  /** Lowest trust × confidence of any cited record for reuse. @default 0 */
  min_trust: z.number().min(0).max(1).optional(),
});

/** `config.budget()`: background model tokens per UTC day (of the injected clock), or null for no cap. */
export const budgetConfigSchema = z.strictObject({
  background_tokens_per_day: z.union([z.number().int().min(0).max(1e12), z.null()], { error: "an integer from 0 to 1e12, or null" }),
});
export type BudgetConfigInput = z.infer<typeof budgetConfigSchema>;

export const principalSchema = z.strictObject({
  id: z.string().min(1).max(256),
  grants: z
    .array(z.strictObject({ scope: scopeSchema, permissions: z.array(z.enum(["read", "write", "manage"])).min(1).max(3) }))
    .max(PRINCIPAL_MAX_GRANTS, `at most ${PRINCIPAL_MAX_GRANTS} grants (grant a broader scope instead of many narrow ones)`),
});

/** Who is calling: rides in the options of every method (or as a trailing argument). */
export const callContextShape = {
  principal: principalSchema.optional(),
  onBehalfOf: z.string().min(1).max(256).optional(),
  session: z.string().min(1).max(256).optional(),
  signal: z.instanceof(AbortSignal).optional(),
};
export const callContextSchema = z.strictObject(callContextShape);

const DATE_FORMS = "an ISO 8601 date-time with a time zone, a Date or epoch milliseconds";
const dateInputSchema = z
  .union([z.iso.datetime({ offset: true }), z.date(), z.number().refine(Number.isInteger, DATE_FORMS)], { error: DATE_FORMS })
  .refine((v) => {
    const ms = toEpochMs(v);
    return Number.isFinite(ms) && ms >= DATE_MIN_MS && ms <= DATE_MAX_MS;
  }, `${DATE_FORMS}, between years 1 and 9999`);
export function toEpochMs(value: string | Date | number): number {
  return typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : value.getTime();
}

const ingestMessageShape = {
  role: z.enum(["user", "assistant", "system", "tool"]).default("user"),
  content: z.string().trim().min(1, "non-empty text").max(64_000, "at most 64,000 characters"),
  speaker: z.string().min(1).max(256).optional(),
  occurred_at: dateInputSchema.optional(),
  metadata: metadataSchema.optional(),
};
export const ingestSchema = z.strictObject({ ...ingestMessageShape, scope: scopeSchema.default({}), ...callContextShape });

/** The most messages one `ingest` call takes: one extraction call holds them all. */
export const INGEST_BATCH_MAX = 100;
export const ingestBatchSchema = z.strictObject({
  messages: z.array(z.strictObject(ingestMessageShape)).min(1).max(INGEST_BATCH_MAX),
  scope: scopeSchema.default({}),
  ...callContextShape,
});
export const ingestArraySchema = z.array(ingestSchema).min(1).max(INGEST_BATCH_MAX);

export const querySchema = z.string().trim().min(1, "a non-empty question").max(4_000, "at most 4,000 characters");

export const recallOptionsSchema = z.strictObject({
  scope: scopeSchema.default({}),
  /** How many records to retrieve for the answer. @default 8 */
  limit: integer(1, 100).default(8),
  ...callContextShape,
});

export const queryOptionsSchema = z.strictObject({
  scope: scopeSchema.default({}),
  limit: integer(1, 1000).default(10),
  ...callContextShape,
});

export const stateListSchema = z.strictObject({
  scope: scopeSchema.default({}),
  expires_before: dateInputSchema.optional(),
  /** With manage on `scope`: every record whose scope contains `scope`, not only those visible at it. */
  across: z.boolean().optional(),
  memory_category: memoryCategorySchema.optional(),
  status: z.enum(["current", "superseded", "flagged", "expired", "forgotten"]).optional(),
  limit: integer(1, 1000).default(100),
  cursor: z.string().regex(/^[1-9][0-9]{0,14}$/, "a cursor returned by a previous state.list call").optional(),
  ...callContextShape,
});

export const stateUpdateSchema = z
  .strictObject({
    text: z.string().trim().min(1, "non-empty text").max(64_000, "at most 64,000 characters").optional(),
    value: z.string().trim().min(1, "a non-empty value").max(4_000, "at most 4,000 characters").optional(),
    ...callContextShape,
  })
  .refine((p) => p.text !== undefined || p.value !== undefined, "`text`, `value` or both");

export const tracesListSchema = z.strictObject({
  kind: z.enum(["retrieval_trace", "decision_trace", "response_trace", "sweep_trace"]).optional(),
  session: z.string().min(1).max(256).optional(),
  limit: integer(1, 1000).default(50),
  cursor: z.string().regex(/^[1-9][0-9]{0,14}$/, "a cursor returned by a previous traces.list call").optional(),
  principal: callContextShape.principal,
  onBehalfOf: callContextShape.onBehalfOf,
  signal: callContextShape.signal,
});

export const turnsListSchema = z.strictObject({
  status: z.enum(["pending", "extracted", "failed"]).optional(),
  scope: scopeSchema.optional(),
  limit: integer(1, 1000).default(100),
  ...callContextShape,
});

export const loggerSchema = z.custom<Logger>(
  (v) => typeof v === "object" && v !== null && ["debug", "info", "warn", "error"].every((m) => typeof (v as Record<string, unknown>)[m] === "function"),
  "an object with debug, info, warn and error methods",
);

const INTERVAL = "an interval in ms from 100 to 2,147,483,647, or false";
const intervalSchema = z.union([z.literal(false), z.number().int().min(100).max(2_147_483_647)], { error: INTERVAL });

export const spectronOptionsSchema = z.strictObject({
  context: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'a Context name of letters, digits, ".", "_", ":" or "-" (such as "acme-prod")'),
  path: z
    .string()
    .min(1, "a file path or \":memory:\"")
    .max(4096, "a file path of at most 4,096 characters")
    .refine((p) => !p.includes("\u0000"), "a file path without NUL characters")
    .optional(),
  /** Another database engine (the constructor refuses it together with `path`). */
  store: z
    .custom<StoreEngine>(
      (v) =>
        typeof v === "object" && v !== null && typeof (v as StoreEngine).engine === "string" &&
        typeof (v as StoreEngine).open === "function" && typeof (v as StoreEngine).close === "function",
      'a database engine such as postgresStore({ connectionString }) from "spectron/postgres"',
    )
    .optional(),
  clock: z.function().optional(),
  models: modelsSchema.optional(),
  providers: providersSchema.optional(),
  secretKey: z
    .union([z.string().min(16).max(4096), z.instanceof(Uint8Array)], { error: "a secret of 16 to 4,096 characters, or a Uint8Array" })
    .refine((k) => typeof k === "string" || (k.length >= 16 && k.length <= 4096), "a secret of 16 to 4,096 bytes")
    .optional(),
  logger: loggerSchema.optional(),
  /** Background sweep intervals; `false` turns every schedule off (sweeps stay callable by hand). */
  schedule: z
    .union(
      [
      z.literal(false),
      z.strictObject({
        /** Decay sweep interval in ms, or false. @default 86_400_000 (nightly) */
        decay: intervalSchema.optional(),
        /** Expiry sweep interval in ms, or false. @default 3_600_000 (hourly) */
        expire: intervalSchema.optional(),
        /** Retry of pending turns, in ms, or false. @default 60_000 */
        retry: intervalSchema.optional(),
        /** Consolidation sweep interval in ms, or false. @default 21_600_000 (every 6 hours) */
        consolidate: intervalSchema.optional(),
        /** Elaboration sweep interval in ms, or false. @default 43_200_000 (every 12 hours) */
        elaborate: intervalSchema.optional(),
      }),
      ],
      { error: "false, or { decay, expire, retry } with intervals in ms (from 100) or false each" },
    )
    .optional(),
  /** Ranking feedback from past retrieval traces. Turn off to compare. @default true */
  feedback: z.boolean().optional(),
  /** Timeout and retries of real provider calls. */
  provider: z
    .strictObject({
      /** Per-call timeout in ms. @default 30000 */
      timeoutMs: integer(1, 2_147_483_647).optional(),
      /** Retries of 429, 5xx, timeouts and network errors. @default 3 */
      maxRetries: integer(0, 10).optional(),
      /** First backoff in ms (exponential, full jitter, honouring retry-after). @default 250 */
      retryBaseMs: integer(0, 3_600_000).optional(),
      /** Longest backoff in ms. @default 8000 */
      retryCapMs: integer(0, 3_600_000).optional(),
    })
    .optional(),
});
