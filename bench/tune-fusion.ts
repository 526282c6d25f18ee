// Tuning aid, development split ONLY (LoCoMo samples 0–4): ingests those conversations once, then scores
// `retrieve`'s fused results (= memory.search) for each setting of the fusion weights given on the command
// line (FUSION_WEIGHTS keys; PASSAGE_SCORING keys prefixed "p."):
// `npx tsx bench/tune-fusion.ts 'passage=1,fts=0.5' 'p.speaker=0,p.feedbackDocs=0' …`. Tuning never reads the test
// split; TUNE_SPLIT=test reads it once, at the end, with the settings chosen (TUNE_INGEST_ONLY=1 only ingests
// and caches the stores, scoring nothing).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Spectron } from "../src/index.js";
import { createLocalLanguageModel } from "../src/models/local/index.js";
import { queryUnderstandingPrompt } from "../src/models/prompts/query-understanding.js";
import { retrieve } from "../src/pipeline/recall/hybrid.js";
import { visibleScopeKeys } from "../src/store/scope.js";
import { coreOf } from "./bulk.js";
import { dedupe, scoreRanking, ScoreTable } from "./metrics.js";
import { applySetting, tuningConversations, tuningSettings } from "./tuning.js";
import { Bm25Baseline } from "./baselines.js";

const dev = tuningConversations();
const settings = tuningSettings();
const tables = settings.map(() => new ScoreTable());
const bm25Table = new ScoreTable();
// The passage channel alone and the fused records alone (= `query`), at the default settings: the fusion should
// be no worse than the best of them in any category.
const passageTable = new ScoreTable();
const recordsTable = new ScoreTable();

// Each conversation's store is kept in a file (TUNE_CACHE, default the OS temp dir) and reopened by later runs:
// ingest is most of the time, and tuning changes only retrieval. Delete the files after changing ingest.
const cacheDir = process.env.TUNE_CACHE ?? os.tmpdir();
for (const conv of dev) {
  let now = conv.turns[0]!.at;
  const file = path.join(cacheDir, `spectron-tune-${conv.sampleId}.db`);
  const cached = fs.existsSync(file);
  if (!cached && process.env.TUNE_CACHED_ONLY) continue;
  const memory = new Spectron({ context: "tune", path: file, clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  const scope = { conversation: conv.sampleId };
  if (!cached) {
    await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "36500d" }]);
    for (const [i, turn] of conv.turns.entries()) {
      now = turn.at + i * 1000;
      await memory.ingest({ role: "user", content: turn.text, scope, speaker: turn.speaker, occurred_at: turn.at, metadata: { dia_id: turn.diaId } });
    }
    await memory.idle();
  }
  if (process.env.TUNE_INGEST_ONLY) {
    await memory.close();
    process.stderr.write(`${conv.sampleId} ingested\n`);
    continue;
  }
  const dia = new Map(
    (coreOf(memory).sqlite!.db.prepare("SELECT id, metadata FROM turns").all() as { id: number; metadata: string }[]).map((t) => [`turn_${t.id}`, JSON.parse(t.metadata).dia_id as string]),
  );
  now = conv.turns[conv.turns.length - 1]!.at + 86_400_000;
  const core = coreOf(memory);
  const embedder = core.models.embedder();
  const rules = createLocalLanguageModel("local:rules");
  const bm25 = new Bm25Baseline(conv.turns.map((t) => t.text));
  const sources = new Map(
    (core.sqlite!.db.prepare("SELECT id, source_id FROM records WHERE source_kind = 'turn'").all() as { id: number; source_id: string }[]).map((x) => [x.id, x.source_id]),
  );
  const recordSource = (id: number) => sources.get(id) ?? "";
  for (const q of conv.questions) {
    const vector = (await embedder.embed([q.question])).vectors[0];
    const understanding = (await rules.generate(queryUnderstandingPrompt, { query: q.question })).value;
    bm25Table.add(String(q.category), scoreRanking(dedupe(bm25.query(q.question, 20).map((i) => conv.turns[i]!.diaId)), q.evidence));
    for (const [i, s] of settings.entries()) {
      applySetting(s);
      const r = await retrieve(core, { query: q.question, vector, embeddingModel: embedder.id, understanding, scopeKeys: visibleScopeKeys(scope), limit: 20, now: core.now() });
      const turns = r.results.map((x) => (x.kind === "record" ? x.row.source_id ?? "" : `turn_${x.passage.id}`));
      tables[i]!.add(String(q.category), scoreRanking(dedupe(turns.map((t) => dia.get(t))), q.evidence));
      if (i === 0) {
        passageTable.add(String(q.category), scoreRanking(dedupe(r.passages.map((p) => dia.get(`turn_${p.id}`))), q.evidence));
        recordsTable.add(String(q.category), scoreRanking(dedupe(r.fused.map((f) => dia.get(recordSource(f.id)))), q.evidence));
      }
    }
  }
  bm25.close();
  await memory.close();
  process.stderr.write(`${conv.sampleId} done\n`);
}
const row = (name: string, t: ScoreTable) => {
  const s = t.summary();
  return `${name.padEnd(48)} all ${s.all!.r10.toFixed(3)} | ${Object.keys(s).filter((k) => k !== "all").map((k) => `${k}: ${s[k]!.r10.toFixed(3)}`).join("  ")}`;
};
if (process.env.TUNE_INGEST_ONLY) process.exit(0);
console.log(row("bm25 baseline", bm25Table));
console.log(row("passages channel (settings 1)", passageTable));
console.log(row("records fused = query (settings 1)", recordsTable));
settings.forEach((s, i) => console.log(row(JSON.stringify(s), tables[i]!)));
