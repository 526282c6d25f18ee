/**
 * The typed error family. Every error has a stable `code` and `name`; messages name the field, what was
 * expected, what was received and the fix. No message ever contains a provider key.
 */
export type SpectronErrorCode =
  | "validation"
  | "provider"
  | "access_denied"
  | "not_found"
  | "index_not_ready"
  | "closed"
  | "busy"
  | "internal";

export class SpectronError extends Error {
  override readonly name: string = "SpectronError";
  constructor(
    readonly code: SpectronErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad input at the public boundary. Nothing was written. */
export class SpectronValidationError extends SpectronError {
  override readonly name = "SpectronValidationError";
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly received: unknown,
    fix?: string,
  ) {
    super(
      "validation",
      `Invalid \`${field}\`: expected ${expected}, received ${preview(received)}.${fix ? ` ${fix}` : ""}`,
    );
  }
}

/** A model provider failed (HTTP status, timeout, network, unparseable reply, missing key). */
export class ProviderError extends SpectronError {
  override readonly name = "ProviderError";
  constructor(
    readonly provider: string,
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super("provider", message, options);
  }
}

/** The acting principal lacks a permission on a scope. Nothing was read or written. */
export class AccessDeniedError extends SpectronError {
  override readonly name = "AccessDeniedError";
  constructor(
    readonly principal: string,
    readonly permission: string,
    readonly scope: Record<string, string>,
  ) {
    super(
      "access_denied",
      `Principal \`${principal}\` lacks \`${permission}\` on scope ${JSON.stringify(scope)}. ` +
        `Grant it { scope, permissions: ["${permission}"] } covering that scope, or act as a principal that has it.`,
    );
  }
}

export class NotFoundError extends SpectronError {
  override readonly name = "NotFoundError";
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {
    super("not_found", `No ${kind} \`${id}\` in this Context (or it is outside the caller's scope).`);
  }
}

/** A query would be embedded with a model whose vectors are not (yet) indexed. */
export class IndexNotReadyError extends SpectronError {
  override readonly name = "IndexNotReadyError";
  constructor(
    readonly model: string,
    message?: string,
  ) {
    super(
      "index_not_ready",
      message ??
        `The index holds no vectors from embedding model \`${model}\`. Run \`memory.knowledge.reindex()\` and wait for \`reindexStatus().status === "complete"\`.`,
    );
  }
}

/** The instance was closed; create a new Spectron to continue. */
export class ClosedError extends SpectronError {
  override readonly name = "ClosedError";
  constructor(method: string) {
    super("closed", `Cannot call \`${method}\`: this Spectron instance is closed. Create a new \`Spectron\` to continue.`);
  }
}

/**
 * The database file stayed locked by another connection (another process, or another instance in this one) for
 * longer than the busy timeout, or SQLite refused to wait (`sqliteCode`: `SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`,
 * `SQLITE_LOCKED`, …). The call's transaction was rolled back: nothing it would have written was written.
 * Always `retryable`: the same call can be made again.
 */
export class BusyError extends SpectronError {
  override readonly name = "BusyError";
  readonly retryable = true;
  constructor(
    readonly sqliteCode: string,
    options?: { cause?: unknown },
  ) {
    super(
      "busy",
      `The database is locked by another connection (${sqliteCode}); nothing was written. Retry the call. If it keeps ` +
        "happening, another process holds a long write transaction on the same file.",
      options,
    );
  }
}

export function preview(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "function") return "a function";
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
