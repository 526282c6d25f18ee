// The ranking feedback loop on and off (issue 3): LoCoMo questions asked in order through `recall` (so each
// tier-3 answer leaves a retrieval trace that later, similar questions can draw on), scored against evidence.
//   npx tsx bench/feedback.ts [--quick]
// One run; means over the questions of each split. Nothing is asserted.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Spectron } from "../src/index.js";
import { loadLocomo, type LocomoConversation } from "./locomo-data.js";
import { dedupe, ScoreTable, scoreRanking } from "./metrics.js";

const DAY = 86_400_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const data = loadLocomo(path.join(here, "..", "..", "shared", "data", "locomo", "locomo10.json"));
if (!data) {
  console.log("../shared/data/locomo/locomo10.json not found: feedback benchmark skipped.");
  process.exit(0);
}
const quick = process.argv.includes("--quick");
const conversations = quick ? data.conversations.slice(0, 2) : data.conversations;

async function run(conv: LocomoConversation, feedback: boolean, table: ScoreTable): Promise<void> {
  let now = conv.turns[0]?.at ?? 0;
  const memory = new Spectron({ context: "fb", clock: () => now, providers: {}, feedback, schedule: { decay: false, expire: false, retry: false } });
  await memory.config.retention([{ scope: {}, memory_category: "context", ttl: "36500d" }]);
  const scope = { conversation: conv.sampleId };
  const diaByTurn = new Map<string, string>();
  for (const [i, turn] of conv.turns.entries()) {
    now = turn.at + i * 1000;
    const r = await memory.ingest({ content: turn.text, scope, speaker: turn.speaker, occurred_at: turn.at });
    diaByTurn.set(r.turnId, turn.diaId);
  }
  await memory.idle();
  now = conv.turns[conv.turns.length - 1]!.at + DAY;
  for (const q of conv.questions) {
    const r = await memory.recall(q.question, { scope, limit: 20 });
    table.add(String(q.category), scoreRanking(dedupe(r.records.map((rec) => diaByTurn.get(rec.source.id ?? ""))), q.evidence));
  }
  await memory.close();
}

const results: Record<string, Record<"on" | "off", ScoreTable>> = { dev: { on: new ScoreTable(), off: new ScoreTable() }, test: { on: new ScoreTable(), off: new ScoreTable() } };
for (const conv of conversations) {
  for (const mode of ["off", "on"] as const) {
    process.stderr.write(`\rfeedback ${mode}: ${conv.sampleId}   `);
    await run(conv, mode === "on", results[conv.split]![mode]);
  }
}
process.stderr.write("\n");
console.log("| Split | Feedback | n | R@5 | R@10 | R@20 | Hit@10 | MRR |\n| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const split of ["dev", "test"] as const) {
  for (const mode of ["off", "on"] as const) {
    const all = results[split]![mode].summary().all;
    if (all) console.log(`| ${split} | ${mode} | ${all.n} | ${all.r5} | ${all.r10} | ${all.r20} | ${all.hit10} | ${all.mrr} |`);
  }
}
