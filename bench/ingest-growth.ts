// Ingest cost as the store grows: every LoCoMo conversation into ONE store and Context, each in a scope of its
// own (one user each), in order. Time per turn of each conversation, including the background pass it
// schedules (memory.idle()), so that a conversation ingested into a store already holding nine others can be
// compared with the first. The per-conversation LoCoMo runs (locomo.ts) each use a fresh store instead.

import { Spectron } from "../src/index.js";
import type { LocomoConversation } from "./locomo-data.js";
import { round } from "./stats.js";

export interface IngestGrowth {
  /** Conversations in ingest order, with the records already in the store when each started. */
  conversations: { sampleId: string; turns: number; storeRecordsBefore: number; msPerTurn: number }[];
  /** Time per turn of the last conversation over the first's. */
  lastOverFirst: number;
}

export async function runIngestGrowth(conversations: readonly LocomoConversation[], tick: (n: number) => void): Promise<IngestGrowth> {
  let now = 0;
  const memory = new Spectron({ context: "locomo-growth", clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  const out: IngestGrowth["conversations"] = [];
  try {
    await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "36500d" }]);
    let records = 0;
    for (const conv of conversations) {
      const scope = { user: conv.sampleId };
      const started = performance.now();
      for (const [i, turn] of conv.turns.entries()) {
        now = turn.at + i * 1000;
        const r = await memory.ingest({ role: "user", content: turn.text, scope, speaker: turn.speaker, occurred_at: turn.at });
        records += r.records.filter((x) => x.outcome === "created").length;
        if (i % 20 === 19) tick(20);
      }
      await memory.idle();
      tick(conv.turns.length % 20);
      out.push({
        sampleId: conv.sampleId,
        turns: conv.turns.length,
        storeRecordsBefore: records,
        msPerTurn: round((performance.now() - started) / conv.turns.length),
      });
    }
  } finally {
    await memory.close();
  }
  // storeRecordsBefore: shift so that each entry holds the count before its conversation.
  const before = [0, ...out.map((c) => c.storeRecordsBefore)];
  out.forEach((c, i) => (c.storeRecordsBefore = before[i]!));
  return { conversations: out, lastOverFirst: out.length > 1 ? round(out[out.length - 1]!.msPerTurn / out[0]!.msPerTurn) : Number.NaN };
}
