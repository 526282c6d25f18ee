import { z } from "zod";
import type { Prompt } from "../types.js";

export const factKindSchema = z.enum(["entity", "attribute", "relation", "instruction", "uncertainty"]);
export const memoryCategorySchema = z.enum(["identity", "knowledge", "context"]);

/** One fact as the extraction stage returns it, before reconciliation. */
export const extractedFactSchema = z.object({
  kind: factKindSchema,
  memory_category: memoryCategorySchema,
  /** Who or what the fact is about; "user" means the speaker of a user turn. Lower-case. */
  subject: z.string().min(1),
  /** Snake_case attribute name ("plan", "location", "likes"); null for free-standing facts. */
  attribute: z.string().nullable(),
  value: z.string().nullable(),
  /** "one": a new value replaces the old (plan, location); "many": values accumulate (likes). */
  cardinality: z.enum(["one", "many"]),
  /** A self-contained sentence stating the fact in the third person. */
  text: z.string().min(1),
  confidence: z.number().min(0).max(1),
  /** Named entities the fact mentions (people, organisations, places, products). */
  entities: z.array(z.string()),
});
export type ExtractedFact = z.infer<typeof extractedFactSchema>;

export const extractionSchema = z.object({ facts: z.array(extractedFactSchema) });
export type Extraction = z.infer<typeof extractionSchema>;

export interface ExtractionInput {
  role: "user" | "assistant" | "system" | "tool";
  content: string;
  /** Display name of the speaker when known (LoCoMo-style transcripts). */
  speaker?: string;
  /** ISO 8601 time the turn happened. */
  occurred_at?: string;
  /** Documents are extracted as knowledge rather than as conversation. */
  source: "turn" | "document";
}

export const extractionPrompt: Prompt<ExtractionInput, Extraction> = {
  name: "extraction",
  version: 2,
  system: [
    "You extract durable, structured memory from one message of a conversation between a user and an AI agent, or from a document passage.",
    "Return JSON matching the schema. Each fact has:",
    '- kind: "attribute" for a property of the subject (plan, name, location, employer, likes), "relation" for a link between two entities, "entity" for a named thing worth remembering, "instruction" for a standing order to the agent ("always", "never", "from now on"), "uncertainty" for hedged statements ("I think", "maybe", "might").',
    '- memory_category: "identity" for lasting facts about the user (name, age, location, origin, employer, occupation, family, pets, health, allergies, diet, preferences, hobbies, languages, plans, instructions), "knowledge" for facts from documents, "context" for ephemeral details of the current conversation (moods, errands, one-off events).',
    '- A plan or intention ("I might move to Berlin") is attribute "intends" with the action as value ("move to Berlin"), never the fact it aims at. A negated statement keeps its attribute and prefixes the value with "not " ("I\'m not allergic to peanuts" → allergy = "not peanuts").',
    '- subject: "user" for the speaker of a user message; otherwise the lower-case name of who or what the fact is about.',
    '- attribute (snake_case) and value, or null; cardinality "one" when a new value replaces the old (plan, location, employer, name) and "many" when values accumulate (likes, dislikes).',
    "- text: one self-contained third-person sentence. confidence: 0..1 (hedged statements below 0.6). entities: named entities mentioned.",
    "Do not invent facts. Questions and greetings yield no facts. Return {\"facts\": []} when there is nothing to remember.",
  ].join("\n"),
  render: (input) =>
    [
      `Source: ${input.source === "document" ? "document passage" : `${input.role} message`}`,
      input.speaker ? `Speaker: ${input.speaker}` : "",
      input.occurred_at ? `Time: ${input.occurred_at}` : "",
      "Content:",
      input.content,
    ]
      .filter(Boolean)
      .join("\n"),
  schema: extractionSchema,
};
