import type { Core } from "../core.js";
import { PRIORITY } from "../lifecycle/scheduler.js";
import { DOCUMENT_IDLE_MS, retryDocuments } from "./index-document.js";
import { ownerAlive } from "./reindex-lease.js";
import { startReindex } from "./reindex.js";

/** What resuming interrupted jobs uses: a reindex's and a document's indexing deps. */
export type ResumeDeps = Pick<Core, "store" | "models" | "settings" | "queue" | "now" | "logger">;

/**
 * Resumes the jobs a crash interrupted, on open and on the `retry` schedule: takes over a `running` reindex
 * whose owner is gone (it continues from its last committed batch), and queues the indexing of pending
 * documents no process has touched lately. Only queues work, never awaits it: it may run as a queued job.
 */
export async function resumeInterrupted(core: ResumeDeps): Promise<void> {
  const reindex = (await core.settings.refresh()).reindex;
  if (reindex.status === "running" && !ownerAlive(reindex, core.now())) {
    try {
      await startReindex(core);
    } catch (error) {
      // Another process may hold the write lock (or have just taken the reindex over): the next sweep looks again.
      core.logger.warn("Resuming an interrupted reindex failed; the retry sweep tries again", { error: String(error) });
    }
  }
  const stale = await core.store.listDocuments({ status: "pending", touchedBefore: core.now() - DOCUMENT_IDLE_MS, limit: 1 });
  if (stale.length === 0) return;
  core.queue.defer(() => retryDocuments(core), PRIORITY.retry, "Retrying pending documents");
}
