import type { Spectron } from "../../spectron.js";

export const SWEEPS = ["decay", "expire", "consolidate", "elaborate"] as const;
export type SweepKind = (typeof SWEEPS)[number];

/** Runs a lifecycle sweep now, through the SDK (`memory.lifecycle.*`), and resolves to its result. */
export async function runSweep(memory: Spectron, kind: SweepKind): Promise<unknown> {
  switch (kind) {
    case "decay":
      return memory.lifecycle.decay();
    case "expire":
      return memory.lifecycle.expire();
    case "consolidate":
      return memory.lifecycle.consolidate();
    case "elaborate":
      return memory.lifecycle.elaborate();
  }
}
