import { z } from "zod";
import type { Prompt } from "../types.js";
import type { ResponseInput } from "./response.js";

/**
 * `reflect()`: a synthesis question answered from retrieved records, with insights that are worth keeping as
 * new memory (observations the records support together). Runs on the reflection stage's model.
 */
export const synthesisSchema = z.object({
  answer: z.string(),
  /** Ids of the records the answer relies on. */
  used: z.array(z.string()),
  /** Higher-order observations the records support together; empty when there is nothing new to keep. */
  insights: z.array(z.object({ text: z.string().min(1), confidence: z.number().min(0).max(1) })),
});
export type Synthesis = z.infer<typeof synthesisSchema>;
export type SynthesisInput = ResponseInput;

export const synthesisPrompt: Prompt<SynthesisInput, Synthesis> = {
  name: "synthesis",
  version: 1,
  system: [
    "You answer a synthesis question about a user or a topic from the memory records given, and say what the records show together.",
    "Use only the records; never invent. Records with status \"flagged\" are disputed.",
    'Return JSON: {"answer": string, "used": [ids of the records relied on], "insights": [{"text": one self-contained third-person sentence the records support together, "confidence": 0..1}]}.',
    "Give insights only when two or more records support them; otherwise return an empty list.",
  ].join("\n"),
  render: (input) =>
    [
      `Question: ${input.query}`,
      "Records:",
      ...input.records.map((r) => `- [${r.id}] (${r.kind}${r.status !== "current" ? `, ${r.status}` : ""}, ${r.created_at}) ${r.text}`),
    ].join("\n"),
  schema: synthesisSchema,
};
