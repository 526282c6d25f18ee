import { z } from "zod";
import type { Prompt } from "../types.js";

export const queryTypeSchema = z.enum(["fact", "chunk", "instruction", "summary"]);

export const queryUnderstandingSchema = z.object({
  /** fact: a specific attribute; chunk: document content; instruction: standing orders; summary: broad. */
  type: queryTypeSchema,
  /** Lower-case subjects the query asks about ("user" for the asker). */
  subjects: z.array(z.string()),
  /** Snake_case attributes the query asks about ("plan", "location"). */
  attributes: z.array(z.string()),
  /** Salient search terms (no stop words). */
  keywords: z.array(z.string()),
});
export type QueryUnderstanding = z.infer<typeof queryUnderstandingSchema>;

export interface QueryUnderstandingInput {
  query: string;
}

export const queryUnderstandingPrompt: Prompt<QueryUnderstandingInput, QueryUnderstanding> = {
  name: "query_understanding",
  version: 1,
  system: [
    "You classify a question put to an agent's memory. Return JSON matching the schema:",
    '- type: "fact" when it asks for a specific fact about someone or something, "chunk" when it asks about document content, "instruction" when it asks how the agent should behave, "summary" for broad questions.',
    '- subjects: lower-case subjects it asks about ("user" when the asker asks about themselves: "my", "I", "me").',
    '- attributes: snake_case attribute names it asks about (plan, location, employer, name, likes).',
    "- keywords: the salient search terms, without stop words.",
  ].join("\n"),
  render: (input) => `Question: ${input.query}`,
  schema: queryUnderstandingSchema,
};
