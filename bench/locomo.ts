// LoCoMo retrieval quality, retrieval only (no LLM): Spectron's `query` against BM25-only and vector-only
// baselines over the same turns, scored against the evidence dia_ids (../shared/data/README.md).

import { Spectron } from "../src/index.js";
import { Bm25Baseline, VectorBaseline } from "./baselines.js";
import { channelRankings, CHANNELS, type Channel } from "./locomo-channels.js";
import { benchStore, benchStoreKind } from "./bench-store.js";
import { CATEGORY_NAMES, loadLocomo, type LocomoConversation, type LocomoStats } from "./locomo-data.js";
import { dedupe, scoreRanking, ScoreTable, type RankScore } from "./metrics.js";
import { runIngestGrowth, type IngestGrowth } from "./ingest-growth.js";
import { runMechanisms, type MechanismsReport } from "./mechanisms.js";
import { Progress } from "./progress.js";
import { latency, round, type Latency } from "./stats.js";

const K = 20;
const DAY = 86_400_000;
export const SYSTEMS = ["spectron", "bm25", "vector"] as const;
export type System = (typeof SYSTEMS)[number];
type Split = "dev" | "test";

export interface ConversationReport {
  sampleId: string;
  split: Split;
  turns: number;
  questions: number;
  /** Share of turns whose ingest returned at least one record. */
  coverageIngest: number;
  /** Share of turns that are the source of at least one live record when the questions are asked. */
  coverageLive: number;
  /** Share of evidence dia_ids with a live record: the ceiling of Spectron's recall on this conversation. */
  evidenceReachable: number;
  outcomes: Record<string, number>;
  ingestTurnsPerSec: number;
}

export interface LocomoReport {
  skipped?: string;
  stats?: LocomoStats & { scoredHere: number; conversationsHere: string[] };
  scores?: Record<Split, Record<System, Record<string, RankScore & { n: number }>>>;
  coverage?: Record<Split, { turns: number; coverageIngest: number; coverageLive: number; evidenceReachable: number }>;
  latencyMs?: Record<System, Latency>;
  /** Development split only: each retrieval channel of Spectron scored alone, and fused (a tuning aid). */
  channels?: Record<Channel, Record<string, RankScore & { n: number }>>;
  conversations?: ConversationReport[];
  /** Every conversation into one shared store, one scope each: time per turn as the store grows. */
  growth?: IngestGrowth;
  /** Consolidation and elaboration: their cost per ingested turn and recall with them off and on. */
  mechanisms?: MechanismsReport;
}

export async function runLocomo(path: string, options: { quick: boolean }): Promise<LocomoReport> {
  const data = loadLocomo(path);
  if (!data) return { skipped: `${path} not found: LoCoMo section skipped (place ../shared/data/locomo/locomo10.json beside the repo).` };
  // --quick: the smallest conversation of each split, so both splits still appear.
  const chosen = options.quick ? (["dev", "test"] as const).map((s) => smallest(data.conversations.filter((c) => c.split === s))) : data.conversations;
  const tables = { dev: newTables(), test: newTables() };
  const channels = Object.fromEntries(CHANNELS.map((c) => [c, new ScoreTable()])) as Record<Channel, ScoreTable>;
  const times: Record<System, number[]> = { spectron: [], bm25: [], vector: [] };
  const conversations: ConversationReport[] = [];
  const total = chosen.reduce((s, c) => s + c.turns.length + c.questions.length, 0);
  const progress = new Progress("locomo", total);
  let done = 0;
  for (const conv of chosen) {
    // Never on the test split; the per-channel diagnosis reads the SQLite engine's tables.
    const diagnose = conv.split === "dev" && benchStoreKind() === "sqlite" ? channels : undefined;
    conversations.push(await runConversation(conv, tables[conv.split], times, diagnose, (n) => progress.tick((done += n), conv.sampleId)));
  }
  progress.done(`${chosen.length} conversations`);
  const growthProgress = new Progress("locomo ingest, one store", chosen.reduce((s, c) => s + c.turns.length, 0));
  let grown = 0;
  const growth = await runIngestGrowth(chosen, (n) => growthProgress.tick((grown += n)));
  growthProgress.done(`${chosen.length} conversations in one store`);
  const mechanismsProgress = new Progress("locomo consolidation and elaboration", chosen.reduce((s, c) => s + c.turns.length, 0));
  let swept = 0;
  const mechanisms = await runMechanisms(chosen, (n) => mechanismsProgress.tick((swept += n)));
  mechanismsProgress.done(`${chosen.length} conversations`);

  const coverage = Object.fromEntries(
    (["dev", "test"] as const).map((split) => {
      const cs = conversations.filter((c) => c.split === split);
      const turns = cs.reduce((s, c) => s + c.turns, 0);
      const w = (f: (c: ConversationReport) => number) => (turns ? round(cs.reduce((s, c) => s + f(c) * c.turns, 0) / turns) : Number.NaN);
      return [split, { turns, coverageIngest: w((c) => c.coverageIngest), coverageLive: w((c) => c.coverageLive), evidenceReachable: w((c) => c.evidenceReachable) }];
    }),
  ) as LocomoReport["coverage"];
  return {
    stats: { ...data.stats, scoredHere: chosen.reduce((s, c) => s + c.questions.length, 0), conversationsHere: chosen.map((c) => c.sampleId) },
    scores: {
      dev: mapSystems((s) => tables.dev[s].summary()),
      test: mapSystems((s) => tables.test[s].summary()),
    },
    coverage,
    latencyMs: mapSystems((s) => latency(times[s])),
    channels: Object.fromEntries(CHANNELS.map((c) => [c, channels[c].summary()])) as Record<Channel, Record<string, RankScore & { n: number }>>,
    conversations,
    growth,
    mechanisms,
  };
}

async function runConversation(
  conv: LocomoConversation,
  tables: Record<System, ScoreTable>,
  times: Record<System, number[]>,
  channels: Record<Channel, ScoreTable> | undefined,
  tick: (n: number) => void,
): Promise<ConversationReport> {
  let now = conv.turns[0]?.at ?? 0;
  const memory = new Spectron({
    ...benchStore(),
    context: `locomo-${conv.sampleId}`,
    clock: () => now,
    providers: {},
    schedule: { decay: false, expire: false, retry: false },
  });
  try {
    // Context facts expire after 7 days by default; the questions come months after the first session.
    await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "36500d" }]);
    const scope = { conversation: conv.sampleId };
    const diaByTurn = new Map<string, string>();
    const outcomes: Record<string, number> = { created: 0, updated: 0, superseded: 0, flagged: 0 };
    let withRecords = 0;
    const started = performance.now();
    for (const [i, turn] of conv.turns.entries()) {
      // The session's date, turns a second apart so that their order survives in created_at.
      now = turn.at + i * 1000;
      const r = await memory.ingest({ role: "user", content: turn.text, scope, speaker: turn.speaker, occurred_at: turn.at, metadata: { dia_id: turn.diaId } });
      diaByTurn.set(r.turnId, turn.diaId);
      if (r.records.length > 0) withRecords++;
      for (const rec of r.records) outcomes[rec.outcome] = (outcomes[rec.outcome] ?? 0) + 1;
      if (i % 20 === 19) tick(20);
    }
    tick(conv.turns.length % 20);
    await memory.idle(); // the background reconciliation pass may still merge or retire records
    const ingestSecs = (performance.now() - started) / 1000;
    now = conv.turns[conv.turns.length - 1]!.at + DAY;

    const liveSources = await liveSourceDias(memory, scope, diaByTurn);
    const texts = conv.turns.map((t) => t.text);
    const bm25 = new Bm25Baseline(texts);
    const vector = new VectorBaseline();
    await vector.index(texts);
    const toDia = (indexes: number[]) => indexes.map((i) => conv.turns[i]!.diaId);
    let evidenceTotal = 0;
    let evidenceLive = 0;
    for (const q of conv.questions) {
      const cat = String(q.category);
      if (channels) {
        // Before memory.query, which reinforces what it returns: the same state the query then sees.
        const ranked = await channelRankings(memory, q.question, scope, K);
        for (const c of CHANNELS) channels[c].add(cat, scoreRanking(dedupe(ranked[c].map((turn) => diaByTurn.get(turn))), q.evidence));
      }
      let t = performance.now();
      const results = await memory.search(q.question, { scope, limit: K });
      times.spectron.push(performance.now() - t);
      const turnOf = (r: (typeof results)[number]) => (r.kind === "passage" ? r.passage.id : r.record.source.id ?? "");
      tables.spectron.add(cat, scoreRanking(dedupe(results.map((r) => diaByTurn.get(turnOf(r)))), q.evidence));
      t = performance.now();
      const lexical = bm25.query(q.question, K);
      times.bm25.push(performance.now() - t);
      tables.bm25.add(cat, scoreRanking(dedupe(toDia(lexical)), q.evidence));
      t = performance.now();
      const semantic = await vector.query(q.question, K);
      times.vector.push(performance.now() - t);
      tables.vector.add(cat, scoreRanking(dedupe(toDia(semantic)), q.evidence));
      evidenceTotal += q.evidence.length;
      evidenceLive += q.evidence.filter((d) => liveSources.has(d)).length;
      tick(1);
    }
    bm25.close();
    return {
      sampleId: conv.sampleId,
      split: conv.split,
      turns: conv.turns.length,
      questions: conv.questions.length,
      coverageIngest: round(withRecords / conv.turns.length),
      coverageLive: round(liveSources.size / conv.turns.length),
      evidenceReachable: round(evidenceTotal ? evidenceLive / evidenceTotal : Number.NaN),
      outcomes,
      ingestTurnsPerSec: round(conv.turns.length / ingestSecs, 1),
    };
  } finally {
    await memory.close();
  }
}

/** dia_ids of turns that are the source of at least one live (current or flagged, unexpired) record. */
async function liveSourceDias(memory: Spectron, scope: Record<string, string>, diaByTurn: Map<string, string>): Promise<Set<string>> {
  const out = new Set<string>();
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Spectron["state"]["list"]>> = await memory.state.list({ scope, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const r of page.records) {
      const dia = r.source.kind === "turn" ? diaByTurn.get(r.source.id ?? "") : undefined;
      if (dia) out.add(dia);
    }
    cursor = page.cursor;
  } while (cursor);
  return out;
}

function smallest(cs: LocomoConversation[]): LocomoConversation {
  return cs.reduce((a, b) => (b.turns.length < a.turns.length ? b : a));
}

function newTables(): Record<System, ScoreTable> {
  return mapSystems(() => new ScoreTable());
}

function mapSystems<T>(f: (s: System) => T): Record<System, T> {
  return Object.fromEntries(SYSTEMS.map((s) => [s, f(s)])) as Record<System, T>;
}

export { CATEGORY_NAMES };
