import { INITIAL_IMPORTANCE } from "../config/defaults.js";
import { valueRelation } from "../models/attributes.js";
import { normalizeEntity, type NodeType } from "./graph.js";
import { toId } from "./ids.js";
import { appendHistory, normalizeText, type RecordRow } from "./records.js";
import type { Correction } from "./sources.js";
import type { FactInput, NeighbourDecision, Outcome } from "./store.js";

/**
 * The reconciler's decision rules, pure and engine-neutral: both engines (SQLite's sqlite/reconcile.ts and
 * PostgreSQL's postgres/reconcile-sql.ts) do their own reads and writes and ask these what to write.
 */

/** Below this confidence a statement is a hedge: it cannot overturn a confident fact, only dispute it. */
export const HEDGE_CONFIDENCE = 0.6;

/** The live record of its attribute a fact restates (same value); the caller then tries the same normalised text. */
export function valueDuplicate(fact: Pick<FactInput, "value">, competitors: readonly RecordRow[]): RecordRow | undefined {
  const normValue = fact.value === null ? null : normalizeText(fact.value);
  return normValue !== null ? competitors.find((c) => c.value !== null && normalizeText(c.value) === normValue) : undefined;
}

/** Cache topics a record is about: its subject's attribute and the entities it names. */
export function recordTopics(record: Pick<RecordRow, "subject" | "attribute">, entities: readonly string[]): string[] {
  const topics = entities.map((e) => `ent:${normalizeEntity(e)}`);
  if (record.subject && record.attribute) topics.push(`attr:${record.subject}/${record.attribute}`);
  return topics;
}

/**
 * What a restatement does to the record it restates: one more proof, the higher confidence, importance back up to
 * its category's start. A confident restatement of something only hedged before settles it (text, kind, current).
 */
export function restatement(duplicate: RecordRow, fact: Pick<FactInput, "kind" | "text" | "confidence">, now: number, traceId: number): { fields: Partial<RecordRow>; settles: boolean } {
  const settles = duplicate.kind === "uncertainty" && fact.kind !== "uncertainty" && fact.confidence >= HEDGE_CONFIDENCE;
  return {
    settles,
    fields: {
      proof_count: duplicate.proof_count + 1,
      confidence: Math.max(duplicate.confidence, fact.confidence),
      importance: Math.max(duplicate.importance, INITIAL_IMPORTANCE[duplicate.memory_category]),
      updated_at: now,
      history: appendHistory(duplicate, { at: now, event: settles ? "updated" : "reinforced", trace: traceId }),
      ...(settles ? { kind: fact.kind, text: fact.text, norm_text: normalizeText(fact.text), status: "current" as const } : {}),
    },
  };
}

/**
 * How a new fact stands against the live records of its attribute (`competitors`) and of the attribute it
 * negates (`opponents`): its rivals (another value of a single-valued attribute, or the value it negates), and
 * whether it is too weak to overturn them (a hedge, or a claim from a source of low trust against a confident,
 * trusted rival): then it is stored as an uncertainty and flags them; otherwise it supersedes them.
 */
export function standing(
  fact: FactInput,
  trust: number,
  competitors: readonly RecordRow[],
  opponents: readonly RecordRow[],
): { rivals: RecordRow[]; undecidable: boolean; kind: RecordRow["kind"] } {
  const hedged = fact.kind === "uncertainty" || fact.confidence < HEDGE_CONFIDENCE;
  const rivals = [...competitors, ...opponents].filter((c) => {
    const relation = valueRelation(fact, c);
    return relation === "opposes" || (relation === "replaces" && fact.cardinality === "one");
  });
  const weak = hedged || fact.confidence * trust < HEDGE_CONFIDENCE;
  const undecidable = weak && rivals.some((r) => r.kind !== "uncertainty" && r.confidence * r.trust >= HEDGE_CONFIDENCE);
  return { rivals, undecidable, kind: hedged || undecidable ? "uncertainty" : fact.kind };
}

/** A rival retired by record `by`: superseded (it points at `by`) or flagged. */
export function retirement(row: RecordRow, status: "superseded" | "flagged", by: number, now: number, traceId: number): Partial<RecordRow> {
  return {
    status,
    superseded_by: status === "superseded" ? by : row.superseded_by,
    updated_at: now,
    history: appendHistory(row, { at: now, event: status, detail: toId("record", by), trace: traceId }),
  };
}

/** The entities a new record is linked to: those the fact names, and its subject unless it is the user or assistant. */
export function entitiesOf(fact: Pick<FactInput, "entities" | "subject">): string[] {
  return [...fact.entities, ...(fact.subject !== "user" && fact.subject !== "assistant" ? [fact.subject] : [])];
}

/**
 * A decision trace's edges besides its outcomes: `considered` for each record it weighed and left unchanged
 * (a changed record's edge is its outcome), and `parent_trace` to the trace that caused it.
 */
export function decisionEdges(
  considered: Iterable<number>,
  changed: ReadonlySet<number>,
  parentTrace: number | undefined,
): { kind: "considered" | "parent_trace"; dst: { type: NodeType; id: number } }[] {
  const edges: { kind: "considered" | "parent_trace"; dst: { type: NodeType; id: number } }[] = [];
  for (const id of considered) if (!changed.has(id)) edges.push({ kind: "considered", dst: { type: "record", id } });
  if (parentTrace) edges.push({ kind: "parent_trace", dst: { type: "trace", id: parentTrace } });
  return edges;
}

/** The decision trace's payload of one reconciliation. */
export function decisionPayload(input: {
  source: { kind: string; id: string | null; key: string | null };
  trust: number;
  scope: Readonly<Record<string, string>>;
  actor: { principal: string | null; onBehalfOf: string | null; session: string | null };
  facts: unknown;
  provenance?: Record<string, unknown> | undefined;
  outcomes: readonly { record: RecordRow; outcome: Outcome }[];
  evicted: number;
  corrections: readonly Correction[];
}): Record<string, unknown> {
  return {
    source: { kind: input.source.kind, id: input.source.id, key: input.source.key, trust: input.trust },
    scope: input.scope,
    principal: input.actor.principal,
    on_behalf_of: input.actor.onBehalfOf,
    session: input.actor.session,
    extraction: input.facts,
    ...(input.provenance ? { provenance: input.provenance } : {}),
    outcomes: input.outcomes.map(({ record, outcome }) => ({
      record_id: toId("record", record.id),
      outcome,
      text: record.text,
      confidence: record.confidence,
      trust: record.trust,
      ...(record.superseded_by ? { superseded_by: toId("record", record.superseded_by) } : {}),
    })),
    evicted_cache_entries: input.evicted,
    ...(input.corrections.length ? { calibration: input.corrections } : {}),
  };
}

// The background reconciliation pass (its decisions come from a model; these say what each does).

/** What a decision about a neighbour does, or undefined when it is stale (either record changed meanwhile). */
export function neighbourStep(
  record: RecordRow | undefined,
  neighbour: RecordRow | undefined,
  d: NeighbourDecision,
  now: number,
  traceId: number,
): { status: "superseded" | "flagged"; neighbourFields: Partial<RecordRow>; recordFields?: Partial<RecordRow>; calibrate: boolean } | undefined {
  if (!record || record.status !== "current" || !neighbour || !(neighbour.status === "current" || neighbour.status === "flagged")) return undefined;
  const status = d.relation === "conflict" ? "flagged" : "superseded";
  return {
    status,
    calibrate: d.relation === "contradicts",
    neighbourFields: {
      status,
      superseded_by: status === "superseded" ? record.id : neighbour.superseded_by,
      updated_at: now,
      history: appendHistory(neighbour, { at: now, event: status, detail: `${d.relation}: ${d.reason}`.slice(0, 300), trace: traceId }),
    },
    // A duplicate is merged into the record: its proofs carried over.
    ...(d.relation === "duplicate"
      ? {
          recordFields: {
            proof_count: record.proof_count + neighbour.proof_count,
            updated_at: now,
            history: appendHistory(record, { at: now, event: "reinforced", detail: `merged ${toId("record", neighbour.id)}`, trace: traceId }),
          },
        }
      : {}),
  };
}

/** The decision trace's payload of the background pass about one record. */
export function neighbourPayload(input: {
  recordId: number;
  scope: Readonly<Record<string, string>>;
  actor: { principal: string | null; onBehalfOf: string | null; session: string | null };
  decisions: readonly NeighbourDecision[];
  provenance: Record<string, unknown>;
  outcomes: readonly { record: RecordRow; outcome: Outcome }[];
  evicted: number;
  corrections: readonly Correction[];
}): Record<string, unknown> {
  return {
    source: { kind: "reflection", id: toId("record", input.recordId) },
    scope: input.scope,
    principal: input.actor.principal,
    on_behalf_of: input.actor.onBehalfOf,
    session: input.actor.session,
    decisions: input.decisions.map((d) => ({ neighbour: toId("record", d.neighbour), relation: d.relation, reason: d.reason })),
    provenance: input.provenance,
    outcomes: input.outcomes.map(({ record: r, outcome }) => ({ record_id: toId("record", r.id), outcome, text: r.text })),
    evicted_cache_entries: input.evicted,
    ...(input.corrections.length ? { calibration: input.corrections } : {}),
  };
}
