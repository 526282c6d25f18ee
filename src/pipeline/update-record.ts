import type { Core } from "../core.js";
import { SpectronValidationError } from "../errors.js";
import { cacheByTopics, deleteEntries, evictByRecords } from "../store/cache.js";
import { addEdge, entityNamesOf } from "../store/graph.js";
import { toId } from "../store/ids.js";
import { appendHistory, getRecord, normalizeText, updateRecord, type RecordRow } from "../store/records.js";
import { parseScopeKey, scopeContains } from "../store/scope.js";
import { insertTrace, updateTracePayload, type TraceActor } from "../store/traces.js";
import { deleteVector, putVector } from "../store/vectors.js";
import { recordTopics } from "./reconcile.js";

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
export async function updateRecordByHand(core: Core, row: RecordRow, edit: RecordEdit, actor: TraceActor, signal?: AbortSignal): Promise<RecordRow> {
  if (row.status !== "current" && row.status !== "flagged") {
    throw new SpectronValidationError("id", `a current or flagged record (this one is ${row.status})`, toId("record", row.id));
  }
  const text = textFor(row, edit);
  const value = edit.value ?? row.value;
  const embedder = core.embedder();
  const embedded = await embedder.embed([text], signal ? { signal } : {});
  core.recordUsage("embedding", embedded.usage);
  const vector = embedded.vectors[0]!;
  const { db, context } = core;
  const changes = core.transaction(() => {
    const fresh = getRecord(db, context, row.id);
    if (!fresh || (fresh.status !== "current" && fresh.status !== "flagged")) {
      throw new SpectronValidationError("id", `a current or flagged record (this one is now ${fresh?.status ?? "gone"})`, toId("record", row.id));
    }
    const now = core.now();
    const entities = entityNamesOf(db, fresh.id);
    const topics = new Set([...recordTopics(fresh, entities), ...recordTopics({ subject: fresh.subject, attribute: fresh.attribute }, entities)]);
    const traceId = insertTrace(db, context, "decision_trace", actor, fresh.scope_key, {}, now);
    updateRecord(db, fresh.id, {
      text,
      norm_text: normalizeText(text),
      value,
      updated_at: now,
      embedding_model: embedder.id,
      history: appendHistory(fresh, { at: now, event: "updated", detail: `was: ${fresh.text}`.slice(0, 300), trace: traceId }),
    });
    addEdge(db, context, { type: "trace", id: traceId }, "updated", { type: "record", id: fresh.id }, now);
    const evicted = new Set(evictByRecords(db, [fresh.id]));
    const scope = parseScopeKey(fresh.scope_key);
    const byTopic = cacheByTopics(db, context, [...topics]).filter((c) => !evicted.has(c.id) && scopeContains(parseScopeKey(c.scope_key), scope));
    deleteEntries(db, byTopic.map((c) => c.id));
    byTopic.forEach((c) => evicted.add(c.id));
    const vectorChanges: { model: string; seq: number; op: "add" | "remove"; vector?: Float32Array }[] = [];
    if (fresh.embedding_model) {
      const seq = deleteVector(db, context, "records", fresh.embedding_model, fresh.id);
      if (seq !== undefined) vectorChanges.push({ model: fresh.embedding_model, seq, op: "remove" });
    }
    vectorChanges.push({ model: embedder.id, seq: putVector(db, context, "records", embedder.id, fresh.id, vector), op: "add", vector });
    const updated = getRecord(db, context, fresh.id)!;
    updateTracePayload(db, traceId, {
        source: { kind: "update", id: toId("record", fresh.id), key: null },
        scope,
        principal: actor.principal,
        on_behalf_of: actor.onBehalfOf,
        session: actor.session,
        extraction: null,
        outcomes: [
          {
            record_id: toId("record", fresh.id),
            outcome: "updated",
            text,
            confidence: updated.confidence,
            trust: updated.trust,
            previous: { text: fresh.text, value: fresh.value },
          },
        ],
        evicted_cache_entries: evicted.size,
    });
    return vectorChanges;
  });
  for (const c of changes) core.vectorIndex("records", c.model).notify({ seq: c.seq, label: row.id, op: c.op, ...(c.vector ? { vector: c.vector } : {}) });
  return getRecord(db, context, row.id)!;
}
