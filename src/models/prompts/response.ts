import { z } from "zod";
import type { Prompt } from "../types.js";

export const responseSchema = z.object({
  answer: z.string(),
  /** Ids of the records the answer actually relies on (a subset of those given). */
  used: z.array(z.string()),
});
export type ResponseOutput = z.infer<typeof responseSchema>;

export interface ResponseInput {
  query: string;
  /** The question's type (query understanding): a "summary" asks for an overview of what the records say. */
  type?: "fact" | "chunk" | "instruction" | "summary";
  records: ReadonlyArray<{
    id: string;
    text: string;
    kind: string;
    status: string;
    subject: string | null;
    attribute: string | null;
    value: string | null;
    created_at: string;
    /** Names the record is linked to (its entities, the speaker's among them), when known. */
    entities?: readonly string[];
    /** Who said what the record was extracted from (the source turn's speaker), when known: "user" is them. */
    speaker?: string | null;
  }>;
}

export const responsePrompt: Prompt<ResponseInput, ResponseOutput> = {
  name: "response",
  version: 2,
  system: [
    "You answer a question using only the memory records given. Address the asker as \"you\" when the records are about \"user\".",
    "If the records do not contain the answer, say you do not know; never invent. Records with status \"flagged\" are disputed: say so.",
    "When the question type is summary, give a short overview of what the records say about what was asked.",
    'Return JSON: {"answer": string, "used": [ids of the records the answer relies on, and only those; [] when you do not know]}.',
  ].join("\n"),
  render: (input) =>
    [
      `Question: ${input.query}`,
      ...(input.type ? [`Question type: ${input.type}`] : []),
      "Records:",
      ...input.records.map(
        (r) => `- [${r.id}] (${r.kind}${r.status !== "current" ? `, ${r.status}` : ""}, ${r.created_at}) ${r.text}`,
      ),
    ].join("\n"),
  schema: responseSchema,
};
