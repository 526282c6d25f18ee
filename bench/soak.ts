// The soak section (`npm run bench -- --only=soak [--minutes=10]`): a file-backed instance with the schedule
// running for real (decay, expiry and retry every few seconds), ingest and recall in a loop, and a second
// process ingesting into the same file, for `minutes`. The clock runs at one simulated hour per real second,
// so that context facts (7 days) expire during the run and expiry sweeps have real work. Reports stalls (an
// operation or an idle() taking over STALL_MS), the slowest idle(), RSS over time, and errors by code.

import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Spectron } from "../src/index.js";
import { corpusTurn } from "./corpus.js";
import { note } from "./progress.js";
import { latency, prng, round, type Latency } from "./stats.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** An operation slower than this is a stall. */
export const STALL_MS = 10_000;
/** Simulated milliseconds per real millisecond. */
export const SPEED = 3_600;
export const SOAK_SCHEDULE = { decay: 3_000, expire: 2_000, retry: 5_000 } as const;

export interface SoakReport {
  minutes: number;
  schedule: typeof SOAK_SCHEDULE;
  ingested: { main: number; writer: number };
  recalls: number;
  sweeps: { decay: number; expire: number; expired_records: number };
  stalls: number;
  slowestOpMs: number;
  idleMs: Latency;
  slowestIdleMs: number;
  ingestMs: Latency;
  recallMs: Latency;
  /** RSS of the main process in MiB: after the first minute (warm) and at the end, and the ratio. */
  rss: { startMiB: number; warmMiB: number; endMiB: number; maxMiB: number; endOverWarm: number };
  errors: Record<string, number>;
  writerErrors: Record<string, number>;
  closeMs: number;
}

/** Simulated time shared by both processes: `origin` real ms maps to itself, then SPEED× faster. */
export const soakClock = (origin: number) => () => origin + (Date.now() - origin) * SPEED;

const codeOf = (error: unknown) =>
  (error as { code?: unknown })?.code !== undefined ? String((error as { code: unknown }).code) : error instanceof Error ? error.name : typeof error;

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

function within<T>(promise: Promise<T>, ms: number): Promise<T | "stalled"> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise.finally(() => clearTimeout(timer)), new Promise<"stalled">((resolve) => (timer = setTimeout(() => resolve("stalled"), ms)))]);
}

export async function runSoak({ minutes }: { minutes: number }): Promise<SoakReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spectron-soak-"));
  const file = path.join(dir, "soak.db");
  const origin = Date.now();
  const memory = new Spectron({ context: "soak", path: file, clock: soakClock(origin), providers: {}, schedule: SOAK_SCHEDULE });
  const writer = fork(path.join(here, "soak-writer.ts"), [file, String(origin), String(minutes * 60_000)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const writerDone = new Promise<{ ingested: number; errors: Record<string, number> }>((resolve) => {
    let report = { ingested: 0, errors: { "writer-exited-without-report": 1 } as Record<string, number> };
    writer.on("message", (m: { ingested: number; errors: Record<string, number> }) => (report = m));
    writer.on("exit", () => resolve(report));
  });

  const errors: Record<string, number> = {};
  const samples: Record<string, string> = {};
  const count = (error: unknown) => {
    const code = codeOf(error);
    errors[code] = (errors[code] ?? 0) + 1;
    if (!samples[code]) {
      const cause = (error as { cause?: unknown }).cause;
      samples[code] = `${error instanceof Error ? error.message : String(error)}${cause instanceof Error ? ` (cause: ${cause.stack ?? cause.message})` : ""}`.slice(0, 1_500);
      note(`soak: first ${code} error: ${samples[code]}`);
    }
  };
  const ingestMs: number[] = [];
  const recallMs: number[] = [];
  const idleMs: number[] = [];
  const rss: number[] = [process.memoryUsage().rss];
  let stalls = 0;
  let slowest = 0;
  let ingested = 0;
  let recalls = 0;
  const r = prng(11);
  const end = origin + minutes * 60_000;
  let nextIdle = Date.now() + 5_000;
  let nextRss = Date.now() + 10_000;
  let warm: number | undefined;
  const timed = async (samples: number[], fn: () => Promise<unknown>) => {
    const t = performance.now();
    const result = await within(fn().catch(count), STALL_MS * 3);
    const ms = performance.now() - t;
    samples.push(ms);
    slowest = Math.max(slowest, ms);
    if (result === "stalled" || ms > STALL_MS) stalls++;
  };
  for (let i = 0; Date.now() < end; i++) {
    const turn = corpusTurn(5, 20_000, i);
    await timed(ingestMs, () => memory.ingest({ ...turn, scope: { ...turn.scope, process: "main" } }));
    ingested++;
    if (i % 2 === 0) {
      const user = `u${Math.floor(r() * 50)}`;
      await timed(recallMs, () => memory.recall(r() < 0.5 ? "Where do I live?" : "What do I like to do?", { scope: { user, process: "main" } }));
      recalls++;
    }
    if (Date.now() >= nextIdle) {
      await timed(idleMs, () => memory.idle());
      nextIdle = Date.now() + 5_000;
    }
    if (Date.now() >= nextRss) {
      rss.push(process.memoryUsage().rss);
      if (warm === undefined && Date.now() - origin >= 60_000) warm = rss.at(-1);
      nextRss = Date.now() + 10_000;
      note(`soak: ${((Date.now() - origin) / 60_000).toFixed(1)} min, ${ingested} ingested, ${recalls} recalls, RSS ${mib(rss.at(-1)!)} MiB, stalls ${stalls}`);
    }
    // Leave the event loop to the timers and the background now and then, as an agent between turns would.
    if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const { traces } = await memory.traces.list({ kind: "sweep_trace", limit: 1_000 });
  const sweeps = { decay: 0, expire: 0, expired_records: 0 };
  for (const t of traces) {
    if (t.payload.sweep === "decay") sweeps.decay++;
    if (t.payload.sweep === "expire") {
      sweeps.expire++;
      sweeps.expired_records += Number(t.payload.changed ?? 0);
    }
  }
  const w = await writerDone;
  const t = performance.now();
  const closed = await within(memory.close().catch(count), STALL_MS * 3);
  if (closed === "stalled") stalls++;
  const closeMs = performance.now() - t;
  rss.push(process.memoryUsage().rss);
  fs.rmSync(dir, { recursive: true, force: true });
  const warmRss = warm ?? rss[1] ?? rss[0]!;
  return {
    minutes,
    schedule: SOAK_SCHEDULE,
    ingested: { main: ingested, writer: w.ingested },
    recalls,
    sweeps,
    stalls,
    slowestOpMs: round(slowest, 1),
    idleMs: latency(idleMs),
    slowestIdleMs: round(Math.max(0, ...idleMs), 1),
    ingestMs: latency(ingestMs),
    recallMs: latency(recallMs),
    rss: { startMiB: mib(rss[0]!), warmMiB: mib(warmRss), endMiB: mib(rss.at(-1)!), maxMiB: mib(Math.max(...rss)), endOverWarm: round(rss.at(-1)! / warmRss, 2) },
    errors,
    writerErrors: w.errors,
    closeMs: round(closeMs, 1),
  };
}
