import {
  APIConnectionError as AnthropicConnectionError,
  APIConnectionTimeoutError as AnthropicTimeoutError,
  APIError as AnthropicAPIError,
  APIUserAbortError as AnthropicAbortError,
} from "@anthropic-ai/sdk";
import {
  APIConnectionError as OpenAIConnectionError,
  APIConnectionTimeoutError as OpenAITimeoutError,
  APIError as OpenAIAPIError,
  APIUserAbortError as OpenAIAbortError,
} from "openai";
import { ProviderError } from "../errors.js";

export type RemoteProvider = "openai" | "anthropic";

/** Backoff tuning beyond `ProviderOptions`: read defensively by the adapters (tests shrink the waits). */
export interface RetryTuning {
  /** First backoff step in ms; attempt n waits up to `retryBaseMs * 2^n`. @default 250 */
  retryBaseMs?: number;
  /** Longest backoff step in ms. @default 8000 */
  retryCapMs?: number;
  /** Replaces the timer, e.g. to record the waits in tests. Must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

export interface RetryEvent {
  /** The retry about to happen, 1-based. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface RetryOptions extends RetryTuning {
  /** Retries after the first attempt. */
  maxRetries: number;
  signal?: AbortSignal;
  /** A `retry-after` longer than this is not waited for: the error is thrown. @default 60000 */
  maxRetryAfterMs?: number;
  onRetry?: (event: RetryEvent) => void;
}

const DEFAULT_BASE_MS = 250;
const DEFAULT_CAP_MS = 8_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Runs `fn`, retrying 408/409/429/5xx, timeouts and network failures with exponential backoff and full
 * jitter, honouring `retry-after-ms` / `retry-after` on 429 and 503. Client errors (400/401/403/404/422)
 * and aborts are thrown at once. When it gives up on a `ProviderError` after several attempts, the thrown
 * error says how many were made.
 *
 * @example
 * const reply = await withRetry(() => callProvider(), { maxRetries: 3, signal });
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxRetries = Math.max(0, Math.floor(options.maxRetries));
  const base = options.retryBaseMs ?? DEFAULT_BASE_MS;
  const cap = options.retryCapMs ?? DEFAULT_CAP_MS;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const decision = retryDecision(error);
      const tooLong = decision.retryAfterMs !== undefined && decision.retryAfterMs > maxRetryAfterMs;
      if (!decision.retryable || attempt >= maxRetries || tooLong) throw withAttempts(error, attempt + 1);
      const delayMs = decision.retryAfterMs ?? Math.floor(random() * Math.min(cap, base * 2 ** attempt));
      options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Whether an error is worth another attempt, and how long the server asked us to wait. */
export function retryDecision(error: unknown): { retryable: boolean; retryAfterMs?: number } {
  if (isAbortError(error)) return { retryable: false };
  if (error instanceof ProviderError) {
    const after = (error.cause as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    return typeof after === "number" ? { retryable: error.retryable, retryAfterMs: after } : { retryable: error.retryable };
  }
  const status = statusOf(error);
  if (status !== undefined) {
    const after = status === 429 || status === 503 ? retryAfterMs(headersOf(error)) : undefined;
    return after === undefined ? { retryable: isRetryableStatus(status) } : { retryable: isRetryableStatus(status), retryAfterMs: after };
  }
  return { retryable: isTimeoutError(error) || isNetworkError(error) };
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Milliseconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date; undefined if absent. */
export function retryAfterMs(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  const ms = Number.parseFloat(header(headers, "retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const raw = header(headers, "retry-after");
  if (raw === undefined || raw.trim() === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** What the adapters know when they turn an SDK failure into a ProviderError. */
export interface FailureContext {
  /** `openai`, `anthropic`, or the name of an OpenAI-compatible provider (`ollama`, `openrouter`, …). */
  provider: string;
  model: string;
  /** The key in use: scrubbed from every message. */
  apiKey: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

const LABEL: Record<RemoteProvider, string> = { openai: "OpenAI", anthropic: "Anthropic" };

/**
 * Maps whatever an SDK call threw to what Spectron throws: the caller's abort reason for aborts, a
 * `ProviderError` otherwise. Messages are built here from the status and a short scrubbed reason, and the
 * `cause` is a plain object, so neither can carry the key or the SDK's request state.
 */
export function toProviderFailure(error: unknown, ctx: FailureContext): unknown {
  if (ctx.signal?.aborted) return ctx.signal.reason;
  if (error instanceof ProviderError) return error;
  if (isAbortError(error)) return new DOMException("The operation was aborted.", "AbortError");
  const label = LABEL[ctx.provider as RemoteProvider] ?? `Provider \`${ctx.provider}\``;
  const keyHint = ctx.provider in LABEL ? `memory.config.providers({ ${ctx.provider}: "<key>" })` : `memory.config.providers({ ${ctx.provider}: { baseURL, apiKey } })`;
  const status = statusOf(error);
  const cause = safeCause(error, ctx.apiKey);
  if (status !== undefined) {
    const reason = bodyReason(error, ctx.apiKey);
    const detail = `HTTP ${status}${reason ? `: ${reason}` : ""}`;
    const type = String(cause.code ?? cause.type ?? "");
    const m = `\`${ctx.model}\``;
    let message: string;
    let retryable = isRetryableStatus(status);
    if (status === 401) {
      message = `${label} rejected the API key (${detail}). Check the key set with ${keyHint} or the \`providers\` option of \`new Spectron()\`.`;
    } else if (status === 403) {
      message = `${label} refused the request for model ${m} (${detail}). The key lacks access to it: check the key's permissions, or choose another model with memory.config.models(...).`;
    } else if (status === 404) {
      message = `${label} has no model ${m} at this endpoint (${detail}). Check the model id given to memory.config.models(...) and the provider's baseURL.`;
    } else if (status === 400 || status === 422) {
      message = `${label} rejected the request to ${m} as invalid (${detail}). Check that the model supports structured output and that the baseURL serves the ${label} API.`;
    } else if (status === 429 && /insufficient_quota|billing|credit/i.test(type + " " + reason)) {
      retryable = false;
      message = `${label} refused the request: the account is out of quota (${detail}). Check the account's billing, or set another key with ${keyHint}.`;
    } else if (status === 429) {
      message = `${label} rate-limited the request to ${m} (${detail}). Lower the request rate, raise the account's rate limits, or raise \`maxRetries\`.`;
    } else if (status === 408 || status === 409) {
      message = `${label} could not complete the request to ${m} (${detail}). It is usually transient: try again.`;
    } else if (status >= 500) {
      message = `${label} failed with a server error (${detail}). It is usually transient: try again later, or check ${label}'s status page.`;
    } else {
      message = `${label} answered the request to ${m} with ${detail}. Check the model id and the provider's baseURL.`;
    }
    return new ProviderError(ctx.provider, redact(message, [ctx.apiKey]), status, retryable, { cause });
  }
  if (isTimeoutError(error)) {
    return new ProviderError(
      ctx.provider,
      `${label} did not answer the request to \`${ctx.model}\` within ${ctx.timeoutMs} ms. Raise \`timeoutMs\` (per call or in the provider options), or check the provider's status and baseURL.`,
      undefined,
      true,
      { cause },
    );
  }
  if (isNetworkError(error)) {
    return new ProviderError(
      ctx.provider,
      `Could not reach ${label} (${shortReason(error, ctx.apiKey)}). Check the network and the baseURL given with ${keyHint.replace('"<key>"', '{ apiKey, baseURL }')}.`,
      undefined,
      true,
      { cause },
    );
  }
  return new ProviderError(
    ctx.provider,
    `The ${label} call to \`${ctx.model}\` failed unexpectedly (${shortReason(error, ctx.apiKey)}). Check that the provider's baseURL serves the ${label} API.`,
    undefined,
    false,
    { cause },
  );
}

/**
 * One SDK request under a hard deadline of `ctx.timeoutMs`, its failure mapped by `toProviderFailure`.
 * The SDKs' own `timeout` stops at the response headers; this one also covers a body that stalls.
 */
export async function attemptRequest<T>(ctx: FailureContext, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException(`No answer within ${ctx.timeoutMs} ms.`, "TimeoutError")), ctx.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline.signal]) : deadline.signal;
  try {
    return await send(signal);
  } catch (error) {
    if (deadline.signal.aborted && !ctx.signal?.aborted) throw toProviderFailure(deadline.signal.reason, ctx);
    throw toProviderFailure(error, ctx);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Replaces the given secrets, anything shaped like a provider key, bearer tokens and URL credentials with
 * "[redacted]".
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  return out
    .replace(/sk-[A-Za-z0-9_-]{6,}/g, "[redacted]")
    .replace(/(bearer\s+)[^\s"',;]+/gi, "$1[redacted]")
    .replace(/(\/\/)[^/\s:@]+:[^/\s@]+@/g, "$1[redacted]@");
}

export function isAbortError(error: unknown): boolean {
  if (error instanceof OpenAIAbortError || error instanceof AnthropicAbortError) return true;
  return error instanceof Error && error.name === "AbortError";
}

function isTimeoutError(error: unknown): boolean {
  if (error instanceof OpenAITimeoutError || error instanceof AnthropicTimeoutError) return true;
  return error instanceof Error && error.name === "TimeoutError";
}

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);

/** Connection failures, including a body cut off mid-read (undici's "terminated"). */
function isNetworkError(error: unknown): boolean {
  if (error instanceof OpenAIConnectionError || error instanceof AnthropicConnectionError) return true;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("UND_ERR"))) return true;
    if (/^(terminated|fetch failed|other side closed|socket hang up)$/i.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

function statusOf(error: unknown): number | undefined {
  if (!(error instanceof OpenAIAPIError || error instanceof AnthropicAPIError)) return undefined;
  return typeof error.status === "number" ? error.status : undefined;
}

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function headersOf(error: unknown): HeaderSource | undefined {
  const headers = (error as { headers?: unknown }).headers;
  return headers && typeof headers === "object" ? (headers as HeaderSource) : undefined;
}

function header(headers: HeaderSource | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The error body's own message (OpenAI: `error.message`; Anthropic: `error.error.message`), scrubbed. */
function bodyReason(error: unknown, apiKey: string): string {
  const body = (error as { error?: unknown }).error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const raw = typeof body?.message === "string" ? body.message : typeof body?.error?.message === "string" ? body.error.message : "";
  return clip(redact(raw, [apiKey]));
}

function shortReason(error: unknown, apiKey: string): string {
  if (!(error instanceof Error)) return "non-error value thrown";
  const parts = [`${nameOf(error)}: ${error.message}`];
  let code: string | undefined;
  let current: unknown = error.cause;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.message && !parts.some((p) => p.includes(current instanceof Error ? current.message : ""))) parts.push(current.message);
    const c = (current as { code?: unknown }).code;
    if (typeof c === "string") code = c;
    current = current.cause;
  }
  if (code && !parts.some((p) => p.includes(code))) parts.push(code);
  return clip(redact(parts.map((p) => p.replace(/[.\s]+$/, "")).join(": "), [apiKey]));
}

function nameOf(error: Error): string {
  return error.name !== "Error" ? error.name : (error.constructor?.name ?? "Error");
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim().replace(/\.$/, "");
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

/** A plain, serialisable cause: what happened, never the SDK's error object with its request state. */
function safeCause(error: unknown, apiKey: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const e = error as { name?: unknown; status?: unknown; type?: unknown; code?: unknown; requestID?: unknown; cause?: unknown };
  if (error instanceof Error) out.name = nameOf(error);
  if (typeof e?.status === "number") out.status = e.status;
  const type = typeof e?.type === "string" ? e.type : (e as { error?: { error?: { type?: unknown } } })?.error?.error?.type;
  if (typeof type === "string") out.type = clip(redact(type, [apiKey]));
  const code = typeof e?.code === "string" ? e.code : (e?.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") out.code = clip(redact(code, [apiKey]));
  if (typeof e?.requestID === "string") out.requestId = e.requestID;
  if (typeof e?.status === "number" && (e.status === 429 || e.status === 503)) {
    const after = retryAfterMs(headersOf(error));
    if (after !== undefined) out.retryAfterMs = after;
  }
  if (out.status === undefined) out.message = shortReason(error, apiKey);
  return out;
}

function withAttempts(error: unknown, attempts: number): unknown {
  if (!(error instanceof ProviderError) || attempts < 2) return error;
  return new ProviderError(error.provider, `${error.message} (Gave up after ${attempts} attempts.)`, error.status, error.retryable, {
    cause: error.cause,
  });
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `ProviderOptions` as the adapters read it: the documented fields plus optional backoff tuning. */
export interface AdapterOptions extends RetryTuning {
  timeoutMs?: number;
  maxRetries?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 3;

/** Reads adapter options defensively (they may come from untyped config), filling the defaults. */
export function readAdapterOptions(options: object | undefined): Required<Pick<AdapterOptions, "timeoutMs" | "maxRetries">> & RetryTuning {
  const o = (options ?? {}) as AdapterOptions;
  const positive = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;
  const tuning: Required<Pick<AdapterOptions, "timeoutMs" | "maxRetries">> & RetryTuning = {
    timeoutMs: positive(o.timeoutMs) ? o.timeoutMs : DEFAULT_TIMEOUT_MS,
    maxRetries: typeof o.maxRetries === "number" && Number.isFinite(o.maxRetries) && o.maxRetries >= 0 ? Math.floor(o.maxRetries) : DEFAULT_MAX_RETRIES,
  };
  if (typeof o.retryBaseMs === "number" && o.retryBaseMs >= 0) tuning.retryBaseMs = o.retryBaseMs;
  if (typeof o.retryCapMs === "number" && o.retryCapMs >= 0) tuning.retryCapMs = o.retryCapMs;
  if (typeof o.sleep === "function") tuning.sleep = o.sleep;
  if (typeof o.random === "function") tuning.random = o.random;
  return tuning;
}
