import type { Synthesis, SynthesisInput } from "../prompts/synthesis.js";
import { composeResponse } from "./composer.js";
import { consolidate } from "./consolidator.js";

/**
 * The synthesis task without a model: the template answer, and — when it draws on two or more records — one
 * observation joining them (what they show together, no more than they say).
 */
export function synthesise(input: SynthesisInput): Synthesis {
  // No relevance gate: a synthesis question ("What matters to me?") is about everything retrieved for it, and
  // shares few words with the records that answer it.
  const { answer, used } = composeResponse(input, 0);
  const records = input.records.filter((r) => used.includes(r.id));
  if (records.length < 2) return { answer, used, insights: [] };
  const { observation, confidence } = consolidate({ records });
  return { answer, used, insights: [{ text: observation, confidence }] };
}
