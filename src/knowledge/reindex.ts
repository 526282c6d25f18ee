import type { Core } from "../core.js";
import { PRIORITY } from "../lifecycle/scheduler.js";
import { IndexNotReadyError } from "../errors.js";
import type { ReindexState, Store, VectorSpace } from "../store/store.js";
import { reportProgress, type OnProgress } from "../config/progress.js";
import { holdOwner, newOwner, ownerAlive, releaseOwner, REINDEX_LEASE_MS } from "./reindex-lease.js";

/** What a reindex uses: the stored settings (read fresh), the embedding models, the scheduler it runs on. */
export type ReindexDeps = Pick<Core, "store" | "models" | "settings" | "queue" | "now" | "logger">;

/** What reading the reindex state takes. */
export type ReindexStatusDeps = Pick<Core, "settings">;

/** What checking a query vector's model takes. */
export type IndexModelDeps = Pick<Core, "models">;

const BATCH = 128;

/** The vector spaces a reindex re-embeds, in order. */
const SPACES: readonly VectorSpace[] = ["records", "chunks", "queries"];

/** The reindex state as stored (another process may be running it). */
export async function reindexStatus(core: ReindexStatusDeps): Promise<ReindexState> {
  return { ...(await core.settings.refresh()).reindex };
}

/** One lease owner token per instance. */
const owners = new WeakMap<Store, string>();
function ownerOf(core: Pick<Core, "store">): string {
  let owner = owners.get(core.store);
  if (!owner) owners.set(core.store, (owner = newOwner()));
  return owner;
}

/** Thrown when another instance has taken the reindex over: the batch in flight was not written. */
class LeaseLost extends Error {}

/**
 * Starts re-embedding with the configured embedding model as a background job on the scheduler, or continues
 * one whose owner is gone (a crash: see `ownerAlive`) from its last committed batch. A reindex another live
 * instance runs (this one, another in this process, or another process) is left to it. Rows written meanwhile
 * are picked up before the switch; the switch to the new model (the index model retrieval reads) happens in one
 * transaction at the end.
 */
export async function startReindex(core: ReindexDeps, onProgress?: OnProgress): Promise<void> {
  const owner = ownerOf(core);
  await core.settings.refresh();
  const target = core.models.ids().embedding;
  const from = core.models.indexModel();
  const now = core.now();
  let claimed: { target: string; from: string; done: number } | undefined;
  await core.store.claimReindex((state, counts) => {
    claimed = undefined;
    if (state.status === "running" && ownerAlive(state, now)) return undefined;
    if (target === from) return { status: "complete", done: 0, total: 0, model: target, from };
    const { done, missing } = counts(target);
    claimed = { target, from, done };
    return { status: "running", done, total: done + missing, model: target, from, owner, heartbeat: now };
  });
  const job = claimed as { target: string; from: string; done: number } | undefined;
  if (!job) return;
  if (job.done > 0) core.logger.info("Resuming an interrupted reindex", { model: job.target, done: job.done });
  holdOwner(owner);
  // Queued, never awaited: a queued job must not wait on another (Scheduler).
  core.queue.defer(
    async () => {
      try {
        await run(core, owner, job.target, job.from, onProgress);
      } catch (error) {
        if (error instanceof LeaseLost) {
          core.logger.warn("Reindex taken over by another instance (this one missed its lease); stopping here", { model: job.target });
          return;
        }
        await core.store.failReindex(owner, error instanceof Error ? error.message : String(error));
        core.logger.warn("Reindex failed; retrieval keeps the old vectors", { error: String(error) });
      } finally {
        releaseOwner(owner);
      }
    },
    PRIORITY.index,
    "Reindex",
  );
}

async function run(core: ReindexDeps, owner: string, target: string, from: string, onProgress?: OnProgress): Promise<void> {
  const embedder = core.models.embedder(target);
  const { store } = core;
  // A batch may take longer than the lease (a slow provider, retries): the heartbeat does not wait for it.
  const heartbeat = setInterval(() => {
    store.renewReindexLease(owner, core.now()).catch((error: unknown) => core.logger.warn("Renewing the reindex lease failed", { error: String(error) }));
  }, REINDEX_LEASE_MS / 4);
  heartbeat.unref();
  try {
    for (;;) {
      let batchCount = 0;
      for (const space of SPACES) {
        const rows = await store.rowsToReindex(space, target, BATCH);
        if (rows.length === 0) continue;
        batchCount += rows.length;
        const { vectors, usage } = await embedder.embed(rows.map((r) => r.text));
        core.models.recordUsage("embedding", usage);
        // Each batch commits its vectors and its progress together, under the lease: a crash loses at most the
        // batch in flight, and rows re-embedded twice (a lease taken over) are overwritten, never duplicated. The
        // store tells the vector index of them after the commit.
        const written = await store.writeReindexBatch({ owner, space, model: target, rows: rows.map((row, n) => ({ id: row.id, vector: vectors[n]! })), now: core.now() });
        if (!written) throw new LeaseLost();
        const state = (await core.settings.refresh()).reindex;
        reportProgress(onProgress, { phase: "reindex", done: state.done, total: Math.max(state.done, state.total) }, core.logger);
      }
      if (batchCount === 0) break;
      // Yield between batches so that synchronous work (recall, ingest) keeps its latency.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!(await store.finishReindex(owner, target, from))) throw new LeaseLost();
  } finally {
    clearInterval(heartbeat);
  }
}

/** A query vector must come from the model whose vectors retrieval reads, never another. */
export function assertIndexReady(core: IndexModelDeps, model: string): void {
  if (model !== core.models.indexModel()) throw new IndexNotReadyError(model);
}
