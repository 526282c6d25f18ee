import { pairCoConsidered } from "../elaboration.js";
import { toId, tryParseId } from "../ids.js";
import { appendHistory, type RecordRow } from "../records.js";
import type { Cluster, DocumentTurnBridge, EntityPair, FactsWrite, FactsWritten, TraceActor } from "../store.js";
import { one, query, type Queryable } from "./connection.js";
import { addEdge, insertTrace, reconcile, updateRecord, type Tx } from "./reconcile-sql.js";
import { getRecord, RECORD_COLUMNS } from "./records-sql.js";

// The evolution sweeps' reads and writes (lifecycle/consolidate.ts, lifecycle/elaborate.ts) on PostgreSQL: the
// rules of store/consolidation.ts and store/elaboration.ts.

export async function startSweep(tx: Tx, input: { actor: TraceActor; payload: Record<string, unknown>; now: number }): Promise<number> {
  return insertTrace(tx, "sweep_trace", input.actor, null, input.payload, input.now);
}

/**
 * Reads the last consolidation's watermark, writes this sweep's trace with the new one, and reinforces the records
 * the answers since used, in one transaction. An advisory lock keeps two processes from reading the same answers.
 */
export async function beginConsolidation(
  tx: Tx,
  input: { actor: TraceActor; now: number; answers: number; factor: number; noAnswer: string },
): Promise<{ sweepId: number; reinforced: number; answers: number; through: number }> {
  await query(tx.client, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`consolidate\u001f${tx.context}`]);
  const previous = await one<{ payload: string }>(
    tx.client,
    `SELECT payload FROM traces WHERE context = $1 AND kind = 'sweep_trace' AND (payload::jsonb)->>'sweep' = 'consolidate' ORDER BY id DESC LIMIT 1`,
    [tx.context],
  );
  const mark = previous ? (JSON.parse(previous.payload) as Record<string, unknown>).through_response_trace : undefined;
  const used = await recordsUsedInAnswers(tx.client, tx.context, typeof mark === "number" ? mark : 0, input.answers, input.noAnswer);
  const sweepId = await insertTrace(tx, "sweep_trace", input.actor, null, { sweep: "consolidate", complete: false, through_response_trace: used.through }, input.now);
  let reinforced = 0;
  for (const [id, n] of used.uses) {
    const row = await one<RecordRow>(
      tx.client,
      `SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1 AND context = $2 AND status IN ('current', 'flagged') FOR UPDATE`,
      [id, tx.context],
    );
    if (!row) continue;
    await updateRecord(tx, id, {
      importance: Math.min(1, row.importance * input.factor ** n),
      last_accessed_at: input.now,
      history: appendHistory(row, { at: input.now, event: "reinforced", detail: `used in ${n} answer${n === 1 ? "" : "s"}`, trace: sweepId }),
    });
    reinforced++;
  }
  return { sweepId, reinforced, answers: used.answers, through: used.through };
}

/** Records each response trace after `afterTrace` used (store/consolidation.ts `recordsUsedInAnswers` has the rule). */
async function recordsUsedInAnswers(db: Queryable, context: string, afterTrace: number, limit: number, noAnswer: string): Promise<{ uses: Map<number, number>; answers: number; through: number }> {
  const traces = await query<{ id: number; payload: string }>(
    db,
    "SELECT id, payload FROM traces WHERE context = $1 AND kind = 'response_trace' AND id > $2 ORDER BY id LIMIT $3",
    [context, afterTrace, limit],
  );
  const usedBy = async (id: number, payload: Record<string, unknown>): Promise<number[]> => {
    if (typeof payload.answer === "string" && payload.answer === noAnswer) return [];
    if (Array.isArray(payload.used)) return payload.used.flatMap((u) => (typeof u === "string" ? (tryParseId("record", u) ?? []) : []));
    const rows = await query<{ dst_id: string }>(
      db,
      `SELECT e2.dst_id FROM edges e1 JOIN edges e2 ON e2.src_type = 'trace' AND e2.src_id = e1.dst_id::bigint AND e2.kind = 'returned' AND e2.dst_type = 'record'
         WHERE e1.src_type = 'trace' AND e1.src_id = $1 AND e1.kind = 'used_retrieval' ORDER BY e2.id`,
      [id],
    );
    return rows.map((r) => Number(r.dst_id));
  };
  const uses = new Map<number, number>();
  let answers = 0;
  for (const t of traces) {
    let id = t.id;
    let payload = JSON.parse(t.payload) as Record<string, unknown>;
    const original = await one<{ dst_id: string }>(db, "SELECT dst_id FROM edges WHERE src_type = 'trace' AND src_id = $1 AND kind = 'reused_from' ORDER BY id LIMIT 1", [id]);
    if (original) {
      const row = await one<{ payload: string }>(db, "SELECT payload FROM traces WHERE id = $1 AND context = $2", [Number(original.dst_id), context]);
      if (!row) continue;
      id = Number(original.dst_id);
      payload = { ...(JSON.parse(row.payload) as Record<string, unknown>), answer: payload.answer ?? payload.response };
    }
    const used = await usedBy(id, payload);
    if (used.length > 0) answers++;
    for (const r of new Set(used)) uses.set(r, (uses.get(r) ?? 0) + 1);
  }
  return { uses, answers, through: traces.length > 0 ? traces[traces.length - 1]!.id : afterTrace };
}

export async function consolidationClusters(db: Queryable, context: string, q: { now: number; minSize: number; limit: number }): Promise<Cluster[]> {
  const rows = await query<{ scope_key: string; subject: string; attribute: string; ids: number[] }>(
    db,
    `SELECT scope_key, subject, attribute, array_agg(id ORDER BY id) AS ids FROM records
       WHERE context = $1 AND status = 'current' AND kind NOT IN ('observation', 'uncertainty') AND subject IS NOT NULL AND attribute IS NOT NULL
         AND (expires_at IS NULL OR expires_at > $2)
       GROUP BY scope_key, subject, attribute HAVING count(*) >= $3 ORDER BY max(id) DESC LIMIT $4`,
    [context, q.now, q.minSize, q.limit],
  );
  return rows.map((r) => ({ scopeKey: r.scope_key, subject: r.subject, attribute: r.attribute, ids: r.ids.map(Number) }));
}

export async function liveRecordsOfSlot(db: Queryable, context: string, slot: { scopeKey: string; subject: string; attribute: string }): Promise<RecordRow[]> {
  return query<RecordRow>(
    db,
    `SELECT ${RECORD_COLUMNS} FROM records WHERE context = $1 AND scope_key = $2 AND subject = $3 AND attribute = $4 AND status IN ('current', 'flagged') ORDER BY id`,
    [context, slot.scopeKey, slot.subject, slot.attribute],
  );
}

/** An observation reconciled; the record it created or updated gets `proofCount` and a "consolidated" entry. */
export async function writeObservation(tx: Tx, input: { facts: FactsWrite; members: readonly number[]; proofCount: number }): Promise<{ written: FactsWritten; recordId: number | undefined }> {
  const written = await reconcile(tx, input.facts);
  const outcome = written.outcomes.find((o) => o.outcome === "created" || o.outcome === "updated");
  if (!outcome) return { written, recordId: undefined };
  const row = (await getRecord(tx.client, tx.context, outcome.record.id))!;
  const now = input.facts.now;
  await updateRecord(tx, row.id, {
    proof_count: input.proofCount,
    history: appendHistory(row, { at: now, event: "consolidated", detail: input.members.map((m) => toId("record", m)).join(","), trace: written.traceId }),
  });
  return { written, recordId: row.id };
}

/** Entities examined together in the last `traces` decision traces, paired within each scope. */
export async function coConsideredPairs(db: Queryable, context: string, q: { traces: number; minCount: number }): Promise<EntityPair[]> {
  const rows = await query<{ trace: number; record: number; scope_key: string; entity: number }>(
    db,
    `WITH recent AS (SELECT id FROM traces WHERE context = $1 AND kind = 'decision_trace' ORDER BY id DESC LIMIT $2)
     SELECT recent.id AS trace, r.id AS record, r.scope_key, re.entity_id AS entity FROM recent
       JOIN edges e ON e.src_type = 'trace' AND e.src_id = recent.id AND e.kind IN ('considered', 'created', 'updated', 'superseded', 'flagged') AND e.dst_type = 'record'
       JOIN records r ON r.id = e.dst_id::bigint AND r.status IN ('current', 'flagged')
       JOIN record_entities re ON re.record_id = r.id
     ORDER BY recent.id, e.id, re.entity_id`,
    [context, q.traces],
  );
  return pairCoConsidered(rows, q.minCount);
}

/** Live turn records and live document records mentioning the same entity, most recent turn record first. */
export async function documentTurnBridges(db: Queryable, context: string, limit: number): Promise<DocumentTurnBridge[]> {
  const rows = await query<{ turn_record: number; doc_record: number; via: number; scope_key: string; subject: string | null; turn_entities: number[]; doc_entities: number[] }>(
    db,
    `SELECT t.id AS turn_record, d.id AS doc_record, rt.entity_id AS via, t.scope_key, t.subject,
            ARRAY(SELECT x.entity_id FROM record_entities x WHERE x.record_id = t.id AND x.entity_id <> rt.entity_id) AS turn_entities,
            ARRAY(SELECT x.entity_id FROM record_entities x WHERE x.record_id = d.id AND x.entity_id <> rt.entity_id) AS doc_entities
       FROM records t
       JOIN record_entities rt ON rt.record_id = t.id
       JOIN record_entities rd ON rd.entity_id = rt.entity_id AND rd.record_id <> t.id
       JOIN records d ON d.id = rd.record_id AND d.context = t.context AND d.source_kind = 'document' AND d.status = 'current'
     WHERE t.context = $1 AND t.source_kind = 'turn' AND t.status = 'current'
     ORDER BY t.id DESC, d.id, rt.entity_id LIMIT $2`,
    [context, limit],
  );
  return rows.map((r) => ({
    turnRecord: r.turn_record,
    docRecord: r.doc_record,
    via: r.via,
    scopeKey: r.scope_key,
    subject: r.subject,
    turnEntities: r.turn_entities.map(Number),
    docEntities: r.doc_entities.map(Number),
  }));
}

/** A live record mentions both, or an earlier elaboration related them or found nothing to relate. */
export async function entitiesLinked(db: Queryable, a: number, b: number): Promise<boolean> {
  const byRecord = await one(
    db,
    `SELECT 1 FROM record_entities x JOIN record_entities y ON y.record_id = x.record_id AND y.entity_id = $1
       JOIN records r ON r.id = x.record_id AND r.status IN ('current', 'flagged') WHERE x.entity_id = $2 LIMIT 1`,
    [b, a],
  );
  if (byRecord) return true;
  return !!(await one(
    db,
    `SELECT 1 FROM edges WHERE src_type = 'entity' AND dst_type = 'entity' AND (kind LIKE 'relation:%' OR kind = 'elaboration:none')
       AND ((src_id = $1 AND dst_id = $2) OR (src_id = $3 AND dst_id = $4)) LIMIT 1`,
    [a, String(b), b, String(a)],
  ));
}

export async function entityNamesById(db: Queryable, context: string, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await query<{ id: number; name: string }>(db, "SELECT id, name FROM entities WHERE id = ANY($1::bigint[]) AND context = $2", [[...ids], context]);
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function ensureEntity(tx: Tx, input: { name: string; normName: string; now: number }): Promise<number> {
  await query(tx.client, "INSERT INTO entities (context, name, norm_name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", [tx.context, input.name, input.normName, input.now]);
  return (await one<{ id: number }>(tx.client, "SELECT id FROM entities WHERE context = $1 AND norm_name = $2", [tx.context, input.normName]))!.id;
}

export async function rejectEntityPair(tx: Tx, input: { a: number; b: number; now: number }): Promise<void> {
  await addEdge(tx, { type: "entity", id: input.a }, "elaboration:none", { type: "entity", id: input.b }, input.now);
}

export async function writeRelation(tx: Tx, input: { facts: FactsWrite; a: number; b: number; relation: string }): Promise<FactsWritten> {
  const written = await reconcile(tx, input.facts);
  await addEdge(tx, { type: "entity", id: input.a }, `relation:${input.relation}`, { type: "entity", id: input.b }, input.facts.now);
  return written;
}
