import { z } from "zod";
import { ProviderError } from "../errors.js";
import { redact } from "./retry.js";

/** The result of checking one reply against a prompt's schema: a whole value or the reason it is not one. */
export type ParseOutcome<O> = { ok: true; value: O } | { ok: false; error: string };

type JsonSchema = Record<string, unknown>;

const MAX_ERROR_CHARS = 1_500;

/** Checks an already-decoded value (an Anthropic tool input) against `schema`. */
export function parseStructured<O>(schema: z.ZodType<O>, value: unknown): ParseOutcome<O> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: clip(`the JSON did not match the schema:\n${z.prettifyError(result.error)}`) };
}

/**
 * Decodes a JSON reply and checks it against `schema`. A reply wholly wrapped in a Markdown code fence is
 * unwrapped (some gateways add one); anything else that is not JSON is a parse failure.
 */
export function parseJsonText<O>(schema: z.ZodType<O>, text: string | null | undefined): ParseOutcome<O> {
  if (text === null || text === undefined || text.trim() === "") return { ok: false, error: "the reply was empty; expected a JSON object" };
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(text);
  let value: unknown;
  try {
    value = JSON.parse(fenced ? (fenced[1] ?? "") : text);
  } catch (error) {
    return { ok: false, error: clip(`the reply is not valid JSON (${error instanceof Error ? error.message : String(error)})`) };
  }
  return parseStructured(schema, value);
}

/** The message sent back to the model after a reply that did not parse. */
export function parseRetryMessage(error: string): string {
  return `Your previous reply could not be used: ${error}\nReply again with only a JSON object that matches the schema exactly.`;
}

const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

/**
 * The JSON schema of what the model must produce (zod's input side), without `$schema`. Cached per schema.
 * Types JSON cannot express become unconstrained rather than throwing; the zod check still applies.
 */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  let cached = jsonSchemas.get(schema);
  if (!cached) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    cached = rest;
    jsonSchemas.set(schema, cached);
  }
  return cached;
}

/** Keywords OpenAI strict structured outputs accept; others are dropped (zod still enforces them). */
const STRICT_KEYWORDS = new Set([
  "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "$ref", "$defs",
  "definitions", "description", "title", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
  "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
]);
/** Keywords that change which values are valid and that strict mode cannot express: fall back to non-strict. */
const STRICT_BLOCKERS = new Set(["oneOf", "allOf", "not", "if", "then", "else", "patternProperties", "prefixItems", "dependentRequired", "dependentSchemas", "propertyNames", "unevaluatedProperties"]);
const STRICT_FORMATS = new Set(["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"]);

const openAISchemas = new WeakMap<z.ZodType, { schema: JsonSchema; strict: boolean }>();

/**
 * The schema for OpenAI's `response_format.json_schema`, and whether it can be sent with `strict: true`:
 * every object closed with `additionalProperties: false` and every property required. Schemas with optional
 * properties or constructs strict mode lacks are sent non-strict; the reply is validated with zod either way.
 */
export function openAIResponseSchema(schema: z.ZodType): { schema: JsonSchema; strict: boolean } {
  let cached = openAISchemas.get(schema);
  if (!cached) {
    const base = jsonSchemaOf(schema);
    const state = { strict: base.type === "object" };
    const strictSchema = toStrict(base, state) as JsonSchema;
    cached = state.strict ? { schema: strictSchema, strict: true } : { schema: base, strict: false };
    openAISchemas.set(schema, cached);
  }
  return cached;
}

function toStrict(node: unknown, state: { strict: boolean }): unknown {
  if (Array.isArray(node)) return node.map((n) => toStrict(n, state));
  if (!node || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (STRICT_BLOCKERS.has(key)) state.strict = false;
    if (!STRICT_KEYWORDS.has(key)) continue;
    if (key === "format" && !STRICT_FORMATS.has(String(value))) continue;
    if (key === "properties" || key === "$defs" || key === "definitions") {
      out[key] = Object.fromEntries(Object.entries(value as JsonSchema).map(([k, v]) => [k, toStrict(v, state)]));
    } else if (key === "items" || key === "anyOf") {
      out[key] = toStrict(value, state);
    } else if (key === "additionalProperties" && typeof value === "object") {
      state.strict = false;
    } else {
      out[key] = value;
    }
  }
  const isObject = out.type === "object" || (Array.isArray(out.type) && out.type.includes("object"));
  if (isObject) {
    const properties = Object.keys((out.properties as JsonSchema | undefined) ?? {});
    const required = new Set(Array.isArray(out.required) ? (out.required as string[]) : []);
    if (properties.some((p) => !required.has(p))) state.strict = false;
    out.properties ??= {};
    out.required = properties;
    out.additionalProperties = false;
  }
  return out;
}

/** One provider round trip: the raw reply (echoed back on a retry), whether it parsed, and its tokens. */
export interface StructuredAttempt<R, O> {
  reply: R;
  outcome: ParseOutcome<O>;
  inputTokens: number;
  outputTokens: number;
}

export interface ParseRetryArgs<R, O> {
  provider: string;
  model: string;
  promptName: string;
  /** Called before the second call (a parse retry), for usage counts. */
  onRetry?: (() => void) | undefined;
  /** Makes one call; on the second call `previous` holds the bad reply and why it failed. */
  call(previous?: { reply: R; error: string }): Promise<StructuredAttempt<R, O>>;
}

/**
 * Calls the model, and when its reply does not satisfy the schema, calls once more with the parse error.
 * A second bad reply throws a non-retryable `ProviderError`; a partial value is never returned. Tokens are
 * summed over both calls.
 */
export async function generateWithParseRetry<R, O>(
  args: ParseRetryArgs<R, O>,
): Promise<{ value: O; inputTokens: number; outputTokens: number; attempts: number }> {
  const first = await args.call();
  if (first.outcome.ok) return { value: first.outcome.value, inputTokens: first.inputTokens, outputTokens: first.outputTokens, attempts: 1 };
  args.onRetry?.();
  const second = await args.call({ reply: first.reply, error: first.outcome.error });
  const inputTokens = first.inputTokens + second.inputTokens;
  const outputTokens = first.outputTokens + second.outputTokens;
  if (second.outcome.ok) return { value: second.outcome.value, inputTokens, outputTokens, attempts: 2 };
  const label = args.provider === "openai" ? "OpenAI" : args.provider === "anthropic" ? "Anthropic" : `\`${args.provider}\``;
  const reason = redact(second.outcome.error);
  throw new ProviderError(
    args.provider,
    `The ${label} model \`${args.model}\` reply did not match the \`${args.promptName}\` schema, also after one retry with the parse error: ` +
      `${firstLine(reason)}. Nothing was stored from it. Try again, or assign a more capable model to this stage with memory.config.models(...).`,
    undefined,
    false,
    { cause: { prompt: args.promptName, attempts: 2, lastError: reason } },
  );
}

function firstLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

function clip(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 3)}...` : text;
}
