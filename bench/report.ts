// The report: machine, commit and date, then one Markdown table per measurement. The same Markdown goes to
// stdout and to bench/results/<name>.md; the raw figures go to bench/results/<name>.json.

import { execFileSync } from "node:child_process";
import os from "node:os";
import type { EconomyReport } from "./economy.js";
import type { ExtractionReport } from "./extraction.js";
import { CATEGORY_NAMES, SYSTEMS, type LocomoReport } from "./locomo.js";
import { CHANNELS, type Channel } from "./locomo-channels.js";
import { METRIC_LABELS, METRICS } from "./metrics.js";
import type { ScaleReport } from "./scale.js";
import type { PostgresScaleReport } from "./scale-postgres.js";
import type { SoakReport } from "./soak.js";
import { renderPostgres, type PostgresReport } from "./postgres.js";
import { renderTier2, type Tier2Report } from "./tier2.js";
import { renderAnswers, type AnswersReport } from "./answers.js";
import { renderRest, type RestReport } from "./rest.js";
import { formatBytes, formatSize, type Latency } from "./stats.js";

export interface BenchResults {
  meta: ReturnType<typeof machine> & { date: string; commit: string | null; mode: string; args: string[]; wallSeconds: Record<string, number> };
  locomo?: LocomoReport;
  scale?: (ScaleReport | { size: number; error: string })[];
  scalePostgres?: (PostgresScaleReport | { size: number; error: string })[];
  economy?: EconomyReport;
  soak?: SoakReport;
  tier2?: Tier2Report;
  answers?: AnswersReport;
  extraction?: ExtractionReport;
  postgres?: PostgresReport;
  rest?: RestReport;
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memory: formatBytes(os.totalmem()),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

export function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
  } catch {
    return null; // not a git checkout, or git missing: the report says so rather than failing
  }
}

const f = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits));
const ms = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(1)}%`);
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : "–");

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

const CHANNEL_LABELS: Record<Channel, string> = {
  vector: "vector (records)",
  fts: "FTS5 BM25 (records)",
  graph: "entity graph",
  passages: "BM25 (passages: the turns)",
  records: "records fused (= `query`)",
  fused: "records + passages fused (= `search`)",
};

const lat = (l: Latency) => [l.n, ms(l.p50), ms(l.p95), ms(l.p99)];

export function renderMarkdown(r: BenchResults): string {
  const m = r.meta;
  const out = [
    `# Spectron benchmarks`,
    "",
    `${m.date} · commit ${m.commit ?? "unknown"} · ${m.mode} run (\`${["npm run bench", ...(m.args.length ? ["--", ...m.args] : [])].join(" ")}\`)`,
    `Machine: ${m.cpu} × ${m.cores}, ${m.memory} RAM, ${m.os}, Node ${m.node}.`,
    `Wall time: ${Object.entries(m.wallSeconds).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(", ")}.`,
    "",
    "One run on a noisy machine: medians and percentiles of that run, ratios against baselines; nothing here is asserted.",
  ];
  if (r.locomo) out.push("", ...renderLocomo(r.locomo));
  if (r.scale) out.push("", ...renderScale(r.scale));
  if (r.scalePostgres) out.push("", ...renderScalePostgres(r.scalePostgres));
  if (r.economy) out.push("", ...renderEconomy(r.economy));
  if (r.soak) out.push("", ...renderSoak(r.soak));
  if (r.postgres) out.push("", ...renderPostgres(r.postgres));
  if (r.tier2) out.push("", ...renderTier2(r.tier2));
  if (r.answers) out.push("", ...renderAnswers(r.answers));
  if (r.extraction) out.push("", ...renderExtraction(r.extraction));
  if (r.rest) out.push("", ...renderRest(r.rest));
  return out.join("\n") + "\n";
}

function renderLocomo(l: LocomoReport): string[] {
  const out = ["## LoCoMo retrieval (retrieval only, no LLM)", ""];
  if (l.skipped || !l.stats || !l.scores || !l.coverage || !l.latencyMs) return [...out, `Skipped: ${l.skipped}`];
  const s = l.stats;
  out.push(
    `Questions of categories 1–4 scored: **${s.scoredHere}** (of ${s.scoredCat1to4 + s.droppedCat1to4} in the file; ${s.droppedCat1to4} dropped because their evidence does not resolve; ` +
      `${s.resolvedAll} of ${s.questionsAll} questions resolve after normalisation). Conversations: ${s.conversationsHere.join(", ")}. ` +
      `Spectron: \`memory.search(question, { scope, limit: 20 })\`: the records extracted from every turn and the turns themselves as passages, fused; each result mapped to its turn's dia_id; ` +
      `baselines over the raw turn texts: BM25 (FTS5) and exact cosine with the same embedder (local:hash-384).`,
    "",
  );
  for (const split of ["dev", "test"] as const) {
    const sc = l.scores[split];
    if (!sc.spectron.all) continue;
    out.push(`**${split === "dev" ? "Development split (samples 0–4, for tuning)" : "Test split (samples 5–9, reported)"}** — overall`, "");
    out.push(
      table(
        ["System", "n", ...METRICS.map((k) => METRIC_LABELS[k]), "R@10 vs BM25"],
        SYSTEMS.map((sys) => {
          const a = sc[sys].all!;
          return [sys === "spectron" ? "**Spectron**" : sys === "bm25" ? "BM25 only" : "Vector only", a.n, ...METRICS.map((k) => f(a[k], 3)), ratio(a.r10, sc.bm25.all!.r10)];
        }),
      ),
      "",
    );
    const cats = Object.keys(sc.spectron).filter((k) => k !== "all");
    out.push(
      table(
        ["Category", "n", "Spectron R@10", "BM25 R@10", "Vector R@10", "Spectron MRR", "BM25 MRR", "Vector MRR"],
        cats.map((c) => [`${c} ${CATEGORY_NAMES[Number(c)]}`, sc.spectron[c]!.n, f(sc.spectron[c]!.r10, 3), f(sc.bm25[c]!.r10, 3), f(sc.vector[c]!.r10, 3), f(sc.spectron[c]!.mrr, 3), f(sc.bm25[c]!.mrr, 3), f(sc.vector[c]!.mrr, 3)]),
      ),
      "",
    );
  }
  if (l.channels?.fused.all) {
    const ch = l.channels;
    out.push(
      "Spectron's retrieval channels scored alone on the development split (candidate lists of `retrieve`, 50 each; a tuning aid):",
      "",
      table(
        ["Channel", "n", ...METRICS.map((k) => METRIC_LABELS[k])],
        CHANNELS.map((c) => [CHANNEL_LABELS[c], ch[c].all?.n ?? 0, ...METRICS.map((k) => f(ch[c].all?.[k], 3))]),
      ),
      "",
      "R@10 per category, development split (the fusion should be no worse than its best channel in each):",
      "",
      table(
        ["Channel", ...Object.keys(ch.fused).filter((k) => k !== "all").map((k) => `${k} ${CATEGORY_NAMES[Number(k)]}`)],
        CHANNELS.map((c) => [CHANNEL_LABELS[c], ...Object.keys(ch.fused).filter((k) => k !== "all").map((k) => f(ch[c][k]?.r10, 3))]),
      ),
      "",
    );
  }
  out.push(
    "Coverage of Spectron's records (the local rule-based extractor writes nothing for questions, greetings and other social turns):",
    "",
    table(
      ["Split", "Turns", "Turns with ≥1 record at ingest", "Turns with a live record at question time", "Evidence turns with a live record"],
      (["dev", "test"] as const).filter((s) => l.coverage![s].turns > 0).map((s) => [s, l.coverage![s].turns, pct(l.coverage![s].coverageIngest), pct(l.coverage![s].coverageLive), pct(l.coverage![s].evidenceReachable)]),
    ),
    "",
    table(["Per question (ms)", "n", "p50", "p95", "p99"], SYSTEMS.map((sys) => [sys, ...lat(l.latencyMs![sys])])),
    "",
    `Ingest, local models: ${(l.conversations ?? []).map((c) => `${c.sampleId} ${c.ingestTurnsPerSec.toFixed(0)}`).join(", ")} turns/s (incl. the background pass).`,
  );
  if (l.growth && l.growth.conversations.length > 0) {
    const g = l.growth;
    out.push(
      "",
      `**Ingest as the store grows**: every conversation into one store and Context, one scope each, in order; ms per turn including the background pass. ` +
        `Last conversation over first: **${f(g.lastOverFirst, 2)}×** wall time, **${f(g.cpuLastOverFirst, 2)}×** CPU time (steadier on a shared machine). ` +
        `The last conversation again, alone in a fresh store: ${f(g.lastAlone.msPerTurn, 2)} ms/turn, ${f(g.lastAlone.cpuMsPerTurn, 2)} CPU ms/turn; ` +
        `in the full store over alone (the same turns): **${f(g.lastAlone.fullOverAlone, 2)}×** wall, **${f(g.lastAlone.cpuFullOverAlone, 2)}×** CPU.`,
      "",
      table(
        ["Conversation", "Turns", "Records in the store before", "ms/turn (wall)", "CPU ms/turn"],
        g.conversations.map((c) => [c.sampleId, c.turns, c.storeRecordsBefore, f(c.msPerTurn, 2), f(c.cpuMsPerTurn, 2)]),
      ),
      "",
      `Background model calls during that ingest (reflection + background stages): **${f(g.backgroundCallsPerTurn, 3)} per ingested turn**, ${f(g.backgroundTokensPerTurn, 1)} tokens per turn.`,
    );
  }
  if (l.mechanisms) {
    const m = l.mechanisms;
    const r10 = (side: "off" | "on", split: string) => f(m.recall[side][split]?.all?.r10 ?? Number.NaN, 3);
    out.push(
      "",
      `**Consolidation and elaboration** (${m.conversations.join(", ")}; ${m.turns} turns): background calls during ingest ` +
        `${f(m.ingest.callsPerTurn, 3)} per turn (${f(m.ingest.tokensPerTurn, 1)} tokens); one consolidation and one elaboration sweep ` +
        `after ingest (a day of sweeps): ${m.sweeps.calls} calls, ${m.sweeps.tokens} tokens (${f(m.sweeps.callsPerTurn, 4)} calls, ` +
        `${f(m.sweeps.tokensPerTurn, 2)} tokens per ingested turn), ${m.sweeps.observations} observations, ${m.sweeps.relations} relations.`,
      "",
      table(
        ["Split", "R@10, mechanisms off", "R@10, after the sweeps"],
        ["dev", "test"].map((s) => [s, r10("off", s), r10("on", s)]),
      ),
    );
  }
  return out;
}

function renderScale(list: NonNullable<BenchResults["scale"]>): string[] {
  const out = ["## Scale (synthetic users, local models, file-backed store)", ""];
  const ok = list.filter((s): s is ScaleReport => !("error" in s));
  for (const s of list) if ("error" in s) out.push(`Size ${formatSize(s.size)} failed: ${s.error.split("\n")[0]}`, "");
  if (ok.length === 0) return out;
  out.push(
    "Stores are bulk-loaded through the reconciler (bench/bulk.ts; `memory.ingest` is measured separately below). 70% of turns are users' own " +
      "(scope `{ user }`), 30% Context-wide notes (scope `{}`), which every user scope also sees: the small-scope row is measured before the notes " +
      "(and the handbook documents, added through `memory.knowledge.add` in scope `{}`) are loaded. Live records count the documents' knowledge facts; " +
      "hnswlib build is the background insertion of every record vector written by the bulk load.",
    "",
    table(
      ["Size (turns)", "Live records", "Users", "Documents (chunks)", "Bulk load turns/s", "knowledge.add docs/s", "hnswlib build", "µs/vector", "DB file", ".hnsw files", "Bytes/record", "Peak RSS"],
      ok.map((s) => [formatSize(s.size), s.liveRecords, s.users, `${s.knowledge.documents} (${s.knowledge.chunks})`, s.bulk.turnsPerSec, s.knowledge.docsPerSec, `${(s.bulk.annBuildMs / 1000).toFixed(1)} s`, s.bulk.annBuildUsPerVector, formatBytes(s.files.dbBytes), formatBytes(s.files.hnswBytes), s.files.bytesPerRecord, formatBytes(s.peakRssBytes)]),
    ),
    "",
    "**Ingest through `memory.ingest`** (local rule-based extractor + hash embedder; per call, then turns/s including the background pass):",
    "",
    table(
      ["Size", "Store", "Turns", "p50 ms", "p99 ms", "Sync turns/s", "Sustained turns/s"],
      ok.flatMap((s) => [
        [formatSize(s.size), "empty", s.ingest.emptyStore.turns, ms(s.ingest.emptyStore.perCall.p50), ms(s.ingest.emptyStore.perCall.p99), s.ingest.emptyStore.syncTurnsPerSec, s.ingest.emptyStore.sustainedTurnsPerSec],
        [formatSize(s.size), `full (${s.liveRecords} records)`, s.ingest.fullStore.turns, ms(s.ingest.fullStore.perCall.p50), ms(s.ingest.fullStore.perCall.p99), s.ingest.fullStore.syncTurnsPerSec, s.ingest.fullStore.sustainedTurnsPerSec],
      ]),
    ),
    "",
    "**Recall latency per tier** (ms). Tier 1: exact repeat; tier 2: paraphrase with `config.cache({ similarity: 0.6 })`; tier 3 retrieval: `memory.query` (no response model); tier 3 recall: `memory.recall` with the local response model.",
    "",
    table(
      ["Size", "Path", "Visible records", "n", "p50", "p95", "p99"],
      ok.flatMap((s) => [
        [formatSize(s.size), "tier 1 (recall, exact repeat)", "–", ...lat(s.tiers.tier1)],
        [formatSize(s.size), `tier 2 (recall, paraphrase; ${pct(s.tiers.tier2HitShare)} of paraphrases hit)`, "–", ...lat(s.tiers.tier2)],
        [formatSize(s.size), `tier 3 retrieval, one user's scope before notes (store: ${s.query.smallScope.storeRecords} records)`, s.query.smallScope.visible, ...lat(s.query.smallScope)],
        [formatSize(s.size), "tier 3 retrieval, user scope (own + Context-wide notes)", s.query.userScope.visible, ...lat(s.query.userScope)],
        [formatSize(s.size), "tier 3 retrieval, Context-wide scope `{}`", s.query.contextWide.visible, ...lat(s.query.contextWide)],
        [formatSize(s.size), "tier 3 recall (retrieval + local response model)", "–", ...lat(s.tiers.tier3Recall)],
      ]),
    ),
    "",
    table(
      ["Size", "Queries", "ANN recall@10 vs exact", "Exact top-10 in ANN top-50", "Queries with ANN recall 0", "hnswlib search p50 ms", "sqlite-vec exact KNN p50 ms", "Speed-up"],
      ok.map((s) => [formatSize(s.size), s.ann.n, f(s.ann.recallAt10, 3), f(s.ann.top10InAnnTop50, 3), s.ann.zeroRecallQueries, ms(s.ann.annSearch.p50), ms(s.ann.exactKnn.p50), ratio(s.ann.exactKnn.p50, s.ann.annSearch.p50)]),
    ),
    "",
    table(
      ["Size", ".hnsw sidecar", "Open (constructor) ms", "ANN ready at open", "First Context-wide query ms", "Then ANN ready after ms"],
      ok.flatMap((s) => [
        [formatSize(s.size), "present", ms(s.open.withSidecar.constructMs), s.open.withSidecar.readyAtOpen ? "yes" : "no", ms(s.open.withSidecar.firstQueryMs), ms(s.open.withSidecar.readyAfterFirstQueryMs)],
        [formatSize(s.size), "deleted (rebuild)", ms(s.open.withoutSidecar.constructMs), s.open.withoutSidecar.readyAtOpen ? "yes" : "no", ms(s.open.withoutSidecar.firstQueryMs), s.open.withoutSidecar.readyTimedOut ? "not ready when the bench gave up" : ms(s.open.withoutSidecar.readyAfterFirstQueryMs)],
      ]),
    ),
    "",
    "**Sweeps** 8 days later (decay of every context/knowledge record; expiry of context facts past their 7-day TTL), with tier-1 recalls issued back to back while each runs:",
    "",
    table(
      ["Size", "Decay ms", "Records decayed", "Recalls during decay", "Expire ms", "Records expired", "Recalls during expiry (n, p50, max ms)", "Recall p50 before ms"],
      ok.map((s) => [
        formatSize(s.size),
        ms(s.sweeps.decay.ms),
        s.sweeps.decay.changed,
        s.sweeps.decay.probes.n ? `${s.sweeps.decay.probes.n}, max ${ms(s.sweeps.decay.probes.max)}` : "0 (one synchronous transaction)",
        ms(s.sweeps.expire.ms),
        s.sweeps.expire.changed,
        `${s.sweeps.expire.probes.n}, ${ms(s.sweeps.expire.probes.p50)}, ${ms(s.sweeps.expire.probes.max)}`,
        ms(s.sweeps.probeBefore.p50),
      ]),
    ),
  );
  return out;
}

function renderScalePostgres(list: NonNullable<BenchResults["scalePostgres"]>): string[] {
  const out = ["## Scale on PostgreSQL (the corpus of the scale section, local models, every instance on one PostgreSQL database)", ""];
  const ok = list.filter((s): s is PostgresScaleReport => !("error" in s));
  for (const s of list) if ("error" in s) out.push(`Size ${formatSize(s.size)} failed: ${s.error.split("\n")[0]}`, "");
  if (ok.length === 0) return out;
  const sizes = ok.map((s) => formatSize(s.size));
  const row = (label: string, cell: (s: PostgresScaleReport) => string | number) => [label, ...ok.map(cell)];
  const latencyCell = (l: Latency) => `${ms(l.p50)} / ${ms(l.p99)} (n ${l.n})`;
  const ingestCell = (i: PostgresScaleReport["ingest"]["emptyStore"]) => `${ms(i.perCall.p50)} / ${ms(i.perCall.p99)} ms; ${i.syncTurnsPerSec} turns/s (${i.sustainedTurnsPerSec} with the background pass)`;
  out.push(
    "Stores are bulk-loaded through the store interface (bench/bulk.ts `bulkLoadStore`: `store.storeTurns` for 500 turns at a time, then " +
      "`store.extractTurn` per turn with what the local extractor and embedder made of it, several users' scopes at once, each scope in order; " +
      "no background pass); ingest, `query` and `recall` are measured through the public API. Latencies: p50 / p99 ms.",
    "",
    table(
      ["Measure", ...sizes],
      [
        row("Live records (users)", (s) => `${s.liveRecords} (${s.users})`),
        row("Nearest-neighbour search", (s) => s.vectors),
        row("Bulk load, turns/s (scopes at once)", (s) => `${s.bulk.turnsPerSec} (${s.bulk.lanes})`),
        row("`knowledge.add` documents/s (documents, chunks)", (s) => `${s.knowledge.docsPerSec} (${s.knowledge.documents}, ${s.knowledge.chunks})`),
        row("Ingest per turn (`memory.ingest`), empty store", (s) => ingestCell(s.ingest.emptyStore)),
        row("Ingest per turn, full store", (s) => ingestCell(s.ingest.fullStore)),
        row("Tier 1 (`recall`, exact repeat)", (s) => latencyCell(s.tiers.tier1)),
        row(`Tier 2 (\`recall\`, paraphrase, similarity 0.6)`, (s) => `${latencyCell(s.tiers.tier2)}; ${pct(s.tiers.tier2HitShare)} hit`),
        row("Tier 3 retrieval (`query`), one user's scope before the notes", (s) => `${latencyCell(s.query.smallScope)}; ${s.query.smallScope.visible} visible`),
        row("Tier 3 retrieval, user scope (own + Context-wide notes)", (s) => `${latencyCell(s.query.userScope)}; ${s.query.userScope.visible} visible`),
        row("Tier 3 retrieval, Context-wide scope `{}`", (s) => `${latencyCell(s.query.contextWide)}; ${s.query.contextWide.visible} visible`),
        row("Tier 3 recall (retrieval + local response model)", (s) => latencyCell(s.tiers.tier3Recall)),
        row("First Context-wide query of the instance (builds its in-process index from the table)", (s) => `${ms(s.firstContextWideMs)} ms`),
        row("First Context-wide query of a new instance (loads the index snapshot, replays the log since)", (s) =>
          s.reopenedFirstContextWideMs === undefined ? "–" : `${ms(s.reopenedFirstContextWideMs)} ms`,
        ),
        row("ANN recall@10 vs exact, scope `{}` (`store.nearestRecords`; queries with recall 0)", (s) => `${f(s.ann.recallAt10, 3)} (${s.ann.zeroRecallQueries} of ${s.ann.n})`),
        row("`nearestRecords` k=10 ANN / exact p50", (s) => `${ms(s.ann.annSearch.p50)} / ${ms(s.ann.exactSearch.p50)} ms`),
        row("Database size (both Contexts) / peak RSS of the process", (s) => `${formatBytes(s.databaseBytes)} / ${formatBytes(s.peakRssBytes)}`),
      ],
    ),
    "",
    "Not measured on PostgreSQL: the `.hnsw` sidecar and open time with and without it, file sizes and bytes per record (SQLite files; " +
      "the database size above stands in), and the decay and expiry sweeps under load.",
  );
  return out;
}

function renderEconomy(e: EconomyReport): string[] {
  const s = e.similarity;
  const first = e.runs[0]!;
  return [
    "## Model economy (local models; calls counted through `memory.usage()`)",
    "",
    `Per ingested turn: **${f(first.perTurn.syncCalls)} synchronous model calls** (${Object.entries(first.perTurn.stages).map(([k, v]) => `${k} ${f(v.calls)}`).join(", ")}), ` +
      `${f(first.perTurn.syncTokens, 0)} tokens (local token counts are word-based estimates), ${f(first.perTurn.backgroundCalls)} background calls.`,
    "",
    `Workload: ${first.users} users, ${first.ingestedTurns} profile turns, then ${first.recalls} recalls (40% exact repeats, otherwise a random paraphrase of ` +
      `${s.groups} groups, ${s.paraphrases} paraphrases) interleaved with ${first.writesDuringWorkload} writes that change plan, city, employer or likes. ` +
      `Hash-embedder cosine of paraphrases: within a group median ${f(s.withinMedian)} (p10 ${f(s.withinP10)}); across groups median ${f(s.acrossMedian)}, p99 ${f(s.acrossP99)}, max ${f(s.acrossMax)}.`,
    "",
    table(
      ["Tier-2 threshold", "Tier 1", "Tier 2", "Tier 3", "Model calls / recall", "Calls at tier 1 / 2 / 3", "Tokens at tier 3", "Stale cached answers", "Tier-2 answers never given to that question (upper bound of wrong reuse)"],
      e.runs.map((r) => [
        r.threshold,
        pct(r.tierShare[1]),
        pct(r.tierShare[2]),
        pct(r.tierShare[3]),
        f(r.callsPerRecall),
        `${f(r.perRecall[1]?.calls)} / ${f(r.perRecall[2]?.calls)} / ${f(r.perRecall[3]?.calls)}`,
        f(r.perRecall[3]?.tokens, 0),
        `${r.freshness.cachedStale} of ${r.freshness.cachedStale + r.freshness.cachedWithValue}`,
        `${r.tier2FromOtherQuestion} of ${r.perRecall[2]?.n ?? 0}`,
      ]),
    ),
    "",
    "Stale: after a write changed a single-valued answer (plan, city, employer), a tier-1/2 answer that does not carry the new value.",
  ];
}

function renderSoak(s: SoakReport): string[] {
  const errors = (e: Record<string, number>) => Object.entries(e).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  return [
    `## Soak (${s.minutes} min, file-backed, schedule on: decay every ${s.schedule.decay / 1000} s, expiry ${s.schedule.expire / 1000} s, retry ${s.schedule.retry / 1000} s; a second process ingesting into the same file; clock at one hour per second)`,
    "",
    "| Measure | Value |",
    "| --- | --- |",
    `| Turns ingested (this process / second process) | ${s.ingested.main} / ${s.ingested.writer} |`,
    `| Recalls | ${s.recalls} |`,
    `| Sweeps completed (decay / expiry; records expired) | ${s.sweeps.decay} / ${s.sweeps.expire}; ${s.sweeps.expired_records} |`,
    `| Stalls (an operation or idle() over 10 s) | ${s.stalls} |`,
    `| idle() p50 / p99 / slowest | ${ms(s.idleMs.p50)} / ${ms(s.idleMs.p99)} / ${ms(s.slowestIdleMs)} |`,
    `| ingest p50 / p99 | ${ms(s.ingestMs.p50)} / ${ms(s.ingestMs.p99)} |`,
    `| recall p50 / p99 | ${ms(s.recallMs.p50)} / ${ms(s.recallMs.p99)} |`,
    `| Slowest operation | ${ms(s.slowestOpMs)} |`,
    `| RSS at start / after 1 min / at end / max (MiB) | ${s.rss.startMiB} / ${s.rss.warmMiB} / ${s.rss.endMiB} / ${s.rss.maxMiB} |`,
    `| RSS end ÷ after 1 min | ${s.rss.endOverWarm}× |`,
    `| Errors (this process) | ${errors(s.errors)} |`,
    `| Errors (second process) | ${errors(s.writerErrors)} |`,
    `| close() | ${ms(s.closeMs)} |`,
  ];
}

function renderExtraction(e: ExtractionReport): string[] {
  const label = { dev: "dev (looked at while writing the rules)", heldout: "held-out (written before tuning, never tuned on)" } as const;
  return [
    "## Offline extraction (local:rules, `bench/extraction-set.json`)",
    "",
    "Each hand-written sentence goes through a real Spectron with the local models, after the turns said before it, in a scope of its own; " +
      "the record it leaves (the one with the expected attribute, else the first) and what it did to the earlier records are compared with the labels. " +
      "Outcome: superseded or flagged when an earlier record was, else updated (a restatement), created, or none (no record).",
    "",
    table(
      ["Part", "n", "Category + kind", "Attribute", "Subject", "Value (loose)", "Outcome", "Identity facts kept as identity", "Records per turn"],
      (["dev", "heldout"] as const).map((k) => {
        const s = e.scores[k];
        return [label[k], s.n, pct(s.categoryKind), pct(s.attribute), pct(s.subject), pct(s.value), pct(s.outcome), pct(s.identityRecall), f(s.recordsPerTurn)];
      }),
    ),
    "",
    "Targets (issue 12): category + kind ≥ 95%, outcome ≥ 90%.",
  ];
}
