import { z } from "zod";
import type { Prompt } from "../types.js";

/**
 * The background reconciliation pass: one new record compared with its nearest current neighbours.
 * Decisions are applied through the same reconciler as every other write.
 */
export const reflectionSchema = z.object({
  decisions: z.array(
    z.object({
      /** An id of one of the neighbours. */
      neighbour_id: z.string(),
      /** duplicate: same fact, merge into the new one; contradicts: the new record replaces it;
       *  conflict: they disagree and it cannot be decided; unrelated: leave both. */
      relation: z.enum(["duplicate", "contradicts", "conflict", "unrelated"]),
      reason: z.string(),
    }),
  ),
});
export type Reflection = z.infer<typeof reflectionSchema>;

export interface ReflectionRecord {
  id: string;
  text: string;
  subject: string | null;
  attribute: string | null;
  value: string | null;
  created_at: string;
  confidence: number;
}

export interface ReflectionInput {
  record: ReflectionRecord;
  neighbours: ReflectionRecord[];
}

export const reflectionPrompt: Prompt<ReflectionInput, Reflection> = {
  name: "reflection",
  version: 1,
  system: [
    "You reconcile an agent's memory. You are given one NEW record and its nearest existing neighbours.",
    'For each neighbour decide: "duplicate" (states the same fact), "contradicts" (the new record replaces it: same subject and attribute, newer value), "conflict" (they disagree and the newer one is not clearly right), or "unrelated".',
    'Return JSON: {"decisions": [{"neighbour_id", "relation", "reason"}]}. Only use neighbour ids you were given.',
  ].join("\n"),
  render: (input) =>
    [
      `NEW [${input.record.id}] (${input.record.created_at}, confidence ${input.record.confidence}) ${input.record.text}`,
      "Neighbours:",
      ...input.neighbours.map((n) => `- [${n.id}] (${n.created_at}, confidence ${n.confidence}) ${n.text}`),
    ].join("\n"),
  schema: reflectionSchema,
};

/**
 * The batched background reconciliation pass: the new records of one or several turns, each with the existing
 * records it could conflict with, in one call.
 */
export const batchReflectionSchema = z.object({
  decisions: z.array(
    z.object({
      /** The id of one of the NEW records. */
      record_id: z.string(),
      /** The id of one of that record's neighbours. */
      neighbour_id: z.string(),
      relation: z.enum(["duplicate", "contradicts", "conflict", "unrelated"]),
      reason: z.string(),
    }),
  ),
});
export type BatchReflection = z.infer<typeof batchReflectionSchema>;

export interface BatchReflectionInput {
  items: ReflectionInput[];
}

export const batchReflectionPrompt: Prompt<BatchReflectionInput, BatchReflection> = {
  name: "reflection",
  version: 2,
  system: [
    "You reconcile an agent's memory. You are given NEW records, each with the existing records it might conflict with.",
    'For each pair decide: "duplicate" (states the same fact), "contradicts" (the new record replaces it: same subject and attribute, newer value), "conflict" (they disagree and the newer one is not clearly right), or "unrelated".',
    'Return JSON: {"decisions": [{"record_id", "neighbour_id", "relation", "reason"}]}. Only use ids you were given; omit unrelated pairs if you like.',
  ].join("\n"),
  render: (input) =>
    input.items
      .flatMap((item) => [
        `NEW [${item.record.id}] (${item.record.created_at}, confidence ${item.record.confidence}) ${item.record.text}`,
        ...item.neighbours.map((n) => `  - [${n.id}] (${n.created_at}, confidence ${n.confidence}) ${n.text}`),
      ])
      .join("\n"),
  schema: batchReflectionSchema,
};
