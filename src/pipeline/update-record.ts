import type { Core } from "../core.js";
import { SpectronValidationError } from "../errors.js";
import { toId } from "../store/ids.js";
import type { RecordRow, TraceActor } from "../store/store.js";

/** What an edit by hand uses: the store, the embedding model, the clock. */
export type UpdateRecordDeps = Pick<Core, "store" | "models" | "now">;

/** What a hand edit changes: new text, a new value (the text follows it), or both. */
export interface RecordEdit {
  text?: string | undefined;
  value?: string | undefined;
}

/**
 * The text a record says once its value changes: the old value replaced where the text states it. A text that
 * does not state its value (the extractor's own wording) cannot follow it, so the caller is asked for `text`.
 */
function textFor(row: RecordRow, edit: RecordEdit): string {
  if (edit.text !== undefined) return edit.text;
  const value = edit.value!;
  if (row.value === null || row.attribute === null) {
    throw new SpectronValidationError("patch.value", "a record with an attribute (this one has none; pass `text` instead)", value);
  }
  const at = row.text.toLowerCase().indexOf(row.value.toLowerCase());
  if (at < 0) throw new SpectronValidationError("patch.value", `\`text\` as well: the record's text does not state its value "${row.value}"`, value);
  return row.text.slice(0, at) + value + row.text.slice(at + row.value.length);
}

/**
 * A hand edit of one record (mem0's `update(id)`), applied with the reconciler's rules for a changed record: the
 * record keeps its id, its text (and value) change, an "updated" history entry keeps the old text, a
 * decision_trace (`source.kind: "update"`) records the outcome, the record is re-embedded, and every cached
 * answer that cited it or is about a topic it touches (before or after) is evicted in the same transaction.
 * Access is the caller's business (write on the record's scope).
 */
export async function updateRecordByHand(core: UpdateRecordDeps, row: RecordRow, edit: RecordEdit, actor: TraceActor, signal?: AbortSignal): Promise<RecordRow> {
  if (row.status !== "current" && row.status !== "flagged") {
    throw new SpectronValidationError("id", `a current or flagged record (this one is ${row.status})`, toId("record", row.id));
  }
  const text = textFor(row, edit);
  const value = edit.value ?? row.value;
  const embedder = core.models.embedder();
  const embedded = await embedder.embed([text], signal ? { signal } : {});
  core.models.recordUsage("embedding", embedded.usage);
  const vector = embedded.vectors[0]!;
  // The record may have changed while the model answered: the engine checks it again inside its transaction.
  const done = await core.store.editRecord({ id: row.id, text, value, model: embedder.id, vector, actor, now: core.now() });
  if ("refused" in done) {
    throw new SpectronValidationError("id", `a current or flagged record (this one is now ${done.refused})`, toId("record", row.id));
  }
  return done.record;
}
