import { recordTopics } from "../reconcile-rules.js";
import { cacheByTopics, deleteEntries, evictByRecords } from "../cache.js";
import { addEdge, entityNamesOf } from "../graph.js";
import { toId } from "../ids.js";
import { appendHistory, getRecord, normalizeText, updateRecord, type RecordRow } from "../records.js";
import { parseScopeKey, scopeContains } from "../scope.js";
import { insertTrace, updateTracePayload } from "../traces.js";
import { deleteVector, putVector } from "../vectors.js";
import type { RecordEditWrite, RecordStatus } from "../store.js";
import type { WriteParts } from "./read-writes.js";

/**
 * A hand edit of one record (`state.update`), with the reconciler's rules for a changed record, in one
 * transaction; the writer tells the ANN index of the replaced vector after the commit.
 */
export function editRecord(p: WriteParts, edit: RecordEditWrite): { record: RecordRow } | { refused: RecordStatus | "gone" } {
  const { db, context } = p;
  const { text, value, now, actor } = edit;
  const refused = p.writer.transaction((): RecordStatus | "gone" | undefined => {
    const fresh = getRecord(db, context, edit.id);
    if (!fresh) return "gone";
    if (fresh.status !== "current" && fresh.status !== "flagged") return fresh.status;
    const entities = entityNamesOf(db, fresh.id);
    const topics = new Set([...recordTopics(fresh, entities), ...recordTopics({ subject: fresh.subject, attribute: fresh.attribute }, entities)]);
    const traceId = insertTrace(db, context, "decision_trace", actor, fresh.scope_key, {}, now);
    updateRecord(db, fresh.id, {
      text,
      norm_text: normalizeText(text),
      value,
      updated_at: now,
      embedding_model: edit.model,
      history: appendHistory(fresh, { at: now, event: "updated", detail: `was: ${fresh.text}`.slice(0, 300), trace: traceId }),
    });
    addEdge(db, context, { type: "trace", id: traceId }, "updated", { type: "record", id: fresh.id }, now);
    const evicted = new Set(evictByRecords(db, [fresh.id]));
    const scope = parseScopeKey(fresh.scope_key);
    const byTopic = cacheByTopics(db, context, [...topics]).filter((c) => !evicted.has(c.id) && scopeContains(parseScopeKey(c.scope_key), scope));
    deleteEntries(db, byTopic.map((c) => c.id));
    byTopic.forEach((c) => evicted.add(c.id));
    if (fresh.embedding_model) deleteVector(db, context, "records", fresh.embedding_model, fresh.id);
    putVector(db, context, "records", edit.model, fresh.id, edit.vector);
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
    return undefined;
  });
  return refused !== undefined ? { refused } : { record: getRecord(db, context, edit.id)! };
}
