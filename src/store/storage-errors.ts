import { BusyError, SpectronError, StorageError } from "../errors.js";

/** What each family of SQLite failure means for the caller, and what to do about it. */
const MEANING: [prefix: string, text: string, retryable: boolean][] = [
  ["SQLITE_FULL", "the disk (or the database's size limit) is full. Free space and retry", false],
  ["SQLITE_IOERR", "an I/O error reading or writing the database file. Check the disk and the file's permissions", false],
  ["SQLITE_READONLY", "the database file is read-only. Check its permissions and the directory's", false],
  ["SQLITE_CANTOPEN", "the database file cannot be opened. Check that its directory exists and is writable", false],
  ["SQLITE_CORRUPT", "the database file is corrupt. Restore it from a backup", false],
  ["SQLITE_NOTADB", "the file is not a SQLite database. Check `path`", false],
  ["SQLITE_PERM", "the operating system denied access to the database file. Check its permissions", false],
  ["SQLITE_NOMEM", "SQLite ran out of memory", false],
  ["SQLITE_TOOBIG", "a value is larger than SQLite stores", false],
];

/** True for an error thrown by better-sqlite3 (a SqliteError carries SQLite's extended result code). */
function sqliteCodeOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return error.name === "SqliteError" && typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/**
 * The store boundary's translation of whatever escaped a call into a SpectronError: SQLite failures become a
 * StorageError (code `storage`) naming the cause and the fix, a lock a BusyError (code `busy`, retryable); a SpectronError passes unchanged; anything else
 * (a defect) becomes code `internal` with the original as `cause`. `signal` aborts pass through as the abort
 * reason, like every API that takes an AbortSignal.
 */
export function toSpectronError(error: unknown, method: string, signal?: AbortSignal): unknown {
  if (error instanceof SpectronError) return error;
  if (signal?.aborted && error === signal.reason) return error;
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError") && signal?.aborted) return error;
  const code = sqliteCodeOf(error);
  // A lock that did not clear within the busy timeout: one error for it wherever it surfaces (store/database.ts).
  if (code && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) return new BusyError(code, { cause: error });
  if (code) {
    const meaning = MEANING.find(([prefix]) => code.startsWith(prefix));
    const text = meaning ? meaning[1] : "SQLite reported an error";
    return new StorageError(code, `\`${method}\` failed: ${text} (${code}).`, meaning?.[2] ?? false, { cause: error });
  }
  if (error instanceof TypeError && /Cannot open database because the directory does not exist/.test(error.message)) {
    return new StorageError("SQLITE_CANTOPEN", `\`${method}\` failed: the database's directory does not exist. Create it, or pass another \`path\`.`, false, { cause: error });
  }
  return new SpectronError("internal", `\`${method}\` failed unexpectedly (${error instanceof Error ? error.name : typeof error}). This is a defect in Spectron; please report it with the cause.`, { cause: error });
}
