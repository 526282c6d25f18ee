// Ingest cost as the store grows: every LoCoMo conversation into ONE store and Context, each in a scope of its
// own (one user each), in order. Time per turn of each conversation, including the background pass it
// schedules (memory.idle()), so that a conversation ingested into a store already holding nine others can be
// compared with the first. The per-conversation LoCoMo runs (locomo.ts) each use a fresh store instead.

import { Spectron } from "../src/index.js";
import { benchStore } from "./bench-store.js";
import type { LocomoConversation } from "./locomo-data.js";
import { round } from "./stats.js";

export interface IngestGrowth {
  /** Conversations in ingest order, with the records already in the store when each started. */
  conversations: { sampleId: string; turns: number; storeRecordsBefore: number; msPerTurn: number; cpuMsPerTurn: number }[];
  /** Time per turn of the last conversation over the first's. */
  lastOverFirst: number;
  /** The same for this process's CPU time per turn (user + system): steadier than wall time on a shared machine. */
  cpuLastOverFirst: number;
  /** Background model calls (every stage but the synchronous extraction and embedding) per ingested turn. */
  backgroundCallsPerTurn: number;
  backgroundTokensPerTurn: number;
}

export async function runIngestGrowth(conversations: readonly LocomoConversation[], tick: (n: number) => void): Promise<IngestGrowth> {
  let now = 0;
  const memory = new Spectron({ ...benchStore(), context: "locomo-growth", clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  const out: IngestGrowth["conversations"] = [];
  let turns = 0;
  let background = { calls: 0, tokens: 0 };
  try {
    await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "36500d" }]);
    let records = 0;
    for (const conv of conversations) {
      const scope = { user: conv.sampleId };
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (const [i, turn] of conv.turns.entries()) {
        now = turn.at + i * 1000;
        const r = await memory.ingest({ role: "user", content: turn.text, scope, speaker: turn.speaker, occurred_at: turn.at });
        records += r.records.filter((x) => x.outcome === "created").length;
        if (i % 20 === 19) tick(20);
      }
      await memory.idle();
      turns += conv.turns.length;
      tick(conv.turns.length % 20);
      out.push({
        sampleId: conv.sampleId,
        turns: conv.turns.length,
        storeRecordsBefore: records,
        msPerTurn: round((performance.now() - started) / conv.turns.length),
        cpuMsPerTurn: round(cpuMs(process.cpuUsage(cpu)) / conv.turns.length),
      });
    }
    background = backgroundUsage(memory.usage());
  } finally {
    await memory.close();
  }
  // storeRecordsBefore: shift so that each entry holds the count before its conversation.
  const before = [0, ...out.map((c) => c.storeRecordsBefore)];
  out.forEach((c, i) => (c.storeRecordsBefore = before[i]!));
  const ratio = (f: (c: IngestGrowth["conversations"][number]) => number) => (out.length > 1 ? round(f(out[out.length - 1]!) / f(out[0]!)) : Number.NaN);
  return {
    conversations: out,
    lastOverFirst: ratio((c) => c.msPerTurn),
    cpuLastOverFirst: ratio((c) => c.cpuMsPerTurn),
    backgroundCallsPerTurn: turns ? round(background.calls / turns) : Number.NaN,
    backgroundTokensPerTurn: turns ? round(background.tokens / turns) : Number.NaN,
  };
}

/** Calls and tokens of the stages ingest does not wait for (reflection, background). */
export function backgroundUsage(usage: { reflection?: { calls: number; input_tokens: number; output_tokens: number }; background?: { calls: number; input_tokens: number; output_tokens: number } }) {
  let calls = 0;
  let tokens = 0;
  for (const stage of ["reflection", "background"] as const) {
    const u = usage[stage];
    if (u) (calls += u.calls), (tokens += u.input_tokens + u.output_tokens);
  }
  return { calls, tokens };
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
