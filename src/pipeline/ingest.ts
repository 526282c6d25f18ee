import type { Core } from "../core.js";
import { PRIORITY } from "../lifecycle/scheduler.js";
import { ProviderError, SpectronError } from "../errors.js";
import { extractionPrompt, type ExtractedFact } from "../models/prompts/extraction.js";
import { toId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { Outcome, TurnRow } from "../store/store.js";
import { toPublicRecord, type MemoryRecord } from "../state/public-record.js";
import { turnSourceKey } from "./calibration.js";
import { scheduleReflection } from "./reflection-pass.js";

/** What extraction and reconciliation of a turn use (the background pass it schedules included). */
export type IngestDeps = Pick<Core, "store" | "queue" | "models" | "settings" | "now" | "logger">;

export interface IngestResult {
  turnId: string;
  /** Every record this turn touched, with what happened to it. */
  records: (MemoryRecord & { outcome: Outcome })[];
  traceId: string;
}

/**
 * Failed extraction attempts after which a turn is `failed`: the background retry leaves it alone (each
 * attempt may be a paid call that keeps failing), `turns.retry()` still tries it.
 */
export const MAX_EXTRACTION_ATTEMPTS = 5;

/**
 * Extraction and reconciliation of one stored turn: one model call (extraction) plus one embedding call.
 * On a model failure the turn stays `pending` (or becomes `failed`, see MAX_EXTRACTION_ATTEMPTS) with the
 * error, and the error is rethrown; nothing is lost.
 */
export async function extractTurn(core: IngestDeps, turn: TurnRow, signal?: AbortSignal): Promise<IngestResult> {
  let facts;
  let vectors: Float32Array[];
  let embeddingModel: string;
  let provenance: Record<string, unknown>;
  try {
    const model = core.models.model("extraction");
    const extraction = await model.generate(
      extractionPrompt,
      {
        role: turn.role,
        content: turn.content,
        source: "turn",
        ...(turn.speaker ? { speaker: turn.speaker } : {}),
        ...(turn.occurred_at !== null ? { occurred_at: new Date(turn.occurred_at).toISOString() } : {}),
      },
      signal ? { signal } : {},
    );
    core.models.recordUsage("extraction", extraction.usage);
    facts = extraction.value.facts;
    const embedder = core.models.embedder();
    embeddingModel = embedder.id;
    vectors = [];
    if (facts.length > 0) {
      const embedded = await embedder.embed(facts.map((f) => f.text), signal ? { signal } : {});
      core.models.recordUsage("embedding", embedded.usage);
      vectors = embedded.vectors;
    }
    provenance = { prompt: `${extractionPrompt.name}@${extractionPrompt.version}`, usage: extraction.usage };
  } catch (error) {
    const message = error instanceof SpectronError ? error.message : "extraction failed";
    const status = await core.store.failTurnAttempt(turn.id, message, MAX_EXTRACTION_ATTEMPTS, core.now());
    if (status === "failed") {
      core.logger.error(
        `Extraction failed ${MAX_EXTRACTION_ATTEMPTS} times or more; the turn is marked failed and no longer retried in the background (turns.retry() tries it again)`,
        { turnId: toId("turn", turn.id), error: message },
      );
    } else {
      core.logger.warn("Extraction failed; the turn is kept as pending", { turnId: toId("turn", turn.id), error: message });
    }
    throw error instanceof SpectronError
      ? error
      : new ProviderError(core.models.ids().extraction, `Extraction failed: ${String((error as Error)?.message ?? error)}`, undefined, true);
  }

  const result = await commitExtraction(core, turn, facts, vectors, embeddingModel, provenance);
  await core.store.throttle();
  return result;
}

/**
 * Reconciles one turn's extracted facts (its vectors made by `embeddingModel`) and marks it extracted, in one
 * transaction of the store; schedules the background pass. Shared by single and batch ingest (ingest-batch.ts).
 */
export async function commitExtraction(
  core: IngestDeps,
  turn: TurnRow,
  facts: readonly ExtractedFact[],
  vectors: readonly Float32Array[],
  embeddingModel: string,
  provenance: Record<string, unknown>,
): Promise<IngestResult> {
  const result = await core.store.extractTurn(turn.id, {
    scope: parseScopeKey(turn.scope_key),
    scopeKey: turn.scope_key,
    facts,
    vectors,
    embeddingModel,
    source: { kind: "turn", id: toId("turn", turn.id), key: turnSourceKey(turn), node: { type: "turn", id: turn.id } },
    actor: { principal: turn.principal, onBehalfOf: turn.on_behalf_of, session: turn.session },
    retention: core.settings.current().retention,
    now: core.now(),
    provenance,
    metadata: turn.metadata ? (JSON.parse(turn.metadata) as Record<string, unknown>) : undefined,
  });
  if (!result) return extractedElsewhere(core, turn);
  scheduleReflection(
    core,
    result.outcomes.filter((o) => o.outcome === "created").map((o) => o.record.id),
    { principal: turn.principal, onBehalfOf: turn.on_behalf_of, session: turn.session },
    result.traceId,
  );
  return {
    turnId: toId("turn", turn.id),
    records: result.outcomes.map(({ record, outcome }) => ({ ...toPublicRecord(record), outcome })),
    traceId: toId("trace", result.traceId),
  };
}

/**
 * The turn was extracted by someone else while this extraction's model calls ran (the background retry, or
 * another process on the same file): the caller gets that extraction's outcome, as if it had been its own.
 */
async function extractedElsewhere(core: IngestDeps, turn: TurnRow): Promise<IngestResult> {
  const turnId = toId("turn", turn.id);
  const done = await core.store.extractionOfTurn(turn.id);
  if (!done) throw new SpectronError("internal", `Turn ${turnId} is marked extracted but no decision trace records its extraction.`);
  const records = done.outcomes.map(({ record, outcome }) => ({ ...toPublicRecord(record), outcome }));
  return { turnId, records, traceId: toId("trace", done.traceId) };
}

/** The background retry leaves a turn alone this long after it was stored: its own ingest is extracting it. */
const RETRY_GRACE_MS = 60_000;

/**
 * Retries pending turns, oldest first (at most `limit`), and with `includeFailed` (`turns.retry()`) the failed
 * ones too; the background retry passes none. `failed` in the result counts the attempts that failed this time.
 */
export async function retryPending(core: IngestDeps, limit = 100, includeFailed = false): Promise<{ extracted: number; failed: number }> {
  // The background retry (includeFailed false) leaves the turns just stored to the ingest extracting them.
  const settled = core.now() - RETRY_GRACE_MS;
  const pending = [
    ...(await core.store.listTurns({ status: "pending", limit })).filter((t) => includeFailed || t.created_at <= settled),
    ...(includeFailed ? await core.store.listTurns({ status: "failed", limit }) : []),
  ].slice(0, limit);
  let extracted = 0;
  let failed = 0;
  for (const turn of pending) {
    if (core.queue.stopped) break;
    try {
      await core.queue.add(() => extractTurn(core, turn, core.queue.signal), { priority: PRIORITY.retry });
      extracted += 1;
    } catch {
      failed += 1;
    }
  }
  return { extracted, failed };
}
