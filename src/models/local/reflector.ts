import type { BatchReflection, BatchReflectionInput, Reflection, ReflectionInput, ReflectionRecord } from "../prompts/reflection.js";
import { valueRelation } from "../attributes.js";
import { normaliseForComparison } from "./text.js";

type Decision = Reflection["decisions"][number];

function same(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * The rule-based reconciliation task: each neighbour is a duplicate (same subject, attribute and value, or
 * the same text), a contradiction the new record wins (same single-valued attribute with a different value, or
 * one value negating the other, at least the neighbour's confidence), a conflict (the same, but the new record is
 * less sure), or unrelated.
 */
export function reflect(input: ReflectionInput): Reflection {
  return { decisions: input.neighbours.map((neighbour) => decide(input.record, neighbour)) };
}

/** The batched task (prompt version 2): every new record against its own neighbours. */
export function reflectBatch(input: BatchReflectionInput): BatchReflection {
  return {
    decisions: input.items.flatMap((item) => item.neighbours.map((n) => ({ record_id: item.record.id, ...decide(item.record, n) }))),
  };
}

function decide(record: ReflectionRecord, neighbour: ReflectionRecord): Decision {
  const id = neighbour.id;
  const sameSlot = same(record.subject, neighbour.subject) && same(record.attribute, neighbour.attribute);
  const newValue = record.value === null ? null : normaliseForComparison(record.value);
  const oldValue = neighbour.value === null ? null : normaliseForComparison(neighbour.value);
  if (sameSlot && newValue !== null && newValue === oldValue) {
    return { neighbour_id: id, relation: "duplicate", reason: `Same ${record.attribute} of ${record.subject}: "${record.value}".` };
  }
  if (normaliseForComparison(record.text) === normaliseForComparison(neighbour.text)) {
    return { neighbour_id: id, relation: "duplicate", reason: "Both records state the same text." };
  }
  const relation = same(record.subject, neighbour.subject) ? valueRelation(record, neighbour) : "unrelated";
  if (relation === "opposes" || relation === "replaces") {
    const change = `${record.attribute} of ${record.subject}: "${neighbour.value}" vs "${record.value}"`;
    const what = relation === "opposes" ? "One negates the other" : "New value for a single-valued attribute";
    return record.confidence >= neighbour.confidence
      ? { neighbour_id: id, relation: "contradicts", reason: `${what} (${change}); the new record is at least as confident.` }
      : { neighbour_id: id, relation: "conflict", reason: `${what} (${change}); the new record is less confident.` };
  }
  return { neighbour_id: id, relation: "unrelated", reason: sameSlot ? `Values accumulate for ${record.attribute}.` : "Different subject or attribute." };
}
