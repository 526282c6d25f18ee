import { z } from "zod";
import { SpectronValidationError } from "../errors.js";
import { STAGES } from "../models/types.js";

/** Runs a zod schema at the public boundary; the first issue becomes a SpectronValidationError naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  let received: unknown = value;
  for (const p of issue.path) received = received == null ? undefined : (received as Record<PropertyKey, unknown>)[p as PropertyKey];
  const field = `${root}${path}`.replace(/^\./, "");
  let expected = issue.message.replace(/^Invalid input: /, "");
  if (issue.code === "unrecognized_keys") {
    expected = `no unknown keys (${issue.keys.map((k) => `\`${k}\``).join(", ")} ${issue.keys.length === 1 ? "is" : "are"} not accepted)`;
  }
  throw new SpectronValidationError(field || root, expected, received);
}

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

export const modelsSchema = z.strictObject(
  Object.fromEntries(STAGES.map((s) => [s, z.string().min(1).optional()])) as Record<
    (typeof STAGES)[number],
    z.ZodOptional<z.ZodString>
  >,
);
export type ModelsInput = z.infer<typeof modelsSchema>;
export type Models = Required<{ [K in keyof ModelsInput]: string }>;

const providerValueSchema = z.union([
  z.string().min(1, "a non-empty API key"),
  z.strictObject({ apiKey: z.string().min(1, "a non-empty API key"), baseURL: z.url().optional() }),
]);
export const providersSchema = z.strictObject({ openai: providerValueSchema.optional(), anthropic: providerValueSchema.optional() });
export type ProvidersInput = z.infer<typeof providersSchema>;

export const retentionRuleSchema = z.strictObject({ scope: scopeSchema, memory_category: memoryCategorySchema, ttl: ttlSchema });
export const retentionSchema = z.array(retentionRuleSchema).max(1000);
export type RetentionRule = z.infer<typeof retentionRuleSchema>;

export const cacheConfigSchema = z.strictObject({
  /** Cosine similarity above which a past answer is reused (tier 2). @default 0.95 */
  similarity: z.number().gt(0).max(1).optional(),
  /** Oldest cached answer that may be reused, as a duration; null for no limit. @default null */
  freshness: ttlSchema.nullable().optional(),
  /** Lowest trust × confidence of any cited record for reuse. @default 0 */
  min_trust: z.number().min(0).max(1).optional(),
});
export type CacheConfig = { similarity: number; freshness: string | null; min_trust: number };

export const principalSchema = z.strictObject({
  id: z.string().min(1).max(256),
  grants: z.array(
    z.strictObject({ scope: scopeSchema, permissions: z.array(z.enum(["read", "write", "manage"])).min(1) }),
  ),
});
export type Principal = z.infer<typeof principalSchema>;

/** Who is calling: rides in the options of every method (or as a trailing argument). */
export const callContextShape = {
  principal: principalSchema.optional(),
  onBehalfOf: z.string().min(1).max(256).optional(),
  session: z.string().min(1).max(256).optional(),
  signal: z.instanceof(AbortSignal).optional(),
};
export const callContextSchema = z.strictObject(callContextShape);
export type CallContext = z.infer<typeof callContextSchema>;

const dateInputSchema = z.union([z.iso.datetime({ offset: true }), z.date(), z.number().int().nonnegative()]);
export function toEpochMs(value: string | Date | number): number {
  return typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : value.getTime();
}

export const ingestSchema = z.strictObject({
  role: z.enum(["user", "assistant", "system", "tool"]).default("user"),
  content: z.string().trim().min(1, "non-empty text").max(64_000, "at most 64,000 characters"),
  scope: scopeSchema.default({}),
  speaker: z.string().min(1).max(256).optional(),
  occurred_at: dateInputSchema.optional(),
  metadata: z.record(z.string(), z.json()).optional(),
  ...callContextShape,
});
export type IngestInput = z.input<typeof ingestSchema>;

export const querySchema = z.string().trim().min(1, "a non-empty question").max(4_000, "at most 4,000 characters");

export const recallOptionsSchema = z.strictObject({
  scope: scopeSchema.default({}),
  /** How many records to retrieve for the answer. @default 8 */
  limit: z.number().int().min(1).max(100).default(8),
  ...callContextShape,
});
export type RecallOptions = z.input<typeof recallOptionsSchema>;

export const queryOptionsSchema = z.strictObject({
  scope: scopeSchema.default({}),
  limit: z.number().int().min(1).max(1000).default(10),
  ...callContextShape,
});
export type QueryOptions = z.input<typeof queryOptionsSchema>;

export const stateListSchema = z.strictObject({
  scope: scopeSchema.default({}),
  expires_before: dateInputSchema.optional(),
  memory_category: memoryCategorySchema.optional(),
  status: z.enum(["current", "superseded", "flagged", "expired", "forgotten"]).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d+$/, "a cursor returned by a previous state.list call").optional(),
  ...callContextShape,
});
export type StateListOptions = z.input<typeof stateListSchema>;

export const tracesListSchema = z.strictObject({
  kind: z.enum(["retrieval_trace", "decision_trace", "response_trace", "sweep_trace"]).optional(),
  session: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().regex(/^\d+$/, "a cursor returned by a previous traces.list call").optional(),
  principal: callContextShape.principal,
  onBehalfOf: callContextShape.onBehalfOf,
  signal: callContextShape.signal,
});
export type TracesListOptions = z.input<typeof tracesListSchema>;

export const turnsListSchema = z.strictObject({
  status: z.enum(["pending", "extracted", "failed"]).optional(),
  scope: scopeSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  ...callContextShape,
});
export type TurnsListOptions = z.input<typeof turnsListSchema>;

export const loggerSchema = z.custom<Logger>(
  (v) => typeof v === "object" && v !== null && ["debug", "info", "warn", "error"].every((m) => typeof (v as Record<string, unknown>)[m] === "function"),
  "an object with debug, info, warn and error methods",
);
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

const intervalSchema = z.union([z.literal(false), z.number().int().min(100, "an interval of at least 100 ms, or false")]);

export const spectronOptionsSchema = z.strictObject({
  context: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'a Context name of letters, digits, ".", "_", ":" or "-" (such as "acme-prod")'),
  path: z.string().min(1).default(":memory:"),
  clock: z.function().optional(),
  models: modelsSchema.optional(),
  providers: providersSchema.optional(),
  secretKey: z.union([z.string().min(16, "at least 16 characters"), z.instanceof(Uint8Array)]).optional(),
  logger: loggerSchema.optional(),
  /** Background sweep intervals; `false` turns every schedule off (sweeps stay callable by hand). */
  schedule: z
    .union([
      z.literal(false),
      z.strictObject({
        /** Decay sweep interval in ms, or false. @default 86_400_000 (nightly) */
        decay: intervalSchema.optional(),
        /** Expiry sweep interval in ms, or false. @default 3_600_000 (hourly) */
        expire: intervalSchema.optional(),
        /** Retry of pending turns, in ms, or false. @default 60_000 */
        retry: intervalSchema.optional(),
      }),
    ])
    .optional(),
  /** Ranking feedback from past retrieval traces. Turn off to compare. @default true */
  feedback: z.boolean().optional(),
  /** Timeout and retries of real provider calls. */
  provider: z
    .strictObject({
      /** Per-call timeout in ms. @default 30000 */
      timeoutMs: z.number().int().positive().optional(),
      /** Retries of 429, 5xx, timeouts and network errors. @default 3 */
      maxRetries: z.number().int().min(0).max(10).optional(),
      /** First backoff in ms (exponential, full jitter, honouring retry-after). @default 250 */
      retryBaseMs: z.number().int().min(0).optional(),
      /** Longest backoff in ms. @default 8000 */
      retryCapMs: z.number().int().min(0).optional(),
    })
    .optional(),
});
export type SpectronOptions = z.input<typeof spectronOptionsSchema> & { clock?: () => number };
