import { ProviderError, SpectronError } from "../errors.js";
import { extractionBatchPrompt } from "../models/prompts/extraction-batch.js";
import type { ExtractedFact, ExtractionInput } from "../models/prompts/extraction.js";
import { toId } from "../store/ids.js";
import type { TurnRow } from "../store/store.js";
import { commitExtraction, MAX_EXTRACTION_ATTEMPTS, type IngestResult, type IngestDeps } from "./ingest.js";

function extractionInput(turn: TurnRow): ExtractionInput {
  return {
    role: turn.role,
    content: turn.content,
    source: "turn",
    ...(turn.speaker ? { speaker: turn.speaker } : {}),
    ...(turn.occurred_at !== null ? { occurred_at: new Date(turn.occurred_at).toISOString() } : {}),
  };
}

/**
 * Extraction and reconciliation of several stored turns with one extraction call and one embedding call (mem0's
 * batch `add(messages)`). Each turn is then reconciled in order, as if ingested one after the other: its own
 * decision trace, its own result. On a model failure every turn stays `pending` (retried in the background, as a
 * single turn is) and the error is thrown.
 */
export async function extractTurns(core: IngestDeps, turns: readonly TurnRow[], signal?: AbortSignal): Promise<IngestResult[]> {
  let byTurn: ExtractedFact[][];
  let vectors: Float32Array[];
  let embeddingModel: string;
  let provenance: Record<string, unknown>;
  try {
    const model = core.models.model("extraction");
    const extraction = await model.generate(extractionBatchPrompt, { messages: turns.map(extractionInput) }, signal ? { signal } : {});
    core.models.recordUsage("extraction", extraction.usage);
    byTurn = turns.map(() => []);
    for (const { message, ...fact } of extraction.value.facts) {
      // A fact numbered past the last message is a reply that does not follow the prompt: an error, not a guess.
      const list = byTurn[message];
      if (!list) throw new ProviderError(model.id, `Extraction named message ${message} of ${turns.length}.`, undefined, true);
      list.push(fact);
    }
    const embedder = core.models.embedder();
    embeddingModel = embedder.id;
    const texts = byTurn.flat().map((f) => f.text);
    vectors = [];
    if (texts.length > 0) {
      const embedded = await embedder.embed(texts, signal ? { signal } : {});
      core.models.recordUsage("embedding", embedded.usage);
      vectors = embedded.vectors;
    }
    provenance = { prompt: `extraction-batch@${extractionBatchPrompt.version}`, batch: turns.length, usage: extraction.usage };
  } catch (error) {
    const message = error instanceof SpectronError ? error.message : "extraction failed";
    for (const turn of turns) await core.store.failTurnAttempt(turn.id, message, MAX_EXTRACTION_ATTEMPTS, core.now());
    core.logger.warn("Batch extraction failed; the turns are kept as pending", { turnIds: turns.map((t) => toId("turn", t.id)), error: message });
    throw error instanceof SpectronError
      ? error
      : new ProviderError(core.models.ids().extraction, `Extraction failed: ${String((error as Error)?.message ?? error)}`, undefined, true);
  }
  const results: IngestResult[] = [];
  let offset = 0;
  for (const [i, turn] of turns.entries()) {
    const facts = byTurn[i]!;
    results.push(await commitExtraction(core, turn, facts, vectors.slice(offset, offset + facts.length), embeddingModel, provenance));
    offset += facts.length;
  }
  await core.store.throttle();
  return results;
}
