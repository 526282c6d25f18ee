import { SpectronError, type SpectronErrorCode } from "../../errors.js";

/**
 * The exit codes scripts can rely on. Stable: a code never changes meaning.
 *
 * 0 ok · 1 usage or validation error (nothing was written) · 2 not found · 3 storage error or database busy ·
 * 4 access denied · 5 model provider error · 6 index not ready · 70 internal error
 */
export const EXIT = Object.freeze({
  ok: 0,
  usage: 1,
  notFound: 2,
  storage: 3,
  accessDenied: 4,
  provider: 5,
  indexNotReady: 6,
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

export function exitCodeOf(error: unknown): number {
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
  70  internal error (a defect: please report it with --debug output)`;
