import { SpectronError, SpectronValidationError, type SpectronErrorCode } from "../../errors.js";

/** Codes of problems the HTTP layer raises itself, beside the SDK's SpectronErrorCode. */
export type HttpProblemCode = "unauthorized" | "payload_too_large" | "unsupported_media_type" | "not_implemented";

/**
 * An RFC 9457 problem document. `code` is the SpectronError code (or one of HttpProblemCode); `field`,
 * `retryable` are copied from the error when it has them.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: SpectronErrorCode | HttpProblemCode;
  field?: string;
  retryable?: boolean;
}

/** The HTTP status of each SpectronError code: one table, used by every route. */
export const STATUS_OF_CODE: Record<SpectronErrorCode | HttpProblemCode, number> = {
  validation: 400,
  unauthorized: 401,
  access_denied: 403,
  not_found: 404,
  index_not_ready: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  storage: 500,
  not_implemented: 501,
  provider: 502,
  busy: 503,
  closed: 503,
};

const TITLE: Record<SpectronErrorCode | HttpProblemCode, string> = {
  validation: "Invalid request",
  unauthorized: "Unauthorized",
  access_denied: "Access denied",
  not_found: "Not found",
  index_not_ready: "Index not ready",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  internal: "Internal error",
  storage: "Storage error",
  not_implemented: "Not implemented",
  provider: "Model provider failed",
  busy: "Busy",
  closed: "Closed",
};

/** A problem raised by the HTTP layer itself (no token, a body too large, a route not built). */
export class HttpProblem extends Error {
  override readonly name = "HttpProblem";
  constructor(
    readonly code: HttpProblemCode | SpectronErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function problem(code: SpectronErrorCode | HttpProblemCode, detail: string, extra: Partial<Problem> = {}): Problem {
  return { type: `urn:spectron:problem:${code}`, title: TITLE[code], status: STATUS_OF_CODE[code], detail, code, ...extra };
}

/**
 * The problem document for anything a route threw. A SpectronError keeps its message (written for callers:
 * never a key or a prompt); anything else is an internal error whose message is not shown.
 */
export function toProblem(error: unknown): Problem {
  if (error instanceof HttpProblem) return problem(error.code, error.message);
  if (error instanceof SpectronError) {
    const extra: Partial<Problem> = {};
    if (error instanceof SpectronValidationError) extra.field = error.field;
    const retryable = (error as { retryable?: unknown }).retryable;
    if (typeof retryable === "boolean") extra.retryable = retryable;
    return problem(error.code, error.message, extra);
  }
  return problem("internal", "The server failed to handle the request. It is logged; retrying may not help.");
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  const extra: Record<string, string> = p.code === "busy" || p.code === "closed" ? { "retry-after": "1" } : {};
  if (p.code === "unauthorized") extra["www-authenticate"] = 'Bearer realm="spectron"';
  return new Response(JSON.stringify(p), { status: p.status, headers: { "content-type": PROBLEM_CONTENT_TYPE, ...extra, ...headers } });
}
