// Building large stores for the scale section. `memory.ingest` runs well below 1k turns/s here (the scale
// report gives the measured rate), so 100k+ stores are bulk-loaded instead, through the same pieces ingest uses
// — the local extraction model, the local embedder and the reconciler (`reconcile`, the one write path: dedupe,
// supersession, entity links, FTS trigger, vec0 rows, the vector change log, decision traces) — but many turns
// per transaction and without the background reflection pass. Vector changes go to the ANN index exactly as
// the store's writer hands them over after commit; hnswlib insertion then runs in the index's background slices,
// which the caller times by awaiting the index's flush. The report labels these stores "bulk-loaded"; ingest
// itself is measured separately through `memory.ingest`. `bulkLoadStore` builds the same store on another engine
// (PostgreSQL) through the store interface instead of SQLite's internals.

import type { Core } from "../src/core.js";
import type { Spectron } from "../src/index.js";
import { extractionPrompt, type ExtractedFact } from "../src/models/prompts/extraction.js";
import { turnSourceKey } from "../src/pipeline/calibration.js";
import { reconcile } from "../src/store/sqlite/reconcile.js";
import { scopeKey } from "../src/store/scope.js";
import { insertTurn, markTurn } from "../src/store/turns.js";
import { countPassageFacts, setPassageExpiry } from "../src/store/passages.js";
import { expiresAt } from "../src/lifecycle/retention.js";
import { toId } from "../src/store/ids.js";
import type { CorpusTurn } from "./corpus.js";

/** The instance's internals: bench may read them (ANN recall, bulk load); the public API never exposes them. */
export function coreOf(memory: Spectron): Core {
  return (memory as unknown as { core: Core }).core;
}

export interface BulkResult {
  turns: number;
  outcomes: Record<string, number>;
  ms: number;
}

/** Writes turns `from`..`to-1` of `turnAt`. Stops early once `until()` says so (checked per batch). */
export async function bulkLoad(
  memory: Spectron,
  turnAt: (i: number) => CorpusTurn,
  range: { from: number; to: number; batch?: number },
  hooks: { now: () => number; progress?: (done: number) => void; until?: (outcomes: Record<string, number>) => boolean },
): Promise<BulkResult> {
  const core = coreOf(memory);
  const { db } = core.sqlite!;
  const { context } = core;
  const embedder = core.models.embedder();
  const batch = range.batch ?? 2000;
  const outcomes: Record<string, number> = { created: 0, updated: 0, superseded: 0, flagged: 0 };
  const started = performance.now();
  let i = range.from;
  while (i < range.to && !(hooks.until?.(outcomes) ?? false)) {
    const end = Math.min(range.to, i + batch);
    const prepared = await extractBatch(core, turnAt, i, end);
    const now = hooks.now();
    core.sqlite!.writer.transaction(() => {
      for (const p of prepared) {
        const key = scopeKey(p.turn.scope);
        const id = insertTurn(db, {
          context,
          scope_key: key,
          role: "user",
          content: p.turn.content,
          speaker: null,
          occurred_at: null,
          metadata: null,
          session: null,
          principal: null,
          on_behalf_of: null,
          created_at: now,
        });
        const r = reconcile(db, {
          context,
          scope: p.turn.scope,
          scopeKey: key,
          facts: p.facts,
          vectors: p.vectors,
          embeddingModel: embedder.id,
          source: { kind: "turn", id: `turn_${id}`, key: turnSourceKey({ principal: null, speaker: null, role: "user" }), node: { type: "turn", id } },
          actor: { principal: null, onBehalfOf: null, session: null },
          retention: core.settings.current().retention,
          now,
        });
        markTurn(db, id, "extracted", now);
        setPassageExpiry(db, id, expiresAt(core.settings.current().retention, p.turn.scope, "context", now));
        countPassageFacts(db, id);
        for (const o of r.outcomes) outcomes[o.outcome] = (outcomes[o.outcome] ?? 0) + 1;
      }
    });
    i = end;
    hooks.progress?.(i - range.from);
  }
  return { turns: i - range.from, outcomes, ms: performance.now() - started };
}

interface Prepared {
  turn: CorpusTurn;
  facts: ExtractedFact[];
  vectors: Float32Array[];
  usage: unknown;
}

/** Turns `from`..`to-1` through the local extraction model and embedder, as `memory.ingest` calls them. */
async function extractBatch(core: Core, turnAt: (i: number) => CorpusTurn, from: number, to: number): Promise<Prepared[]> {
  const model = core.models.model("extraction");
  const embedder = core.models.embedder();
  const prepared: Prepared[] = [];
  for (let j = from; j < to; j++) {
    const turn = turnAt(j);
    const { value, usage } = await model.generate(extractionPrompt, { role: "user", content: turn.content, source: "turn" });
    const vectors = value.facts.length ? (await embedder.embed(value.facts.map((f) => f.text))).vectors : [];
    prepared.push({ turn, facts: value.facts, vectors, usage });
  }
  return prepared;
}

/**
 * The same load through the store interface, for an engine other than SQLite (PostgreSQL): the two writes
 * `memory.ingest` makes — `store.storeTurns` (here a whole batch of turns in one call) and `store.extractTurn`
 * (one transaction per turn: the interface has no batched form) — with the arguments ingest passes, so that rows,
 * change log, full-text columns and vectors are what ingest writes. Without the background reflection pass.
 */
export async function bulkLoadStore(
  memory: Spectron,
  turnAt: (i: number) => CorpusTurn,
  range: { from: number; to: number; batch?: number; lanes?: number },
  hooks: { now: () => number; progress?: (done: number) => void },
): Promise<BulkResult> {
  const core = coreOf(memory);
  const { store } = core;
  const lanes = range.lanes ?? 1;
  const embedder = core.models.embedder();
  const batch = range.batch ?? 500;
  const actor = { principal: null, onBehalfOf: null, session: null };
  const outcomes: Record<string, number> = { created: 0, updated: 0, superseded: 0, flagged: 0 };
  const started = performance.now();
  for (let i = range.from; i < range.to; i += batch) {
    const end = Math.min(range.to, i + batch);
    const prepared = await extractBatch(core, turnAt, i, end);
    const now = hooks.now();
    const retention = core.settings.current().retention;
    const turns = await store.storeTurns(
      prepared.map((p) => ({
        turn: { context: core.context, scope_key: scopeKey(p.turn.scope), role: "user", content: p.turn.content, speaker: null, occurred_at: null, metadata: null, session: null, principal: null, on_behalf_of: null, created_at: now },
        passageExpiresAt: expiresAt(retention, p.turn.scope, "context", now),
      })),
    );
    // One lane per scope, in turn order within it; up to `lanes` scopes at once (concurrent ingest by many users).
    const byScope = new Map<string, number[]>();
    for (const [k, turn] of turns.entries()) {
      if (!byScope.has(turn.scope_key)) byScope.set(turn.scope_key, []);
      byScope.get(turn.scope_key)!.push(k);
    }
    const queue = [...byScope.values()];
    const extract = async (k: number) => {
      const p = prepared[k]!;
      const turn = turns[k]!;
      const written = await store.extractTurn(turn.id, {
        scope: p.turn.scope,
        scopeKey: turn.scope_key,
        facts: p.facts,
        vectors: p.vectors,
        embeddingModel: embedder.id,
        source: { kind: "turn", id: toId("turn", turn.id), key: turnSourceKey(turn), node: { type: "turn", id: turn.id } },
        actor,
        retention,
        now,
        provenance: { prompt: `${extractionPrompt.name}@${extractionPrompt.version}`, usage: p.usage },
      });
      for (const o of written?.outcomes ?? []) outcomes[o.outcome] = (outcomes[o.outcome] ?? 0) + 1;
    };
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        for (let lane = queue.shift(); lane; lane = queue.shift()) for (const k of lane) await extract(k);
      }),
    );
    hooks.progress?.(end - range.from);
  }
  return { turns: range.to - range.from, outcomes, ms: performance.now() - started };
}
