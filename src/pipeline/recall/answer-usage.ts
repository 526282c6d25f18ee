import type { ModelUsage } from "../../models/types.js";

/**
 * The cost of an answer as its response_trace records it: tokens and dollars summed over its model calls, each
 * call's usage by stage, and how many calls there were.
 */
export function answerUsage(usage: Record<string, ModelUsage>) {
  const calls = Object.values(usage);
  return {
    tokens: { input: calls.reduce((s, u) => s + u.inputTokens, 0), output: calls.reduce((s, u) => s + u.outputTokens, 0) },
    cost_usd: calls.reduce((s, u) => s + u.costUsd, 0),
    usage,
    model_calls: calls.length,
  };
}
