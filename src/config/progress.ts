/**
 * Progress of a long operation, reported through an `onProgress` callback: `done` of `total` units of the
 * current `phase`. `total` is known when a phase starts (it may grow during a reindex, as rows are written
 * meanwhile); `done` never exceeds it.
 *
 * @example
 * await memory.knowledge.add({ title: "Handbook", text, onProgress: ({ phase, done, total }) => console.error(phase, done, total) });
 */
export interface Progress {
  /** `embed`: chunks embedded; `extract`: chunks whose facts are extracted; `store`: written; `reindex`: rows re-embedded; `ingest`: turns ingested (CLI batches). */
  phase: "embed" | "extract" | "store" | "reindex" | "ingest";
  done: number;
  total: number;
}

export type OnProgress = (progress: Progress) => void;

/**
 * Calls the caller's callback. A callback that throws is the caller's defect, but it must not fail (or half-fail)
 * the operation it watches: the error goes to the logger and the operation goes on.
 */
export function reportProgress(
  onProgress: OnProgress | undefined,
  progress: Progress,
  logger: { warn(message: string, data?: Record<string, unknown>): void },
): void {
  if (!onProgress) return;
  try {
    onProgress(progress);
  } catch (error) {
    logger.warn("An onProgress callback threw; the operation continues", { error: String(error) });
  }
}
