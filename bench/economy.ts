// Model economy: model calls and tokens per ingested turn and per recall (from `stageUsage(memory)` deltas, which
// count every model call per stage), and the share of recalls answered at tiers 1 and 2 on a workload of
// repeated and paraphrased questions (bench/paraphrases.ts) interleaved with writes that change answers.
// The workload runs twice: at the default tier-2 threshold (0.95) and at the one suited to the hash embedder.

import { Spectron } from "../src/index.js";
import type { StageUsage } from "../src/index.js";
import { createLocalEmbeddingModel } from "../src/models/local/index.js";
import { allParaphrases, PARAPHRASE_GROUPS } from "./paraphrases.js";
import { Progress } from "./progress.js";
import { EMBEDDING, TIER2_SIMILARITY } from "./scale-measure.js";
import { median, percentile, pick, prng, round } from "./stats.js";

type Usage = Partial<Record<string, StageUsage>>;
const SYNC_STAGES = ["extraction", "embedding", "query_understanding", "response"];

/** The profile and chit-chat turns one user states, worded so that each paraphrase group has facts to find. */
function profileTurns(u: number): string[] {
  const c = ["Porto", "Berlin", "Kyoto", "Austin", "Dublin", "Lagos", "Quito", "Perth"];
  return [
    `My name is ${["Ana", "Ben", "Chloe", "Dev", "Eli", "Farah", "Gus", "Hana"][u % 8]} ${["Costa", "Novak", "Silva", "Weber"][u % 4]}.`,
    `I'm on the ${["Free", "Pro", "Team"][u % 3]} plan.`,
    `I live in ${c[u % c.length]}.`,
    `I work at ${["Northwind Labs", "Globex Media", "Initech Bank"][u % 3]}.`,
    `I work as a ${["nurse", "teacher", "designer", "chef"][u % 4]}.`,
    `I love ${["hiking", "jazz", "chess", "sailing"][u % 4]} and ${["pottery", "yoga", "cycling"][u % 3]}.`,
    `I hate ${["cilantro", "olives", "mushrooms"][u % 3]}.`,
    `I spent the weekend kayaking with my sister near ${c[(u + 1) % c.length]}.`,
    `My brother Tom is visiting from ${c[(u + 2) % c.length]} next Friday.`,
    `I had ramen for lunch with Priya from Globex Media.`,
    `Our Atlas demo went well on Tuesday.`,
    `I'm reading a book about volcanoes.`,
    `I need to renew my passport before the trip to ${c[(u + 3) % c.length]} in May.`,
    `My flight to Oslo on Monday was delayed by 3 hours.`,
    `I ran 25 kilometres this week.`,
  ];
}

function diff(after: Usage, before: Usage) {
  const out: Record<string, { calls: number; tokens: number }> = {};
  for (const [stage, u] of Object.entries(after)) {
    const b = before[stage];
    const calls = u!.calls - (b?.calls ?? 0);
    const tokens = u!.input_tokens + u!.output_tokens - ((b?.input_tokens ?? 0) + (b?.output_tokens ?? 0));
    if (calls > 0) out[stage] = { calls, tokens };
  }
  return out;
}

/** Per-stage usage, without `budget` (the budget window, not a stage). */
const stageUsage = (memory: Spectron): Usage => {
  const { budget: _budget, ...stages } = memory.usage();
  return stages;
};

const sum = (d: Record<string, { calls: number; tokens: number }>, stages: string[], key: "calls" | "tokens") =>
  stages.reduce((s, st) => s + (d[st]?.[key] ?? 0), 0);

export async function runEconomy(options: { quick: boolean }) {
  const similarity = await paraphraseSimilarity();
  const runs = [];
  for (const threshold of [0.95, TIER2_SIMILARITY]) runs.push(await workload(threshold, options.quick));
  return { similarity, runs };
}

/** Cosine similarity of paraphrases within a group vs across groups, with the embedder the workload uses. */
async function paraphraseSimilarity() {
  const items = allParaphrases();
  const vectors = (await createLocalEmbeddingModel(EMBEDDING).embed(items.map((i) => i.text))).vectors;
  const within: number[] = [];
  const across: number[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      let dot = 0;
      for (let d = 0; d < vectors[i]!.length; d++) dot += vectors[i]![d]! * vectors[j]![d]!;
      (items[i]!.group === items[j]!.group ? within : across).push(dot);
    }
  }
  return {
    groups: PARAPHRASE_GROUPS.length,
    paraphrases: items.length,
    withinMedian: round(median(within)),
    withinP10: round(percentile(within, 10)),
    acrossMedian: round(median(across)),
    acrossP99: round(percentile(across, 99)),
    acrossMax: round(Math.max(...across)),
  };
}

async function workload(threshold: number, quick: boolean) {
  const rand = prng(7);
  const users = quick ? 4 : 12;
  const operations = quick ? 300 : 1500;
  let now = Date.UTC(2026, 2, 2, 9);
  const memory = new Spectron({ context: "bench-economy", clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  const progress = new Progress(`economy (tier-2 threshold ${threshold})`, users + operations);
  try {
    await memory.config.cache({ similarity: threshold });
    let before = stageUsage(memory);
    let turns = 0;
    for (let u = 0; u < users; u++) {
      for (const content of profileTurns(u)) (await memory.ingest({ content, scope: { user: `u${u}` } }), turns++);
      progress.tick(u + 1);
    }
    const syncIngest = diff(stageUsage(memory), before);
    await memory.idle();
    const allIngest = diff(stageUsage(memory), before);

    const tiers = { 1: 0, 2: 0, 3: 0 };
    const perTier: Record<number, { n: number; calls: number; tokens: number }> = { 1: { n: 0, calls: 0, tokens: 0 }, 2: { n: 0, calls: 0, tokens: 0 }, 3: { n: 0, calls: 0, tokens: 0 } };
    const asked = new Map<string, string[]>(); // per user: questions asked so far, for exact repeats
    const latest = new Map<string, string>(); // `${user}|${group}` -> the value a changing write set last
    const check = { cachedWithValue: 0, cachedStale: 0, tier3WithValue: 0, tier3Without: 0 };
    // Answers tier 3 gave per (user, group): a tier-2 answer never given for the asked group came from a cached
    // answer to another question — an upper bound on wrong reuse by a too-low threshold.
    const answered = new Map<string, Set<string>>();
    let foreignTier2 = 0;
    let writes = 0;
    for (let op = 0; op < operations; op++) {
      now += 60_000;
      const u = Math.floor(rand() * users);
      const scope = { user: `u${u}` };
      if (rand() < 0.1) {
        // A write that changes the answer of one group (supersedes a plan, city, employer; adds a like).
        const changing = PARAPHRASE_GROUPS.filter((g) => g.changes);
        const g = pick(rand, changing);
        const turn = g.changes!(writes++);
        await memory.ingest({ content: turn, scope });
        // Single-valued attributes only: a new like adds to the old ones, so an answer without it is not stale.
        const value = /(?:the |to |at )([A-Z][\w ]*?)(?: plan| last month| now)?\.$/.exec(turn)?.[1];
        if (value && g.topic !== "likes") latest.set(`${scope.user}|${g.id}`, value);
        progress.tick(users + op + 1);
        continue;
      }
      const history = asked.get(scope.user) ?? [];
      let question: string;
      let group: number;
      if (history.length > 0 && rand() < 0.4) {
        question = pick(rand, history); // an exact repeat (tier 1 when the answer still stands)
        group = PARAPHRASE_GROUPS.findIndex((g) => g.paraphrases.includes(question));
      } else {
        group = Math.floor(rand() * PARAPHRASE_GROUPS.length);
        question = pick(rand, PARAPHRASE_GROUPS[group]!.paraphrases);
      }
      history.push(question);
      asked.set(scope.user, history);
      before = stageUsage(memory);
      const r = await memory.recall(question, { scope });
      const d = diff(stageUsage(memory), before);
      tiers[r.tier]++;
      const key = `${scope.user}|${group}`;
      if (r.tier === 3) answered.set(key, (answered.get(key) ?? new Set()).add(r.answer));
      if (r.tier === 2 && !answered.get(key)?.has(r.answer)) foreignTier2++;
      perTier[r.tier]!.n++;
      perTier[r.tier]!.calls += sum(d, SYNC_STAGES, "calls");
      perTier[r.tier]!.tokens += sum(d, SYNC_STAGES, "tokens");
      const value = latest.get(`${scope.user}|${PARAPHRASE_GROUPS[group]!.id}`);
      if (value) {
        const has = r.answer.toLowerCase().includes(value.toLowerCase());
        if (r.tier < 3) has ? check.cachedWithValue++ : check.cachedStale++;
        else has ? check.tier3WithValue++ : check.tier3Without++;
      }
      progress.tick(users + op + 1);
    }
    await memory.idle();
    progress.done();
    const recalls = tiers[1] + tiers[2] + tiers[3];
    return {
      threshold,
      users,
      ingestedTurns: turns,
      writesDuringWorkload: writes,
      recalls,
      perTurn: {
        syncCalls: round(sum(syncIngest, SYNC_STAGES, "calls") / turns),
        syncTokens: round(sum(syncIngest, SYNC_STAGES, "tokens") / turns, 1),
        backgroundCalls: round((sum(allIngest, Object.keys(allIngest), "calls") - sum(allIngest, SYNC_STAGES, "calls")) / turns),
        stages: Object.fromEntries(Object.entries(allIngest).map(([s, v]) => [s, { calls: round(v.calls / turns), tokens: round(v.tokens / turns, 1) }])),
      },
      tierShare: { 1: round(tiers[1] / recalls), 2: round(tiers[2] / recalls), 3: round(tiers[3] / recalls) },
      perRecall: Object.fromEntries(
        Object.entries(perTier).map(([t, v]) => [t, { n: v.n, calls: v.n ? round(v.calls / v.n, 2) : 0, tokens: v.n ? round(v.tokens / v.n, 1) : 0 }]),
      ),
      callsPerRecall: round((perTier[1]!.calls + perTier[2]!.calls + perTier[3]!.calls) / recalls, 2),
      // After a write changed a group's answer: did later answers carry the new value? Cached (tiers 1–2)
      // answers without it would be stale; tier-3 answers without it are retrieval misses.
      freshness: check,
      tier2FromOtherQuestion: foreignTier2,
    };
  } finally {
    await memory.close();
  }
}
export type EconomyReport = Awaited<ReturnType<typeof runEconomy>>;
