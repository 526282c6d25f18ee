// `npm run bench` — LoCoMo retrieval quality, speed at scale and model economy; `-- --quick` for a sub-minute
// smoke run. Options: --only=locomo,scale,economy,tier2,answers,extraction,soak,rest  --sizes=10k,100k,1m  --minutes=10 (soak)
// --out=<name> (bench/results/<name>.*). The soak section runs only when named (it takes `minutes`).
// --store=postgres: LoCoMo (with its ingest-growth and mechanisms parts) and the scale section (bench/scale-postgres.ts)
// with every instance on PostgreSQL, through `new Spectron({ store })`, in throwaway databases, and the two-process
// section (two writer processes on one database); the server at SPECTRON_BENCH_POSTGRES_URL or SPECTRON_TEST_POSTGRES_URL.
// Progress goes to stderr, the Markdown tables to stdout and bench/results/.

import { fork } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runEconomy } from "./economy.js";
import { runExtraction } from "./extraction.js";
import { runLocomo } from "./locomo.js";
import { runSoak } from "./soak.js";
import { runTier2 } from "./tier2.js";
import { runPostgres } from "./postgres.js";
import { dropBenchDatabase, usePostgres } from "./bench-store.js";
import { runAnswers } from "./answers.js";
import { runRest } from "./rest.js";
import { note } from "./progress.js";
import { gitCommit, machine, renderMarkdown, type BenchResults } from "./report.js";
import type { ScaleReport } from "./scale.js";
import type { PostgresScaleReport } from "./scale-postgres.js";
import { formatSize, parseSize } from "./stats.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const SECTIONS = ["locomo", "scale", "economy", "tier2", "answers", "extraction", "soak", "rest", "postgres"] as const;
const DEFAULT_SECTIONS = ["locomo", "scale", "economy", "tier2", "answers", "extraction"];

function parseArgs(argv: string[]) {
  const opts = { quick: false, only: DEFAULT_SECTIONS, sizes: undefined as number[] | undefined, out: undefined as string | undefined, minutes: 10, store: "sqlite" };
  for (const arg of argv) {
    const [key, value] = arg.split("=", 2) as [string, string | undefined];
    if (key === "--quick") opts.quick = true;
    else if (key === "--only" && value) opts.only = value.split(",").map((s) => s.trim());
    else if (key === "--sizes" && value) opts.sizes = value.split(",").map(parseSize);
    else if (key === "--out" && value) opts.out = value;
    else if (key === "--minutes" && value && Number(value) > 0) opts.minutes = Number(value);
    else if (key === "--store" && (value === "sqlite" || value === "postgres")) opts.store = value;
    else if (key === "--help" || key === "-h") {
      console.log("npm run bench -- [--quick] [--only=locomo,scale,economy,tier2,answers,extraction,soak,rest,postgres] [--sizes=10k,100k,1m] [--minutes=10] [--out=name] [--store=sqlite|postgres]");
      process.exit(0);
    } else throw new Error(`Unknown option ${arg} (try --help)`);
  }
  for (const s of opts.only) if (!SECTIONS.includes(s as (typeof SECTIONS)[number])) throw new Error(`--only: unknown section "${s}"`);
  if (opts.store === "postgres") {
    if (!argv.some((a) => a.startsWith("--only="))) opts.only = ["locomo", "scale", "postgres"];
    const sqliteOnly = opts.only.filter((s) => s !== "locomo" && s !== "scale" && s !== "postgres");
    if (sqliteOnly.length > 0) throw new Error(`--store=postgres runs locomo, scale and postgres; ${sqliteOnly.join(", ")} run${sqliteOnly.length === 1 ? "s" : ""} on SQLite only so far`);
  }
  return opts;
}

/** One scale size in a fresh child process (its own peak RSS); the child reports over IPC. */
function scaleInChild<R>(size: number, quick: boolean, store: string): Promise<R | { size: number; error: string }> {
  return new Promise((resolve) => {
    const child = fork(path.join(here, "scale-child.ts"), [String(size), ...(quick ? ["--quick"] : []), `--store=${store}`], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let settled = false;
    child.on("message", (m: { ok: boolean; report?: R; error?: string }) => {
      settled = true;
      resolve(m.ok ? m.report! : { size, error: m.error ?? "unknown error" });
    });
    child.on("exit", (code) => {
      if (!settled) resolve({ size, error: `child exited with code ${code} before reporting` });
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const opts = parseArgs(args);
  const sizes = opts.sizes ?? (opts.quick ? [10_000] : [10_000, 100_000]);
  // A partial run (--only, --sizes) never overwrites the full or quick results.
  const partial = args.some((a) => a !== "--quick" && !a.startsWith("--out="));
  const name = opts.out ?? (partial ? "partial" : opts.quick ? "quick" : "latest");
  const started = performance.now();
  const wallSeconds: Record<string, number> = {};
  const results: BenchResults = {
    meta: { ...machine(), date: new Date().toISOString(), commit: gitCommit(), mode: opts.quick ? "quick" : "full", args, wallSeconds },
  };
  const timedSection = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    note(`== ${key}`);
    const value = await fn();
    wallSeconds[key] = (performance.now() - t) / 1000;
    return value;
  };

  const pgUrl = process.env.SPECTRON_BENCH_POSTGRES_URL ?? process.env.SPECTRON_TEST_POSTGRES_URL;
  if (opts.only.includes("locomo")) {
    const file = path.resolve(here, "..", "..", "shared", "data", "locomo", "locomo10.json");
    if (opts.store === "postgres" && !pgUrl) {
      results.locomo = { skipped: "--store=postgres: no PostgreSQL server (set SPECTRON_BENCH_POSTGRES_URL or SPECTRON_TEST_POSTGRES_URL): LoCoMo section skipped." };
    } else {
      if (opts.store === "postgres") await usePostgres(pgUrl!);
      try {
        results.locomo = await timedSection("locomo", () => runLocomo(file, { quick: opts.quick }));
      } finally {
        await dropBenchDatabase();
      }
    }
    if (results.locomo.skipped) note(results.locomo.skipped);
  }
  if (opts.only.includes("scale") && opts.store === "postgres") {
    if (!pgUrl) note("--store=postgres: no PostgreSQL server (set SPECTRON_BENCH_POSTGRES_URL or SPECTRON_TEST_POSTGRES_URL): scale section skipped.");
    else {
      results.scalePostgres = [];
      for (const size of sizes) results.scalePostgres.push(await timedSection(`scale ${formatSize(size)} on PostgreSQL`, () => scaleInChild<PostgresScaleReport>(size, opts.quick, "postgres")));
    }
  } else if (opts.only.includes("scale")) {
    results.scale = [];
    for (const size of sizes) results.scale.push(await timedSection(`scale ${formatSize(size)}`, () => scaleInChild<ScaleReport>(size, opts.quick, "sqlite")));
  }
  if (opts.only.includes("economy")) results.economy = await timedSection("economy", () => runEconomy({ quick: opts.quick }));
  if (opts.only.includes("extraction")) results.extraction = await timedSection("extraction", () => runExtraction());
  if (opts.only.includes("tier2")) results.tier2 = await timedSection("tier2", () => runTier2({ quick: opts.quick }));
  if (opts.only.includes("answers")) {
    const file = path.resolve(here, "..", "..", "shared", "data", "locomo", "locomo10.json");
    results.answers = await timedSection("answers", () => runAnswers(file, { quick: opts.quick }));
  }
  if (opts.only.includes("postgres")) {
    results.postgres = await timedSection("postgres", () => runPostgres(pgUrl, { quick: opts.quick }));
    if (results.postgres.skipped) note(results.postgres.skipped);
  }
  if (opts.only.includes("rest")) results.rest = await timedSection("rest", () => runRest({ quick: opts.quick }));
  if (opts.only.includes("soak")) results.soak = await timedSection("soak", () => runSoak({ minutes: opts.minutes }));
  wallSeconds.total = (performance.now() - started) / 1000;

  const markdown = renderMarkdown(results);
  const dir = path.join(here, "results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(results, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, `${name}.md`), markdown);
  process.stdout.write(markdown);
  note(`Wrote bench/results/${name}.json and bench/results/${name}.md (${wallSeconds.total.toFixed(0)} s).`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
