import { z } from "zod";
import type { Prompt } from "../types.js";

/**
 * Elaboration (background stage): pairs of entities that memory keeps bringing up together, or that a document
 * and a conversation connect through a third, but that no record links. For each pair, a relation worth
 * remembering, or "none".
 */
export const elaborationSchema = z.object({
  proposals: z.array(
    z.object({
      /** The id of one of the pairs given. */
      pair_id: z.string(),
      /** A snake_case relation ("works_with", "located_in", "related_to"), or "none" when the evidence shows none. */
      relation: z.string(),
      /** One self-contained sentence stating the relation in the third person (empty for "none"). */
      text: z.string(),
      confidence: z.number().min(0).max(1),
    }),
  ),
});
export type Elaboration = z.infer<typeof elaborationSchema>;

export interface ElaborationPair {
  id: string;
  a: string;
  b: string;
  /** The entity a document and a conversation both mention, through which `a` and `b` connect. */
  via?: string;
  /** Records in which the two came up. */
  evidence: { id: string; text: string }[];
}

export interface ElaborationInput {
  pairs: ElaborationPair[];
}

export const elaborationPrompt: Prompt<ElaborationInput, Elaboration> = {
  name: "elaboration",
  version: 1,
  system: [
    "You elaborate an agent's memory. Each pair below names two things that came up together in memory but that no record links.",
    "From the evidence only, propose the relation between them as one third-person sentence, or relation \"none\" if the evidence does not show one. Never invent facts.",
    'Return JSON: {"proposals": [{"pair_id", "relation", "text", "confidence"}]}.',
  ].join("\n"),
  render: (input) =>
    input.pairs
      .flatMap((p) => [
        `PAIR [${p.id}] ${p.a} — ${p.b}${p.via ? ` (through ${p.via})` : ""}`,
        ...p.evidence.map((e) => `  - [${e.id}] ${e.text}`),
      ])
      .join("\n"),
  schema: elaborationSchema,
};
