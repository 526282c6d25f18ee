import type { Spectron } from "../../spectron.js";
import { UnavailableError } from "./exit-codes.js";

export const SWEEPS = ["decay", "expire", "consolidate", "elaborate"] as const;
export type SweepKind = (typeof SWEEPS)[number];

/**
 * Runs a lifecycle sweep through the SDK. A sweep this build's `memory.lifecycle` does not have fails with
 * UnavailableError (exit code 7), never a pretend result.
 */
export async function runSweep(memory: Spectron, kind: SweepKind): Promise<unknown> {
  const lifecycle = memory.lifecycle as unknown as Record<string, unknown>;
  const sweep = lifecycle[kind];
  if (typeof sweep !== "function") throw new UnavailableError(`spectron sweep ${kind}`);
  return (sweep as () => Promise<unknown>).call(lifecycle);
}
