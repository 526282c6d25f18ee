import { z } from "zod";
import type { Prompt } from "../types.js";

/** Background sweeps (consolidation): summarise a cluster of related records into one observation. */
export const backgroundSchema = z.object({
  observation: z.string(),
  confidence: z.number().min(0).max(1),
});
export type Background = z.infer<typeof backgroundSchema>;

export interface BackgroundInput {
  records: ReadonlyArray<{ id: string; text: string }>;
}

export const backgroundPrompt: Prompt<BackgroundInput, Background> = {
  name: "background",
  version: 1,
  system: [
    "You consolidate an agent's memory. Given related records, write one observation that states what they show together, without adding anything they do not say.",
    'Return JSON: {"observation": string, "confidence": number between 0 and 1}.',
  ].join("\n"),
  render: (input) => ["Records:", ...input.records.map((r) => `- [${r.id}] ${r.text}`)].join("\n"),
  schema: backgroundSchema,
};
