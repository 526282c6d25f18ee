import type { Elaboration, ElaborationInput } from "../prompts/elaboration.js";

/** At the hedge line: a rule-based link is worth keeping, never worth overturning a stated fact with. */
const CONFIDENCE = 0.6;

const display = (name: string) => (name.toLowerCase() === "user" ? "User" : name.charAt(0).toUpperCase() + name.slice(1));

/**
 * The elaboration task without a model: every pair is linked as `related_to`, "A is connected with B." (or
 * "… through C." for a pair a document and a conversation connect). It cannot tell what the relation is, only
 * that the evidence brings the two together, and says no more than that.
 */
export function elaborate(input: ElaborationInput): Elaboration {
  return {
    proposals: input.pairs.map((p) => ({
      pair_id: p.id,
      relation: "related_to",
      text: `${display(p.a)} is connected with ${display(p.b)}${p.via ? ` through ${display(p.via)}` : ""}.`,
      confidence: CONFIDENCE,
    })),
  };
}
