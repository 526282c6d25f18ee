// Decay and expiry sweeps over a large Context, and what they do to recall latency while they run.
//   npx tsx bench/sweeps.ts [--records=1000000]
// Records are written straight into the store (this measures the sweeps, not ingest); each has a 64-d vector
// so that expiry pays for removing vectors too. Figures: medians and percentiles of one run.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spectron } from "../src/index.js";
import { createLocalEmbeddingModel } from "../src/models/local/index.js";
import type { Core } from "../src/core.js";
import { putVector } from "../src/store/vectors.js";

const arg = process.argv.find((a) => a.startsWith("--records="));
const N = arg ? Number(arg.split("=")[1]) : 1_000_000;
const DAY = 86_400_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");
let now = T0;
const dir = mkdtempSync(join(tmpdir(), "spectron-sweeps-"));
const path = join(dir, "sweeps.db");
const memory = new Spectron({
  context: "sweeps",
  path,
  clock: () => now,
  providers: {},
  models: { embedding: "local:hash-64" },
  schedule: { decay: false, expire: false, retry: false },
});
const core = (memory as unknown as { core: Core }).core;
const embedder = createLocalEmbeddingModel("local:hash-64");

const CATEGORIES = ["context", "knowledge", "identity"] as const;
const started = performance.now();
const insert = core.sqlite!.db.prepare(
  `INSERT INTO records (context, scope_key, kind, memory_category, subject, attribute, value, cardinality, text, norm_text,
     confidence, trust, importance, status, source_kind, source_id, embedding_model, created_at, updated_at, last_decay_at, expires_at)
   VALUES ('sweeps', ?, 'attribute', ?, 'user', NULL, NULL, 'many', ?, ?, 0.9, 1, ?, 'current', 'turn', NULL, 'local:hash-64', ?, ?, ?, ?)`,
);
const BATCH = 10_000;
for (let from = 0; from < N; from += BATCH) {
  const texts = Array.from({ length: Math.min(BATCH, N - from) }, (_, i) => `note ${from + i} about topic ${(from + i) % 977} for user ${(from + i) % 10_000}`);
  const { vectors } = await embedder.embed(texts);
  core.sqlite!.db.transaction(() => {
    texts.forEach((text, i) => {
      const n = from + i;
      const category = CATEGORIES[n % 3]!;
      const created = T0 - (n % 30) * DAY;
      // A tenth of the context facts are past their 7-day TTL by the time the sweep runs.
      const expires = category === "context" ? (n % 10 === 0 ? T0 + DAY : T0 + 60 * DAY) : null;
      const importance = category === "identity" ? 1 : category === "knowledge" ? 0.8 : 0.5;
      const id = Number(insert.run(JSON.stringify({ user: `u${n % 10_000}` }), category, text, text, importance, created, created, created, expires).lastInsertRowid);
      putVector(core.sqlite!.db, "sweeps", "records", "local:hash-64", id, vectors[i]!);
    });
  })();
  process.stderr.write(`\rbuilding ${Math.min(from + BATCH, N).toLocaleString()} / ${N.toLocaleString()}`);
}
process.stderr.write("\n");
const buildSeconds = (performance.now() - started) / 1000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Recall retrieval (no response model) in one user's scope, timed, until `done()`. */
async function probe(done: () => boolean, max = Infinity): Promise<number[]> {
  const times: number[] = [];
  let i = 0;
  while (!done() && times.length < max) {
    const t = performance.now();
    await memory.query(`topic ${i % 977}`, { scope: { user: `u${i % 10_000}` }, limit: 10 });
    times.push(performance.now() - t);
    i++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return times;
}

const idle = await probe(() => false, 300);
if (process.env.SWEEPS_PROFILE_ONLY) { await probe(() => false, 2000); process.exit(0); }
now = T0 + 2 * DAY + 3_600_000;

async function sweep(name: string, run: () => Promise<{ changed: number }>) {
  let finished = false;
  const t = performance.now();
  const during = probe(() => finished);
  const result = await run();
  const seconds = (performance.now() - t) / 1000;
  finished = true;
  const times = await during;
  return { name, seconds, changed: result.changed, probes: times.length, p50: pct(times, 50), p99: pct(times, 99) };
}

const decay = await sweep("decay", () => memory.lifecycle.decay());
const expire = await sweep("expire", () => memory.lifecycle.expire());
await memory.close();
const size = statSync(path).size;
rmSync(dir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(2);
console.log(`\n## Sweeps over ${N.toLocaleString()} records (built in ${buildSeconds.toFixed(0)} s, file ${(size / 1e6).toFixed(0)} MB)\n`);
console.log("| | sweep time (s) | records changed | recall p50 during (ms) | recall p99 during (ms) | probes during |");
console.log("|---|---|---|---|---|---|");
console.log(`| idle (no sweep) | – | – | ${f(pct(idle, 50))} | ${f(pct(idle, 99))} | ${idle.length} |`);
for (const s of [decay, expire]) console.log(`| ${s.name} | ${f(s.seconds)} | ${s.changed.toLocaleString()} | ${f(s.p50)} | ${f(s.p99)} | ${s.probes} |`);
