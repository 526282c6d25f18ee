import { SpectronError, type SpectronErrorCode } from "../../errors.js";

/**
 * The exit codes scripts can rely on. Stable: a code never changes meaning.
 *
 * 0 ok · 1 usage or validation error (nothing was written) · 2 not found · 3 storage error or database busy ·
 * 4 access denied · 5 model provider error · 6 index not ready · 7 not available in this version · 70 internal error
 */
export const EXIT = Object.freeze({
  ok: 0,
  usage: 1,
  notFound: 2,
  storage: 3,
  accessDenied: 4,
  provider: 5,
  indexNotReady: 6,
  unavailable: 7,
  internal: 70,
});

const BY_CODE: Record<SpectronErrorCode, number> = {
  validation: EXIT.usage,
  not_found: EXIT.notFound,
  storage: EXIT.storage,
  busy: EXIT.storage,
  closed: EXIT.storage,
  access_denied: EXIT.accessDenied,
  provider: EXIT.provider,
  index_not_ready: EXIT.indexNotReady,
  internal: EXIT.internal,
};

/** A command the CLI recognises but this build cannot run (a sweep whose implementation is not in this version). */
export class UnavailableError extends SpectronError {
  override readonly name = "UnavailableError";
  constructor(what: string) {
    super("validation", `\`${what}\` is not available in this version of Spectron.`);
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UnavailableError) return EXIT.unavailable;
  if (error instanceof SpectronError) return BY_CODE[error.code] ?? EXIT.internal;
  return EXIT.internal;
}

/** The exit-code table as `--help` prints it. */
export const EXIT_CODES_HELP = `Exit codes:
  0   ok
  1   usage or validation error (nothing was written)
  2   not found (no such trace, fact, or entity)
  3   storage error, or the database is busy (locked by another process: retry)
  4   access denied
  5   model provider error (HTTP status, timeout, missing key)
  6   index not ready (run a reindex and wait for it)
  7   not available in this version
  70  internal error (a defect: please report it with --debug output)`;
