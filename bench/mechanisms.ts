// Consolidation and elaboration on LoCoMo: each conversation ingested once (offline local models), then recall@10
// of the evidence turns with the mechanisms off (as ingested), then after one consolidation and one elaboration
// sweep (a "day" of sweeps), with the background calls and tokens those sweeps cost per ingested turn. A record a
// sweep wrote counts for the turns it derives from (an observation's members, an elaboration's evidence), read
// from its history and trace; a ranking is scored on the turns it reaches.

import { Spectron } from "../src/index.js";
import { benchStore } from "./bench-store.js";
import type { LocomoConversation } from "./locomo-data.js";
import { dedupe, scoreRanking, ScoreTable, type RankScore } from "./metrics.js";
import { backgroundUsage } from "./ingest-growth.js";
import { round } from "./stats.js";

const K = 20;

export interface MechanismsReport {
  conversations: string[];
  turns: number;
  /** Background (reflection + background stage) calls and tokens per ingested turn, during ingest. */
  ingest: { callsPerTurn: number; tokensPerTurn: number };
  /** One consolidation and one elaboration sweep after ingest ("a day of sweeps"), per ingested turn and in all. */
  sweeps: { calls: number; tokens: number; callsPerTurn: number; tokensPerTurn: number; observations: number; relations: number };
  /** recall@10 etc. by split, mechanisms off (as ingested) and on (after the sweeps). */
  recall: Record<"off" | "on", Record<string, Record<string, RankScore & { n: number }>>>;
}

export async function runMechanisms(conversations: readonly LocomoConversation[], tick: (n: number) => void): Promise<MechanismsReport> {
  const tables = { off: { dev: new ScoreTable(), test: new ScoreTable() }, on: { dev: new ScoreTable(), test: new ScoreTable() } };
  let turns = 0;
  let ingestCalls = 0;
  let ingestTokens = 0;
  const sweeps = { calls: 0, tokens: 0, observations: 0, relations: 0 };
  for (const conv of conversations) {
    let now = conv.turns[0]?.at ?? 0;
    // No ranking feedback: the "off" queries must not change what the "on" ones rank.
    const memory = new Spectron({ ...benchStore(), context: `mech-${conv.sampleId}`, clock: () => now, providers: {}, schedule: false, feedback: false });
    try {
      await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "36500d" }]);
      const scope = { conversation: conv.sampleId };
      const diaByTurn = new Map<string, string>();
      for (const [i, turn] of conv.turns.entries()) {
        now = turn.at + i * 1000;
        const r = await memory.ingest({ role: "user", content: turn.text, scope, speaker: turn.speaker, occurred_at: turn.at });
        diaByTurn.set(r.turnId, turn.diaId);
      }
      await memory.idle();
      turns += conv.turns.length;
      const afterIngest = backgroundUsage(memory.usage());
      ingestCalls += afterIngest.calls;
      ingestTokens += afterIngest.tokens;
      now = conv.turns[conv.turns.length - 1]!.at + 86_400_000;

      await score(memory, conv, scope, diaByTurn, tables.off[conv.split]);
      const c = await memory.lifecycle.consolidate();
      const e = await memory.lifecycle.elaborate();
      const afterSweeps = backgroundUsage(memory.usage());
      sweeps.calls += afterSweeps.calls - afterIngest.calls;
      sweeps.tokens += afterSweeps.tokens - afterIngest.tokens;
      sweeps.observations += c.observations;
      sweeps.relations += e.relations;
      await score(memory, conv, scope, diaByTurn, tables.on[conv.split]);
      tick(conv.turns.length);
    } finally {
      await memory.close();
    }
  }
  return {
    conversations: conversations.map((c) => c.sampleId),
    turns,
    ingest: { callsPerTurn: round(ingestCalls / turns), tokensPerTurn: round(ingestTokens / turns) },
    sweeps: { ...sweeps, callsPerTurn: round(sweeps.calls / turns, 4), tokensPerTurn: round(sweeps.tokens / turns) },
    recall: {
      off: { dev: tables.off.dev.summary(), test: tables.off.test.summary() },
      on: { dev: tables.on.dev.summary(), test: tables.on.test.summary() },
    },
  };
}

async function score(memory: Spectron, conv: LocomoConversation, scope: Record<string, string>, diaByTurn: Map<string, string>, table: ScoreTable) {
  const derivedTurns = new Map<string, string[]>(); // sweep-written record id → turn ids it derives from
  const turnsOf = async (id: string): Promise<string[]> => {
    const cached = derivedTurns.get(id);
    if (cached) return cached;
    const record = await memory.state.get(id);
    const members = record.history.find((h) => h.event === "consolidated")?.detail?.split(",") ?? [];
    const out: string[] = [];
    for (const m of members) {
      const member = await memory.state.get(m).catch(() => undefined);
      if (member?.source.kind === "turn" && member.source.id) out.push(member.source.id);
    }
    derivedTurns.set(id, out);
    return out;
  };
  for (const q of conv.questions) {
    const results = await memory.search(q.question, { scope, limit: K });
    const ranked: (string | undefined)[] = [];
    for (const r of results) {
      if (r.kind === "passage") ranked.push(diaByTurn.get(r.passage.id));
      else if (r.record.source.kind === "turn") ranked.push(diaByTurn.get(r.record.source.id ?? ""));
      else for (const t of await turnsOf(r.record.id)) ranked.push(diaByTurn.get(t));
    }
    table.add(String(q.category), scoreRanking(dedupe(ranked), q.evidence));
  }
}
