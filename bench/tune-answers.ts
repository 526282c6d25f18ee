// Tuning aid, development split ONLY (LoCoMo samples 0–4): the local composer's "don't know" on category 5
// (unanswerable) against categories 1–4, at relevance thresholds, with and without what the composer is told
// about each record's speaker. Reads copies of the stores bench/tune-fusion.ts leaves in TUNE_CACHE (run it
// first) so that recall's reinforcement does not change them: `npx tsx bench/tune-answers.ts`. Never on test.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Spectron } from "../src/index.js";
import { composeResponse, NO_ANSWER } from "../src/models/local/composer.js";
import type { ResponseInput } from "../src/models/prompts/response.js";
import { entityNamesOf } from "../src/store/graph.js";
import { parseId } from "../src/store/ids.js";
import { coreOf } from "./bulk.js";
import { loadLocomo } from "./locomo-data.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.resolve(here, "..", "..", "shared", "data", "locomo", "locomo10.json");
const data = loadLocomo(file);
if (!data) throw new Error("LoCoMo not found");
const raw = JSON.parse(fs.readFileSync(file, "utf8")) as { qa: { question: string; category: number }[] }[];
const cacheDir = process.env.TUNE_CACHE ?? os.tmpdir();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "tune-answers-"));
const thresholds = [0.34, 0.4, 0.5, 0.6];
const variants = ["no speaker", "speaker"] as const;
const tally = new Map<string, { n5: number; dk5: number; n14: number; dk14: number }>();
const key = (v: string, t: number) => `${v} @${t}`;
for (const v of variants) for (const t of thresholds) tally.set(key(v, t), { n5: 0, dk5: 0, n14: 0, dk14: 0 });
let live = { n5: 0, dk5: 0, n14: 0, dk14: 0 };

for (const conv of data.conversations.filter((c) => c.split === "dev")) {
  const source = path.join(cacheDir, `spectron-tune-${conv.sampleId}.db`);
  // Absent, or still being written by tune-fusion (an open store has a non-empty write-ahead log).
  if (!fs.existsSync(source) || (fs.existsSync(`${source}-wal`) && fs.statSync(`${source}-wal`).size > 0)) continue;
  const copy = path.join(work, `${conv.sampleId}.db`);
  // A consistent copy of the WAL-mode store (and its ANN sidecar files).
  for (const f of fs.readdirSync(cacheDir).filter((f) => f.startsWith(`spectron-tune-${conv.sampleId}.db`))) {
    fs.copyFileSync(path.join(cacheDir, f), path.join(work, f.replace(`spectron-tune-${conv.sampleId}.db`, `${conv.sampleId}.db`)));
  }
  const now = conv.turns[conv.turns.length - 1]!.at + 86_400_000;
  const memory = new Spectron({ context: "tune", path: copy, clock: () => now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  const core = coreOf(memory);
  const speakers = new Map(
    (core.sqlite!.db.prepare("SELECT id, speaker FROM turns").all() as { id: number; speaker: string | null }[]).map((t) => [`turn_${t.id}`, t.speaker]),
  );
  const scope = { conversation: conv.sampleId };
  for (const qa of raw[conv.index]!.qa) {
    if (qa.category < 1 || qa.category > 5) continue;
    const five = qa.category === 5;
    const result = await memory.recall(qa.question, { scope });
    const dk = result.answer === NO_ANSWER;
    live = five ? { ...live, n5: live.n5 + 1, dk5: live.dk5 + Number(dk) } : { ...live, n14: live.n14 + 1, dk14: live.dk14 + Number(dk) };
    for (const v of variants) {
      const input: ResponseInput = {
        query: qa.question,
        records: result.records.map((r) => ({
          id: r.id, text: r.text, kind: r.kind, status: r.status, subject: r.subject, attribute: r.attribute, value: r.value, created_at: r.created_at,
          entities: entityNamesOf(core.sqlite!.db, parseId("record", r.id)),
          ...(v === "speaker" ? { speaker: speakers.get(r.source.id ?? "") ?? null } : {}),
        })),
      };
      for (const t of thresholds) {
        const x = tally.get(key(v, t))!;
        const no = composeResponse(input, t).answer === NO_ANSWER;
        if (five) (x.n5++, (x.dk5 += Number(no)));
        else (x.n14++, (x.dk14 += Number(no)));
      }
    }
  }
  await memory.close();
  process.stderr.write(`${conv.sampleId} done\n`);
}
fs.rmSync(work, { recursive: true, force: true });
const pct = (a: number, b: number) => (b ? ((100 * a) / b).toFixed(1) : "–");
console.log(`live recall: don't know on cat 5 ${pct(live.dk5, live.n5)}% (n ${live.n5}), on cat 1–4 ${pct(live.dk14, live.n14)}% (n ${live.n14})`);
for (const [k, x] of tally) console.log(`${k.padEnd(20)} cat 5 ${pct(x.dk5, x.n5)}%  cat 1–4 ${pct(x.dk14, x.n14)}%`);
