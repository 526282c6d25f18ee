import { sql } from "../store/database.js";
import type { Core } from "../core.js";
import { PRIORITY } from "../core.js";
import { IndexNotReadyError } from "../errors.js";
import { updateContext, type ReindexState } from "../store/contexts.js";
import { putVector, type VectorSpace } from "../store/vectors.js";

const BATCH = 128;

/** Rows of each space whose vectors a reindex must remake, and where their text is. */
const SPACES: Record<VectorSpace, { table: string; text: string; live: string }> = {
  records: { table: "records", text: "text", live: "status IN ('current', 'flagged')" },
  chunks: { table: "chunks", text: "text", live: "1" },
  queries: { table: "queries", text: "query", live: "1" },
};

export function reindexStatus(core: Core): ReindexState {
  return { ...core.settings().reindex };
}

function save(core: Core, state: ReindexState): void {
  updateContext(core.db, core.context, { reindex: state });
  core.invalidateSettings();
}

/**
 * Starts (or continues) re-embedding with the configured embedding model as a background job on the
 * scheduler. Rows written meanwhile are picked up before the switch; the switch to the new model (the index
 * model retrieval reads) happens in one transaction at the end.
 */
export function startReindex(core: Core): void {
  const target = core.models().embedding;
  const from = core.indexModel();
  if (core.settings().reindex.status === "running") return;
  if (target === from) {
    save(core, { status: "complete", done: 0, total: 0, model: target, from });
    return;
  }
  const total = countMissing(core, target);
  save(core, { status: "running", done: 0, total, model: target, from });
  void core.queue
    .add(() => run(core, target, from), { priority: PRIORITY.index })
    .catch((error: unknown) => {
      save(core, { ...reindexStatus(core), status: "failed", error: error instanceof Error ? error.message : String(error) });
      core.logger.warn("Reindex failed; retrieval keeps the old vectors", { error: String(error) });
    });
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

async function run(core: Core, target: string, from: string): Promise<void> {
  const embedder = core.embedder(target);
  const { db, context } = core;
  let done = 0;
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
      core.transaction(() => {
        rows.forEach((row, n) => {
          putVector(db, context, space, target, row.id, vectors[n]!);
          sql(db, "INSERT OR IGNORE INTO reindex_done (space, model, label) VALUES (?, ?, ?)").run(space, target, row.id);
        });
      });
      done += rows.length;
      save(core, { status: "running", done, total: Math.max(done, reindexStatus(core).total), model: target, from });
    }
    if (batchCount === 0) break;
    // Yield between batches so that synchronous work (recall, ingest) keeps its latency.
    await new Promise((resolve) => setImmediate(resolve));
  }
  core.transaction(() => {
    sql(db, `UPDATE records SET embedding_model = ? WHERE context = ? AND embedding_model IS NOT NULL AND status IN ('current', 'flagged')`).run(target, context);
    sql(db, `UPDATE chunks SET embedding_model = ? WHERE context = ? AND embedding_model IS NOT NULL`).run(target, context);
    sql(db, `UPDATE queries SET embedding_model = ? WHERE context = ?`).run(target, context);
    sql(db, "DELETE FROM reindex_done WHERE model = ?").run(target);
    updateContext(db, context, { index_model: target, reindex: { status: "complete", done, total: done, model: target, from } });
  });
  core.invalidateSettings();
}

/** A query vector must come from the model whose vectors retrieval reads, never another. */
export function assertIndexReady(core: Core, model: string): void {
  if (model !== core.indexModel()) throw new IndexNotReadyError(model);
}
