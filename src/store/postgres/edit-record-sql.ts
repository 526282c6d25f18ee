import { toId } from "../ids.js";
import { recordTopics } from "../reconcile-rules.js";
import { appendHistory, normalizeText } from "../records.js";
import { parseScopeKey } from "../scope.js";
import type { RecordEditWrite, RecordRow, RecordStatus } from "../store.js";
import { query } from "./connection.js";
import { addEdge, evictByRecords, evictByTopics, insertTrace, removeRecordVector, updateRecord, type Tx } from "./reconcile-sql.js";
import { entityNames, getRecord, RECORD_COLUMNS } from "./records-sql.js";
import { putVector, type VectorSet } from "./vector-sets.js";
import { one } from "./connection.js";

/**
 * A hand edit of one record (`state.update`; the rules of store.ts `editRecord`): refused unless the record is
 * live; else new text, value and vector, a decision trace keeping the previous words, and the cached answers that
 * cited it or are about a topic it touches evicted. The row is locked: a concurrent supersession waits or wins.
 */
export async function editRecord(tx: Tx, set: VectorSet, edit: RecordEditWrite): Promise<{ record: RecordRow } | { refused: RecordStatus | "gone" }> {
  const { text, value, now, actor } = edit;
  const fresh = await one<RecordRow>(tx.client, `SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1 AND context = $2 FOR UPDATE`, [edit.id, tx.context]);
  if (!fresh) return { refused: "gone" };
  if (fresh.status !== "current" && fresh.status !== "flagged") return { refused: fresh.status };
  const entities = (await entityNames(tx.client, [fresh.id])).get(fresh.id) ?? [];
  const topics = new Set(recordTopics(fresh, entities));
  const traceId = await insertTrace(tx, "decision_trace", actor, fresh.scope_key, {}, now);
  await updateRecord(tx, fresh.id, {
    text,
    norm_text: normalizeText(text),
    value,
    updated_at: now,
    embedding_model: edit.model,
    history: appendHistory(fresh, { at: now, event: "updated", detail: `was: ${fresh.text}`.slice(0, 300), trace: traceId }),
  });
  await addEdge(tx, { type: "trace", id: traceId }, "updated", { type: "record", id: fresh.id }, now);
  const evicted = new Set(await evictByRecords(tx, [fresh.id]));
  const scope = parseScopeKey(fresh.scope_key);
  for (const id of await evictByTopics(tx, [...topics], scope, evicted)) evicted.add(id);
  await removeRecordVector(tx, fresh);
  await putVector(tx.client, set, tx.context, fresh.id, edit.vector);
  tx.entries.push({ kind: "vectors", space: "records", model: set.model, label: fresh.id, op: "add" });
  tx.entries.push({ kind: "records", ids: [fresh.id] });
  const updated = (await getRecord(tx.client, tx.context, fresh.id))!;
  await query(tx.client, "UPDATE traces SET payload = $1 WHERE id = $2", [
    JSON.stringify({
      source: { kind: "update", id: toId("record", fresh.id), key: null },
      scope,
      principal: actor.principal,
      on_behalf_of: actor.onBehalfOf,
      session: actor.session,
      extraction: null,
      outcomes: [
        { record_id: toId("record", fresh.id), outcome: "updated", text, confidence: updated.confidence, trust: updated.trust, previous: { text: fresh.text, value: fresh.value } },
      ],
      evicted_cache_entries: evicted.size,
    }),
    traceId,
  ]);
  return { record: updated };
}
