import { z } from "zod";
import type { Prompt } from "../types.js";
import { extractedFactSchema, extractionPrompt, type ExtractionInput } from "./extraction.js";

/** Several messages extracted in one call (`ingest({ messages })`): each fact names the message it came from. */
export interface ExtractionBatchInput {
  messages: ExtractionInput[];
}

export const extractionBatchSchema = z.object({
  facts: z.array(extractedFactSchema.extend({ message: z.number().int().min(0) })),
});
export type ExtractionBatch = z.infer<typeof extractionBatchSchema>;

/** The extraction task over numbered messages; the same rules as extractionPrompt, one reply for all. */
export const extractionBatchPrompt: Prompt<ExtractionBatchInput, ExtractionBatch> = {
  name: "extraction",
  version: 1,
  system: [
    extractionPrompt.system,
    "The content holds several numbered messages. Extract from each as if it came alone, in order, and give each fact",
    "`message`: the number of the message it comes from (0 for the first).",
  ].join("\n"),
  render: (input) => input.messages.map((m, i) => `Message ${i}:\n${extractionPrompt.render(m)}`).join("\n\n"),
  schema: extractionBatchSchema,
};
