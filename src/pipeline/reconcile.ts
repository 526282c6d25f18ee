import { INITIAL_IMPORTANCE } from "../config/defaults.js";
import type { RetentionRule } from "../config/schemas.js";
import { expiresAt } from "../lifecycle/retention.js";
import { noteAsserted, noteCorrected, sourceTrust, type Correction } from "../store/sources.js";
import { oppositeAttribute, valueRelation } from "../models/attributes.js";
import type { ExtractedFact } from "../models/prompts/extraction.js";
import { cacheByTopics, deleteEntries, evictByRecords } from "../store/cache.js";
import type { Db } from "../store/database.js";
import { addEdge, entityNamesOf, linkEntities, normalizeEntity, type NodeType } from "../store/graph.js";
import { toId } from "../store/ids.js";
import {
  appendHistory,
  getRecord,
  insertRecord,
  liveByAttribute,
  liveByNormText,
  normalizeText,
  updateRecord,
  type RecordRow,
  type SourceKind,
} from "../store/records.js";
import { parseScopeKey, scopeContains, type Scope } from "../store/scope.js";
import { insertTrace, updateTracePayload, type TraceActor } from "../store/traces.js";
import { deleteVector, putVector } from "../store/vectors.js";

export type Outcome = "created" | "updated" | "superseded" | "flagged";

/** Below this confidence a statement is a hedge: it cannot overturn a confident fact, only dispute it. */
export const HEDGE_CONFIDENCE = 0.6;

export interface ReconcileInput {
  context: string;
  scope: Scope;
  scopeKey: string;
  /** Extracted facts, or observations (reflect, consolidation) derived from other records. */
  facts: readonly (ExtractedFact | (Omit<ExtractedFact, "kind"> & { kind: "observation" }))[];
  /** Records the new ones were derived from (kept as `derived_from`, with `derived_from` edges). */
  derivedFrom?: readonly number[];
  /** One vector per fact (same order), made by `embeddingModel`. */
  vectors: readonly Float32Array[];
  embeddingModel: string;
  /** `key`: who asserted the facts, for trust calibration (calibration.ts); null for none. */
  source: { kind: SourceKind; id: string | null; key: string | null; node?: { type: NodeType; id: number } };
  actor: TraceActor;
  retention: readonly RetentionRule[];
  now: number;
  /** What produced the facts (model, usage, prompt version), kept on the decision trace. */
  provenance?: Record<string, unknown>;
  metadata?: Record<string, unknown> | undefined;
  parentTrace?: number;
}

export interface ReconcileResult {
  traceId: number;
  outcomes: { record: RecordRow; outcome: Outcome }[];
  evictedCacheIds: number[];
  /** Vector changes to hand to the ANN index after commit. */
  vectorChanges: { seq: number; label: number; op: "add" | "remove"; vector?: Float32Array }[];
}

/** Cache topics a record is about: its subject's attribute and the entities it names. */
export function recordTopics(record: Pick<RecordRow, "subject" | "attribute">, entities: readonly string[]): string[] {
  const topics = entities.map((e) => `ent:${normalizeEntity(e)}`);
  if (record.subject && record.attribute) topics.push(`attr:${record.subject}/${record.attribute}`);
  return topics;
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
    updateRecord(db, row.id, {
      status,
      superseded_by: status === "superseded" ? by : row.superseded_by,
      updated_at: now,
      history: appendHistory(row, { at: now, event: status, detail: toId("record", by), trace: traceId }),
    });
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
    const normValue = fact.value === null ? null : normalizeText(fact.value);
    const competitors = fact.attribute ? liveByAttribute(db, context, scopeKey, fact.subject, fact.attribute) : [];
    competitors.forEach((c) => considered.add(c.id));

    const duplicate =
      (normValue !== null ? competitors.find((c) => c.value !== null && normalizeText(c.value) === normValue) : undefined) ??
      liveByNormText(db, context, scopeKey, normalizeText(fact.text));
    if (duplicate) {
      considered.add(duplicate.id);
      // A confident restatement of something only hedged before settles it.
      const settles = duplicate.kind === "uncertainty" && fact.kind !== "uncertainty" && fact.confidence >= HEDGE_CONFIDENCE;
      updateRecord(db, duplicate.id, {
        proof_count: duplicate.proof_count + 1,
        confidence: Math.max(duplicate.confidence, fact.confidence),
        importance: Math.max(duplicate.importance, INITIAL_IMPORTANCE[duplicate.memory_category]),
        updated_at: now,
        history: appendHistory(duplicate, { at: now, event: settles ? "updated" : "reinforced", trace: traceId }),
        ...(settles ? { kind: fact.kind, text: fact.text, norm_text: normalizeText(fact.text), status: "current" as const } : {}),
      });
      if (settles) changed.add(duplicate.id);
      addEdge(db, context, { type: "trace", id: traceId }, "updated", { type: "record", id: duplicate.id }, now);
      outcomes.push({ record: getRecord(db, context, duplicate.id)!, outcome: "updated" });
      return;
    }

    const hedged = fact.kind === "uncertainty" || fact.confidence < HEDGE_CONFIDENCE;
    // Rivals: another value of a single-valued attribute, or the value this one negates ("not peanuts" against
    // "peanuts", dislikes X against likes X; see models/attributes.ts).
    const opposite = oppositeAttribute(fact.attribute);
    const opponents = opposite ? liveByAttribute(db, context, scopeKey, fact.subject, opposite) : [];
    opponents.forEach((c) => considered.add(c.id));
    const rivals = [...competitors, ...opponents].filter((c) => {
      const relation = valueRelation(fact, c);
      return relation === "opposes" || (relation === "replaces" && fact.cardinality === "one");
    });
    // A claim from a source corrected again and again (low trust) cannot overturn a confident, trusted fact
    // either: like a hedge, it disputes it.
    const weak = hedged || fact.confidence * trust < HEDGE_CONFIDENCE;
    const undecidable = weak && rivals.some((r) => r.kind !== "uncertainty" && r.confidence * r.trust >= HEDGE_CONFIDENCE);

    const category = fact.memory_category;
    const id = insertRecord(db, {
      context,
      scope_key: scopeKey,
      kind: hedged || undecidable ? "uncertainty" : fact.kind,
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
    const entities = [...fact.entities, ...(fact.subject !== "user" && fact.subject !== "assistant" ? [fact.subject] : [])];
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

  for (const id of considered) {
    if (!changed.has(id)) addEdge(db, context, { type: "trace", id: traceId }, "considered", { type: "record", id }, now);
  }
  if (input.parentTrace) addEdge(db, context, { type: "trace", id: traceId }, "parent_trace", { type: "trace", id: input.parentTrace }, now);

  const payload = {
    source: { kind: input.source.kind, id: input.source.id, key: sourceKey, trust },
    scope: input.scope,
    principal: input.actor.principal,
    on_behalf_of: input.actor.onBehalfOf,
    session: input.actor.session,
    extraction: input.facts,
    ...(input.provenance ? { provenance: input.provenance } : {}),
    outcomes: outcomes.map(({ record, outcome }) => ({
      record_id: toId("record", record.id),
      outcome,
      text: record.text,
      confidence: record.confidence,
      trust: record.trust,
      ...(record.superseded_by ? { superseded_by: toId("record", record.superseded_by) } : {}),
    })),
    evicted_cache_entries: evicted.size,
    ...(corrections.length ? { calibration: corrections } : {}),
  };
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
    if (!record || record.status !== "current" || !neighbour || !(neighbour.status === "current" || neighbour.status === "flagged")) continue;
    const status = d.relation === "conflict" ? "flagged" : "superseded";
    updateRecord(db, neighbour.id, {
      status,
      superseded_by: status === "superseded" ? record.id : neighbour.superseded_by,
      updated_at: now,
      history: appendHistory(neighbour, { at: now, event: status, detail: `${d.relation}: ${d.reason}`.slice(0, 300), trace: traceId }),
    });
    if (d.relation === "contradicts") {
      const correction = noteCorrected(db, context, neighbour.source_key, record.source_key, now);
      if (correction) corrections.push(correction);
    }
    if (status === "superseded" && neighbour.embedding_model) {
      const seq = deleteVector(db, context, "records", neighbour.embedding_model, neighbour.id);
      if (seq !== undefined) vectorChanges.push({ seq, label: neighbour.id, op: "remove" });
    }
    if (d.relation === "duplicate") {
      updateRecord(db, record.id, {
        proof_count: record.proof_count + neighbour.proof_count,
        updated_at: now,
        history: appendHistory(record, { at: now, event: "reinforced", detail: `merged ${toId("record", neighbour.id)}`, trace: traceId }),
      });
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
  updateTracePayload(db, traceId, {
      source: { kind: "reflection", id: toId("record", input.recordId) },
      scope: input.scope,
      principal: input.actor.principal,
      on_behalf_of: input.actor.onBehalfOf,
      session: input.actor.session,
      decisions: input.decisions.map((d) => ({ neighbour: toId("record", d.neighbour), relation: d.relation, reason: d.reason })),
      provenance: input.provenance,
      outcomes: outcomes.map(({ record: r, outcome }) => ({ record_id: toId("record", r.id), outcome, text: r.text })),
      evicted_cache_entries: evicted.length,
      ...(corrections.length ? { calibration: corrections } : {}),
  }, input.recordId);
  return { traceId, vectorChanges, outcomes };
}
