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
  | "storage"
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

/** Every code, once: a code added to SpectronErrorCode and not here fails to compile. */
const ERROR_CODES = {
  validation: true,
  provider: true,
  access_denied: true,
  not_found: true,
  index_not_ready: true,
  closed: true,
  busy: true,
  storage: true,
  internal: true,
} satisfies Record<SpectronErrorCode, true>;

/**
 * Whether `error` is one of Spectron's typed errors, recognised by shape (an Error with a code of the family and a
 * name of the family) rather than `instanceof`: an entry point loaded as a bundle of its own (`spectron/ai-sdk`,
 * `spectron/mcp` under CommonJS) holds its own copy of these classes, and the main entry's errors are no
 * instances of that copy.
 */
export function isSpectronError(error: unknown): error is SpectronError {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    error instanceof Error &&
    typeof code === "string" &&
    Object.hasOwn(ERROR_CODES, code) &&
    /^(Spectron|Provider|AccessDenied|NotFound|IndexNotReady|Closed|Busy|Storage)\w*Error$/.test(error.name)
  );
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
  /** The engine's code for the failure (the same as `sqliteCode`: SQLite is the only engine that reports busy). */
  readonly engineCode: string;
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
    this.engineCode = sqliteCode;
  }
}

/**
 * The database failed underneath a call (disk full, I/O error, file locked by another process, not a database,
 * cannot be opened, a PostgreSQL server gone). `engineCode` is the engine's code: SQLite's extended code
 * (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, …) or `postgres:` and the server's SQLSTATE or the socket's errno
 * (`postgres:ECONNREFUSED`). `sqliteCode` is the same value under its first name (kept for code written against
 * the SQLite engine). `retryable`: whether the same call may succeed if made again. The failed call's
 * transaction was rolled back.
 */
export class StorageError extends SpectronError {
  override readonly name = "StorageError";
  readonly engineCode: string;
  constructor(
    readonly sqliteCode: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super("storage", message, options);
    this.engineCode = sqliteCode;
  }
}

const PREVIEW_CHARS = 80;

/**
 * A short, bounded rendering of a received value for an error message: never more than ~80 characters, built
 * without reading more of the value than that (a 10 MB string or a 100,000-key object costs as little as a
 * number), safe with cycles, getters that throw and proxies.
 */
export function preview(value: unknown): string {
  try {
    return previewOf(value, 0, { left: PREVIEW_CHARS });
  } catch {
    return "a value that cannot be read";
  }
}

function clip(text: string, budget: { left: number }): string {
  const out = text.length > budget.left ? `${text.slice(0, Math.max(0, budget.left - 3))}...` : text;
  budget.left -= out.length;
  return out;
}

function previewOf(value: unknown, depth: number, budget: { left: number }): string {
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "string": {
      // Slice before quoting: JSON.stringify of the whole string would cost its full length. Escapes may
      // lengthen the slice (up to 6 characters each): still bounded.
      const quoted =
        value.length + 2 <= budget.left ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, Math.max(1, budget.left - 6))).slice(0, -1)}..."`;
      budget.left -= quoted.length;
      return quoted;
    }
    case "number":
    case "boolean":
      return clip(String(value), budget);
    case "bigint":
      return clip(`${value}n`, budget);
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (value === null) return "null";
  const tag = Object.prototype.toString.call(value);
  if (Array.isArray(value)) {
    if (depth >= 2) return "[...]";
    const parts: string[] = [];
    for (let i = 0; i < value.length && budget.left > 0; i++) parts.push(previewOf(value[i], depth + 1, budget));
    const more = parts.length < value.length ? ",..." : "";
    return clip(`[${parts.join(",")}${more}]`, { left: PREVIEW_CHARS });
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : `a Date (${value.toISOString()})`;
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name ? `a ${name.slice(0, 40)}` : tag;
  }
  if (depth >= 2) return "{...}";
  const parts: string[] = [];
  let count = 0;
  for (const key in value as object) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (budget.left <= 0) {
      parts.push("...");
      break;
    }
    count++;
    const k = clip(JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key), budget);
    parts.push(`${k}:${previewOf((value as Record<string, unknown>)[key], depth + 1, budget)}`);
    if (count > PREVIEW_CHARS) break;
  }
  return clip(`{${parts.join(",")}}`, { left: PREVIEW_CHARS });
}
