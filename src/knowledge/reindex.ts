import { sql } from "../store/database.js";
import type { Core } from "../core.js";
import { PRIORITY } from "../core.js";
import { IndexNotReadyError } from "../errors.js";
import { readContext, updateContext, type ReindexState } from "../store/contexts.js";
import { putVector, type VectorSpace } from "../store/vectors.js";
import { reportProgress, type OnProgress } from "../config/progress.js";
import { holdOwner, newOwner, ownerAlive, releaseOwner, REINDEX_LEASE_MS } from "./reindex-lease.js";

const BATCH = 128;

/** Rows of each space whose vectors a reindex must remake, and where their text is. */
const SPACES: Record<VectorSpace, { table: string; text: string; live: string }> = {
  records: { table: "records", text: "text", live: "status IN ('current', 'flagged')" },
  chunks: { table: "chunks", text: "text", live: "1" },
  queries: { table: "queries", text: "query", live: "1" },
};

/** The reindex state as stored (another process may be running it). */
export function reindexStatus(core: Core): ReindexState {
  core.invalidateSettings();
  return { ...core.settings().reindex };
}

/** The reindex state on disk (another process may have written it since this instance cached its settings). */
function stored(core: Core): ReindexState {
  return readContext(core.db, core.context)!.reindex;
}

function save(core: Core, state: ReindexState): void {
  updateContext(core.db, core.context, { reindex: state });
}

/** One lease owner token per instance. */
const owners = new WeakMap<Core, string>();
function ownerOf(core: Core): string {
  let owner = owners.get(core);
  if (!owner) owners.set(core, (owner = newOwner()));
  return owner;
}

/** Thrown inside a batch's transaction when another instance has taken the reindex over: the batch rolls back. */
class LeaseLost extends Error {}

function assertOwner(core: Core, owner: string): ReindexState {
  const state = stored(core);
  if (state.status !== "running" || state.owner !== owner) throw new LeaseLost();
  return state;
}

/**
 * Starts re-embedding with the configured embedding model as a background job on the scheduler, or continues
 * one whose owner is gone (a crash: see `ownerAlive`) from its last committed batch. A reindex another live
 * instance runs (this one, another in this process, or another process) is left to it. Rows written meanwhile
 * are picked up before the switch; the switch to the new model (the index model retrieval reads) happens in one
 * transaction at the end.
 */
export function startReindex(core: Core, onProgress?: OnProgress): void {
  const owner = ownerOf(core);
  const claimed = core.transaction(() => {
    core.invalidateSettings();
    const state = stored(core);
    if (state.status === "running" && ownerAlive(state, core.now())) return undefined;
    const target = core.models().embedding;
    const from = core.indexModel();
    if (target === from) {
      save(core, { status: "complete", done: 0, total: 0, model: target, from });
      return undefined;
    }
    const done = countDone(core, target);
    save(core, { status: "running", done, total: done + countMissing(core, target), model: target, from, owner, heartbeat: core.now() });
    return { target, from, done };
  });
  core.invalidateSettings();
  if (!claimed) return;
  if (claimed.done > 0) core.logger.info("Resuming an interrupted reindex", { model: claimed.target, done: claimed.done });
  holdOwner(owner);
  // Queued, never awaited: a queued job must not wait on another (Scheduler).
  core.queue.defer(
    async () => {
      try {
        await run(core, owner, claimed.target, claimed.from, claimed.done, onProgress);
      } catch (error) {
        if (error instanceof LeaseLost) {
          core.logger.warn("Reindex taken over by another instance (this one missed its lease); stopping here", { model: claimed.target });
          return;
        }
        core.transaction(() => {
          const state = stored(core);
          if (state.owner === owner) save(core, { ...state, status: "failed", error: error instanceof Error ? error.message : String(error), owner: undefined, heartbeat: undefined });
        });
        core.invalidateSettings();
        core.logger.warn("Reindex failed; retrieval keeps the old vectors", { error: String(error) });
      } finally {
        releaseOwner(owner);
      }
    },
    PRIORITY.index,
    "Reindex",
  );
}

/** Rows of `space` not yet re-embedded (bind: context, model). Progress lives in `reindex_done`, so a restart resumes. */
function missingSql(space: VectorSpace): string {
  const { table, live } = SPACES[space];
  return `FROM ${table} t WHERE t.context = ? AND ${live} AND t.id NOT IN (SELECT label FROM reindex_done WHERE space = '${space}' AND model = ?)`;
}

function countMissing(core: Core, model: string): number {
  let n = 0;
  for (const space of Object.keys(SPACES) as VectorSpace[]) {
    n += (sql(core.db, `SELECT COUNT(*) AS n ${missingSql(space)}`).get(core.context, model) as { n: number }).n;
  }
  return n;
}

/** Rows of this Context already re-embedded with `model` (by a run that was interrupted). */
function countDone(core: Core, model: string): number {
  let n = 0;
  for (const space of Object.keys(SPACES) as VectorSpace[]) {
    const { table, live } = SPACES[space];
    n += (
      sql(core.db, `SELECT COUNT(*) AS n FROM ${table} t WHERE t.context = ? AND ${live} AND t.id IN (SELECT label FROM reindex_done WHERE space = '${space}' AND model = ?)`).get(
        core.context,
        model,
      ) as { n: number }
    ).n;
  }
  return n;
}

async function run(core: Core, owner: string, target: string, from: string, resumedAt: number, onProgress?: OnProgress): Promise<void> {
  const embedder = core.embedder(target);
  const { db, context } = core;
  // A batch may take longer than the lease (a slow provider, retries): the heartbeat does not wait for it.
  const heartbeat = setInterval(() => {
    try {
      core.transaction(() => {
        const state = stored(core);
        if (state.status === "running" && state.owner === owner) save(core, { ...state, heartbeat: core.now() });
      });
      core.invalidateSettings();
    } catch (error) {
      core.logger.warn("Renewing the reindex lease failed", { error: String(error) });
    }
  }, REINDEX_LEASE_MS / 4);
  heartbeat.unref();
  try {
    let done = resumedAt;
    for (;;) {
      let batchCount = 0;
      for (const space of Object.keys(SPACES) as VectorSpace[]) {
        const { text } = SPACES[space];
        const rows = sql(db, `SELECT t.id, t.${text} AS text ${missingSql(space)} ORDER BY t.id LIMIT ?`).all(context, target, BATCH) as {
          id: number;
          text: string;
        }[];
        if (rows.length === 0) continue;
        batchCount += rows.length;
        const { vectors, usage } = await embedder.embed(rows.map((r) => r.text));
        core.recordUsage("embedding", usage);
        // Each batch commits its vectors and its progress together, under the lease: a crash loses at most the
        // batch in flight, and rows re-embedded twice (a lease taken over) are overwritten, never duplicated.
        const changes = core.transaction(() => {
          const state = assertOwner(core, owner);
          const out = rows.map((row, n) => {
            const seq = putVector(db, context, space, target, row.id, vectors[n]!);
            sql(db, "INSERT OR IGNORE INTO reindex_done (space, model, label) VALUES (?, ?, ?)").run(space, target, row.id);
            return { seq, label: row.id, op: "add" as const, vector: vectors[n]! };
          });
          done += rows.length;
          save(core, { ...state, done, total: Math.max(done, state.total), heartbeat: core.now() });
          return { out, total: Math.max(done, state.total) };
        });
        reportProgress(onProgress, { phase: "reindex", done, total: changes.total }, core.logger);
        core.invalidateSettings();
        // An index of the target model may be open already (a reindex back to an earlier model): it learns of the
        // vectors now, like any other write's. One not open yet reads them from the change log when it opens.
        const index = core.existingIndex(space, target);
        if (index) for (const change of changes.out) index.notify(change);
      }
      if (batchCount === 0) break;
      // Yield between batches so that synchronous work (recall, ingest) keeps its latency.
      await new Promise((resolve) => setImmediate(resolve));
    }
    core.transaction(() => {
      assertOwner(core, owner);
      sql(db, `UPDATE records SET embedding_model = ? WHERE context = ? AND embedding_model IS NOT NULL AND status IN ('current', 'flagged')`).run(target, context);
      sql(db, `UPDATE chunks SET embedding_model = ? WHERE context = ? AND embedding_model IS NOT NULL`).run(target, context);
      sql(db, `UPDATE queries SET embedding_model = ? WHERE context = ?`).run(target, context);
      // This Context's progress only: another Context of the file may be reindexing to the same model.
      for (const space of Object.keys(SPACES) as VectorSpace[]) {
        sql(db, `DELETE FROM reindex_done WHERE space = ? AND model = ? AND label IN (SELECT id FROM ${SPACES[space].table} WHERE context = ?)`).run(space, target, context);
      }
      updateContext(db, context, { index_model: target, reindex: { status: "complete", done, total: done, model: target, from } });
    });
    core.invalidateSettings();
  } finally {
    clearInterval(heartbeat);
  }
}

/** A query vector must come from the model whose vectors retrieval reads, never another. */
export function assertIndexReady(core: Core, model: string): void {
  if (model !== core.indexModel()) throw new IndexNotReadyError(model);
}
