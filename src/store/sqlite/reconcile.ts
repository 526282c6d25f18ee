import { INITIAL_IMPORTANCE } from "../../config/defaults.js";
import { expiresAt } from "../../lifecycle/retention.js";
import { noteAsserted, noteCorrected, sourceTrust, type Correction } from "../sources.js";
import { oppositeAttribute } from "../../models/attributes.js";
import { cacheByTopics, deleteEntries, evictByRecords } from "../cache.js";
import type { Db } from "../database.js";
import { addEdge, entityNamesOf, linkEntities } from "../graph.js";
import { toId } from "../ids.js";
import {
  appendHistory,
  getRecord,
  insertRecord,
  liveByAttribute,
  liveByNormText,
  normalizeText,
  updateRecord,
  type RecordRow,
} from "../records.js";
import { parseScopeKey, scopeContains, type Scope } from "../scope.js";
import { insertTrace, updateTracePayload, type TraceActor } from "../traces.js";
import { deleteVector, putVector } from "../vectors.js";
import {
  decisionEdges,
  decisionPayload,
  entitiesOf,
  neighbourPayload,
  neighbourStep,
  recordTopics,
  restatement,
  retirement,
  standing,
  valueDuplicate,
} from "../reconcile-rules.js";

// The rules (what to write) are store/reconcile-rules.ts, shared with the PostgreSQL engine; this is SQLite's
// reads and writes around them.
export { HEDGE_CONFIDENCE, recordTopics } from "../reconcile-rules.js";

import type { FactsWrite, Outcome } from "../store.js";

/** A facts write (store.ts) bound to its Context: the engine knows the Context, the caller does not. */
export type ReconcileInput = FactsWrite & { context: string };

export interface ReconcileResult {
  traceId: number;
  outcomes: { record: RecordRow; outcome: Outcome }[];
  evictedCacheIds: number[];
  /** Vector changes to hand to the ANN index after commit. */
  vectorChanges: { seq: number; label: number; op: "add" | "remove"; vector?: Float32Array }[];
}

/**
 * The one write path for memory (turns, documents, reflection, elaboration, consolidation). Synchronous: call
 * it inside a transaction. Exact duplicates reinforce; a new value of a single-valued attribute supersedes;
 * a hedge against a confident fact flags it with an uncertainty record. Every call writes a decision_trace and
 * evicts cached answers that cited a changed record or are about a topic a new record touches. A negated value
 * ("not peanuts") retires the record it negates the same way, whatever the attribute's cardinality.
 */
export function reconcile(db: Db, input: ReconcileInput): ReconcileResult {
  const { context, scopeKey, now } = input;
  const traceId = insertTrace(db, context, "decision_trace", input.actor, scopeKey, {}, now);
  const outcomes: ReconcileResult["outcomes"] = [];
  const changed = new Set<number>();
  const topics = new Set<string>();
  const vectorChanges: ReconcileResult["vectorChanges"] = [];
  const considered = new Set<number>();
  const sourceKey = input.source.key;
  const trust = sourceTrust(db, context, sourceKey);
  const corrections: Correction[] = [];

  const retire = (row: RecordRow, status: "superseded" | "flagged", by: number) => {
    updateRecord(db, row.id, retirement(row, status, by, now, traceId));
    if (status === "superseded") {
      const correction = noteCorrected(db, context, row.source_key, sourceKey, now);
      if (correction) corrections.push(correction);
      const seq = row.embedding_model ? deleteVector(db, context, "records", row.embedding_model, row.id) : undefined;
      if (seq !== undefined) vectorChanges.push({ seq, label: row.id, op: "remove" });
    }
    changed.add(row.id);
    addEdge(db, context, { type: "trace", id: traceId }, status, { type: "record", id: row.id }, now);
    outcomes.push({ record: getRecord(db, context, row.id)!, outcome: status });
  };

  input.facts.forEach((fact, i) => {
    const vector = input.vectors[i];
    const competitors = fact.attribute ? liveByAttribute(db, context, scopeKey, fact.subject, fact.attribute) : [];
    competitors.forEach((c) => considered.add(c.id));

    const duplicate = valueDuplicate(fact, competitors) ?? liveByNormText(db, context, scopeKey, normalizeText(fact.text));
    if (duplicate) {
      considered.add(duplicate.id);
      const { fields, settles } = restatement(duplicate, fact, now, traceId);
      updateRecord(db, duplicate.id, fields);
      if (settles) changed.add(duplicate.id);
      addEdge(db, context, { type: "trace", id: traceId }, "updated", { type: "record", id: duplicate.id }, now);
      outcomes.push({ record: getRecord(db, context, duplicate.id)!, outcome: "updated" });
      return;
    }

    // Rivals: another value of a single-valued attribute, or the value this one negates ("not peanuts" against
    // "peanuts", dislikes X against likes X; see models/attributes.ts).
    const opposite = oppositeAttribute(fact.attribute);
    const opponents = opposite ? liveByAttribute(db, context, scopeKey, fact.subject, opposite) : [];
    opponents.forEach((c) => considered.add(c.id));
    const { rivals, undecidable, kind } = standing(fact, trust, competitors, opponents);

    const category = fact.memory_category;
    const id = insertRecord(db, {
      context,
      scope_key: scopeKey,
      kind,
      memory_category: category,
      subject: fact.subject,
      attribute: fact.attribute,
      value: fact.value,
      cardinality: fact.cardinality,
      text: fact.text,
      confidence: fact.confidence,
      trust,
      importance: INITIAL_IMPORTANCE[category],
      status: "current",
      source_kind: input.source.kind,
      source_id: input.source.id,
      source_key: sourceKey,
      derived_from: JSON.stringify((input.derivedFrom ?? []).map((d) => toId("record", d))),
      history: JSON.stringify([{ at: now, event: "created", trace: traceId }]),
      metadata: input.metadata ? JSON.stringify(input.metadata) : null,
      embedding_model: vector ? input.embeddingModel : null,
      created_at: now,
      expires_at: expiresAt(input.retention, input.scope, category, now),
    });
    if (vector) vectorChanges.push({ seq: putVector(db, context, "records", input.embeddingModel, id, vector), label: id, op: "add", vector });
    const entities = entitiesOf(fact);
    linkEntities(db, context, id, entities, now);
    recordTopics(fact, entities).forEach((t) => topics.add(t));
    addEdge(db, context, { type: "trace", id: traceId }, "created", { type: "record", id }, now);
    if (input.source.node) addEdge(db, context, input.source.node, "wrote", { type: "record", id }, now);
    for (const from of input.derivedFrom ?? []) addEdge(db, context, { type: "record", id }, "derived_from", { type: "record", id: from }, now);

    if (undecidable) {
      for (const rival of rivals) {
        retire(rival, "flagged", id);
        addEdge(db, context, { type: "record", id }, "relation:contradicts", { type: "record", id: rival.id }, now);
      }
    } else {
      for (const rival of rivals) {
        retire(rival, "superseded", id);
        const row = getRecord(db, context, id)!;
        updateRecord(db, id, { history: appendHistory(row, { at: now, event: "supersedes", detail: toId("record", rival.id), trace: traceId }) });
      }
    }
    outcomes.push({ record: getRecord(db, context, id)!, outcome: "created" });
  });

  noteAsserted(db, context, sourceKey, outcomes.filter((o) => o.outcome === "created").length, now);

  for (const id of changed) {
    const row = getRecord(db, context, id);
    if (row) recordTopics(row, entityNamesOf(db, id)).forEach((t) => topics.add(t));
  }
  const evicted = new Set(evictByRecords(db, [...changed]));
  const byTopic = cacheByTopics(db, context, [...topics]).filter((c) => !evicted.has(c.id) && scopeContains(parseScopeKey(c.scope_key), input.scope));
  deleteEntries(db, byTopic.map((c) => c.id));
  byTopic.forEach((c) => evicted.add(c.id));

  for (const e of decisionEdges(considered, changed, input.parentTrace)) addEdge(db, context, { type: "trace", id: traceId }, e.kind, e.dst, now);

  const payload = decisionPayload({
    source: input.source,
    trust,
    scope: input.scope,
    actor: input.actor,
    facts: input.facts,
    provenance: input.provenance,
    outcomes,
    evicted: evicted.size,
    corrections,
  });
  updateTracePayload(db, traceId, payload);
  return { traceId, outcomes, evictedCacheIds: [...evicted], vectorChanges };
}

export interface ReflectionDecision {
  neighbour: number;
  relation: "duplicate" | "contradicts" | "conflict";
  reason: string;
}

/**
 * Applies the background pass's decisions about one new record: a duplicate neighbour is merged into it
 * (its proofs carried over), a contradicted one superseded, a conflicting one flagged. Same trace, lineage and
 * eviction rules as `reconcile`. Stale decisions (the record or neighbour changed meanwhile) are skipped.
 */
export function applyReflection(
  db: Db,
  input: {
    context: string;
    recordId: number;
    decisions: readonly ReflectionDecision[];
    actor: TraceActor;
    scope: Scope;
    now: number;
    parentTrace: number;
    provenance: Record<string, unknown>;
  },
): Pick<ReconcileResult, "traceId" | "vectorChanges" | "outcomes"> {
  const { context, now } = input;
  const traceId = insertTrace(db, context, "decision_trace", input.actor, null, {}, now);
  const outcomes: ReconcileResult["outcomes"] = [];
  const vectorChanges: ReconcileResult["vectorChanges"] = [];
  const changed: number[] = [];
  const corrections: Correction[] = [];
  let record = getRecord(db, context, input.recordId);
  for (const d of input.decisions) {
    const neighbour = getRecord(db, context, d.neighbour);
    const step = neighbourStep(record, neighbour, d, now, traceId);
    if (!step || !record || !neighbour) continue;
    const { status } = step;
    updateRecord(db, neighbour.id, step.neighbourFields);
    if (step.calibrate) {
      const correction = noteCorrected(db, context, neighbour.source_key, record.source_key, now);
      if (correction) corrections.push(correction);
    }
    if (status === "superseded" && neighbour.embedding_model) {
      const seq = deleteVector(db, context, "records", neighbour.embedding_model, neighbour.id);
      if (seq !== undefined) vectorChanges.push({ seq, label: neighbour.id, op: "remove" });
    }
    if (step.recordFields) {
      updateRecord(db, record.id, step.recordFields);
      record = getRecord(db, context, record.id)!;
      outcomes.push({ record, outcome: "updated" });
      addEdge(db, context, { type: "trace", id: traceId }, "updated", { type: "record", id: record.id }, now);
    }
    changed.push(neighbour.id);
    addEdge(db, context, { type: "trace", id: traceId }, status, { type: "record", id: neighbour.id }, now);
    outcomes.push({ record: getRecord(db, context, neighbour.id)!, outcome: status });
  }
  const evicted = evictByRecords(db, changed);
  addEdge(db, context, { type: "trace", id: traceId }, "parent_trace", { type: "trace", id: input.parentTrace }, now);
  updateTracePayload(
    db,
    traceId,
    neighbourPayload({ ...input, outcomes, evicted: evicted.length, corrections }),
    input.recordId,
  );
  return { traceId, vectorChanges, outcomes };
}
