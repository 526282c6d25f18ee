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
  /**
   * The last conversation ingested again, alone, into a fresh store: its time per turn in the full store over
   * this (wall and CPU). The same turns on both sides, so what differs is only what the store held before.
   */
  lastAlone: { msPerTurn: number; cpuMsPerTurn: number; fullOverAlone: number; cpuFullOverAlone: number };
  /** Background model calls (every stage but the synchronous extraction and embedding) per ingested turn. */
  backgroundCallsPerTurn: number;
  backgroundTokensPerTurn: number;
}

/** A store as the growth run uses it: one Context, context facts kept (the questions come months later). */
async function openStore(clock: { now: number }): Promise<Spectron> {
  const memory = new Spectron({ ...benchStore(), context: "locomo-growth", clock: () => clock.now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "36500d" }]);
  return memory;
}

/** Ingests one conversation in a scope of its own, then waits for its background pass; time per turn. */
async function ingestConversation(memory: Spectron, clock: { now: number }, conv: LocomoConversation, tick: (n: number) => void) {
  const scope = { user: conv.sampleId };
  const started = performance.now();
  const cpu = process.cpuUsage();
  let created = 0;
  for (const [i, turn] of conv.turns.entries()) {
    clock.now = turn.at + i * 1000;
    const r = await memory.ingest({ role: "user", content: turn.text, scope, speaker: turn.speaker, occurred_at: turn.at });
    created += r.records.filter((x) => x.outcome === "created").length;
    if (i % 20 === 19) tick(20);
  }
  await memory.idle();
  tick(conv.turns.length % 20);
  return { created, msPerTurn: round((performance.now() - started) / conv.turns.length), cpuMsPerTurn: round(cpuMs(process.cpuUsage(cpu)) / conv.turns.length) };
}

export async function runIngestGrowth(conversations: readonly LocomoConversation[], tick: (n: number) => void): Promise<IngestGrowth> {
  const clock = { now: 0 };
  const memory = await openStore(clock);
  const out: IngestGrowth["conversations"] = [];
  let turns = 0;
  let background = { calls: 0, tokens: 0 };
  try {
    let records = 0;
    for (const conv of conversations) {
      const one = await ingestConversation(memory, clock, conv, tick);
      records += one.created;
      turns += conv.turns.length;
      out.push({ sampleId: conv.sampleId, turns: conv.turns.length, storeRecordsBefore: records, msPerTurn: one.msPerTurn, cpuMsPerTurn: one.cpuMsPerTurn });
    }
    background = backgroundUsage(memory.usage());
  } finally {
    await memory.close();
  }
  const last = conversations[conversations.length - 1];
  let lastAlone = { msPerTurn: Number.NaN, cpuMsPerTurn: Number.NaN };
  if (last) {
    const alone = await openStore(clock);
    try {
      lastAlone = await ingestConversation(alone, clock, last, () => undefined);
    } finally {
      await alone.close();
    }
  }
  // storeRecordsBefore: shift so that each entry holds the count before its conversation.
  const before = [0, ...out.map((c) => c.storeRecordsBefore)];
  out.forEach((c, i) => (c.storeRecordsBefore = before[i]!));
  const ratio = (f: (c: IngestGrowth["conversations"][number]) => number) => (out.length > 1 ? round(f(out[out.length - 1]!) / f(out[0]!)) : Number.NaN);
  return {
    conversations: out,
    lastOverFirst: ratio((c) => c.msPerTurn),
    cpuLastOverFirst: ratio((c) => c.cpuMsPerTurn),
    lastAlone: {
      msPerTurn: lastAlone.msPerTurn,
      cpuMsPerTurn: lastAlone.cpuMsPerTurn,
      fullOverAlone: out.length > 0 ? round(out[out.length - 1]!.msPerTurn / lastAlone.msPerTurn) : Number.NaN,
      cpuFullOverAlone: out.length > 0 ? round(out[out.length - 1]!.cpuMsPerTurn / lastAlone.cpuMsPerTurn) : Number.NaN,
    },
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
