// Tuning aid, development split ONLY (LoCoMo samples 0–4), closer to `npm run bench -- --only=locomo` than
// tune-fusion.ts: for each setting, each conversation's ingested store (cached by tune-fusion.ts, TUNE_CACHE) is
// copied and its questions are asked in order through `memory.search`, as the bench does (reads reinforce
// records and write traces that feed ranking back), with the channels scored alone before each search.
// `TUNE_CACHE=/tmp/x npx tsx bench/tune-fusion.ts` first (TUNE_INGEST_ONLY=1), then
// `TUNE_CACHE=/tmp/x npx tsx bench/tune-search.ts 'timeAnswer=0' 'p.context=0.2' …` (keys as in tune-fusion.ts;
// TUNE_CHANNELS=0 skips scoring the channels alone, which reads nothing and changes nothing, at half the time).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Spectron } from "../src/index.js";
import { coreOf } from "./bulk.js";
import { channelRankings, CHANNELS, type Channel } from "./locomo-channels.js";
import { dedupe, scoreRanking, ScoreTable } from "./metrics.js";
import { applySetting, tuningConversations, tuningSettings } from "./tuning.js";

const convs = tuningConversations();
const settings = tuningSettings();
const cacheDir = process.env.TUNE_CACHE ?? os.tmpdir();
const DAY = 86_400_000;

for (const s of settings) {
  applySetting(s);
  const search = new ScoreTable();
  const channels = Object.fromEntries(CHANNELS.map((c) => [c, new ScoreTable()])) as Record<Channel, ScoreTable>;
  for (const conv of convs) {
    const cached = path.join(cacheDir, `spectron-tune-${conv.sampleId}.db`);
    if (!fs.existsSync(cached)) throw new Error(`${cached} missing: run bench/tune-fusion.ts with TUNE_INGEST_ONLY=1 first`);
    const file = path.join(os.tmpdir(), `spectron-tune-search-${process.pid}.db`);
    fs.copyFileSync(cached, file);
    let now = conv.turns[conv.turns.length - 1]!.at + DAY;
    const memory = new Spectron({ context: "tune", path: file, clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
    const scope = { conversation: conv.sampleId };
    const dia = new Map<string, string>();
    for (const t of coreOf(memory).sqlite!.db.prepare("SELECT id, metadata FROM turns").all() as { id: number; metadata: string }[]) {
      dia.set(`turn_${t.id}`, JSON.parse(t.metadata).dia_id as string);
    }
    for (const q of conv.questions) {
      const cat = String(q.category);
      if (process.env.TUNE_CHANNELS !== "0") {
        const ranked = await channelRankings(memory, q.question, scope, 20);
        for (const c of CHANNELS) channels[c].add(cat, scoreRanking(dedupe(ranked[c].map((turn) => dia.get(turn))), q.evidence));
      }
      const results = await memory.search(q.question, { scope, limit: 20 });
      const turnOf = (r: (typeof results)[number]) => (r.kind === "passage" ? r.passage.id : r.record.source.id ?? "");
      search.add(cat, scoreRanking(dedupe(results.map((r) => dia.get(turnOf(r)))), q.evidence));
    }
    await memory.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  }
  const row = (name: string, t: ScoreTable) => {
    const sum = t.summary();
    return `  ${name.padEnd(12)} all ${sum.all!.r10.toFixed(3)} | ${Object.keys(sum).filter((k) => k !== "all").map((k) => `${k}: ${sum[k]!.r10.toFixed(3)}`).join("  ")}`;
  };
  console.log(JSON.stringify(s));
  if (process.env.TUNE_CHANNELS !== "0") for (const c of ["passages", "records", "fused"] as const) console.log(row(c, channels[c]));
  console.log(row("search", search));
}
