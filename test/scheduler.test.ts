import { afterEach, describe, expect, it } from "vitest";
import { Spectron } from "../src/index.js";
import { PRIORITY, Scheduler } from "../src/lifecycle/scheduler.js";
import { startFakeProvider, type FakeProvider } from "./fakes/fake-provider.js";
import { alice, DAY, manualClock, tempDir } from "./helpers.js";

// The schedule runs for real here (intervals of 100–150 ms, timers firing), while ingest and recall run.
// Before the scheduler was rebuilt, the expiry, decay and retry timers each queued a job that awaited a job
// queued behind itself on the one-slot queue: every sweep stalled, and idle() and close() never returned.

/** Rejects if `promise` has not settled within `ms`: a hang fails the test instead of timing it out. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms))),
  ]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sweepTraces(memory: Spectron, sweep: string): Promise<number> {
  const { traces } = await memory.traces.list({ kind: "sweep_trace", limit: 500 });
  return traces.filter((t) => t.payload.sweep === sweep).length;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("the scheduler, with timers firing", () => {
  it("runs decay and expiry sweeps to completion again and again while ingest and recall run; idle() and close() resolve", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const clock = manualClock();
    const memory = new Spectron({ context: "sched", path: t.path, clock: clock.now, providers: {}, schedule: { decay: 100, expire: 130, retry: 150 } });
    // Context facts live 7 days: move the clock past that while the timers run, so expiry has work to do.
    await memory.ingest({ content: "I'm in Paris this week for a conference.", scope: alice });
    const deadline = Date.now() + 4_000;
    let i = 0;
    const expiredCount = async () => (await memory.state.list({ scope: alice, status: "expired" })).records.length;
    while (Date.now() < deadline && ((await sweepTraces(memory, "expire")) < 3 || (await sweepTraces(memory, "decay")) < 3 || (await expiredCount()) === 0)) {
      await memory.ingest({ content: `I had a meeting with client number ${i} today.`, scope: alice });
      await memory.recall(`What happened with client number ${i}?`, { scope: alice });
      clock.advance(DAY);
      i++;
      await sleep(20);
    }
    expect(await sweepTraces(memory, "expire")).toBeGreaterThanOrEqual(3);
    expect(await sweepTraces(memory, "decay")).toBeGreaterThanOrEqual(3);
    // Expiry really ran: the context fact of day one is expired (its 7 days passed).
    expect(await expiredCount()).toBeGreaterThan(0);
    // A sweep by hand while the scheduled ones run: neither waits on the other.
    const [byHand] = await within(Promise.all([memory.lifecycle.expire(), memory.lifecycle.decay()]), 3_000, "sweeps by hand");
    expect(byHand.traceId).toMatch(/^trc_/);
    await within(memory.idle(), 3_000, "idle()");
    await within(memory.close(), 3_000, "close()");
  });

  it("retries a pending turn on the schedule and finishes: idle() and close() resolve", async () => {
    const server: FakeProvider = await startFakeProvider([{ status: 500 }]);
    try {
      const clock = manualClock();
      const memory = new Spectron({
        context: "retry",
        path: ":memory:",
        clock: clock.now,
        providers: { openai: { apiKey: "sk-test", baseURL: server.openaiURL } },
        models: { extraction: "gpt-4o-mini" },
        provider: { maxRetries: 0, retryBaseMs: 1, retryCapMs: 1, timeoutMs: 2_000 },
        schedule: { decay: false, expire: false, retry: 100 },
      });
      await expect(memory.ingest({ content: "I live in Lisbon.", scope: alice })).rejects.toThrow();
      expect((await memory.turns.list({ status: "pending" })).length).toBe(1);
      // The background retry leaves a turn stored in the last minute to its own ingest.
      clock.advance(61_000);
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline && (await memory.turns.list({ status: "pending" })).length > 0) await sleep(25);
      expect(await memory.turns.list({ status: "pending" })).toHaveLength(0);
      expect((await memory.turns.list({ status: "extracted" })).length).toBe(1);
      await within(memory.idle(), 3_000, "idle()");
      await within(memory.close(), 3_000, "close()");
    } finally {
      await server.close();
    }
  });

  it("a turn that keeps failing is retried on the schedule without stalling the queue", async () => {
    // Nothing listens on the discard port: every extraction fails at once.
    {
      const clock = manualClock();
      const memory = new Spectron({
        context: "retry",
        path: ":memory:",
        clock: clock.now,
        providers: { openai: { apiKey: "sk-test", baseURL: "http://127.0.0.1:9/v1" } },
        models: { extraction: "gpt-4o-mini" },
        provider: { maxRetries: 0, retryBaseMs: 1, retryCapMs: 1, timeoutMs: 500 },
        schedule: { decay: false, expire: false, retry: 100 },
      });
      await expect(memory.ingest({ content: "I live in Lisbon.", scope: alice })).rejects.toThrow();
      clock.advance(61_000);
      await sleep(450);
      // Retried on the schedule (five failed attempts mark it failed; the background retry stops there).
      const [turn] = await memory.turns.list();
      expect(turn!.attempts).toBeGreaterThan(1);
      // Sweeps by hand still run while the retries keep failing.
      await within(memory.lifecycle.expire(), 3_000, "expire()");
      await within(memory.idle(), 3_000, "idle()");
      await within(memory.close(), 3_000, "close()");
    }
  });

  it("an ingest whose turn another caller extracted meanwhile answers with that extraction, not an error", async () => {
    // The first extraction call is slow; turns.retry() extracts the same turn while it waits (in production: the
    // background retry, or another process on the same file).
    const server: FakeProvider = await startFakeProvider({ steps: [{ delayMs: 400 }] });
    try {
      const memory = new Spectron({
        context: "race",
        path: ":memory:",
        providers: { openai: { apiKey: "sk-test", baseURL: server.openaiURL } },
        models: { extraction: "gpt-4o-mini" },
        provider: { maxRetries: 0, retryBaseMs: 1, retryCapMs: 1, timeoutMs: 5_000 },
        schedule: false,
      });
      const ingest = memory.ingest({ content: "I'm on the Enterprise plan.", scope: alice });
      await sleep(100);
      expect(await memory.turns.retry()).toEqual({ extracted: 1, failed: 0 });
      const result = await ingest;
      const decision = (await memory.traces.list({ kind: "decision_trace" })).traces;
      expect(decision).toHaveLength(1);
      expect(result.traceId).toBe(decision[0]!.id);
      expect(result.records.map((r) => [r.text, r.outcome])).toEqual([["The user is on the Enterprise plan.", "created"]]);
      await memory.close();
    } finally {
      await server.close();
    }
  });

  it("schedule: false turns every timer off; sweeps stay callable", async () => {
    const memory = new Spectron({ context: "off", providers: {}, schedule: false });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await sleep(50);
    expect(await sweepTraces(memory, "expire")).toBe(0);
    await memory.lifecycle.expire();
    expect(await sweepTraces(memory, "expire")).toBe(1);
    await memory.close();
  });
});

describe("a sweep's steps and the event loop", () => {
  it("turns the event loop between steps: I/O callbacks run while a long sweep is in flight", async () => {
    // The scale benchmark issued recalls back to back while an expiry sweep of 69k records ran for minutes:
    // not one was served, because the steps chained through promises only and a request waiting on I/O (here,
    // a setImmediate) never got its turn until the sweep had ended.
    const scheduler = new Scheduler({ debug() {}, info() {}, warn() {}, error() {} });
    const order: string[] = [];
    let step = 0;
    const sweep = scheduler.steps(() => {
      step++;
      order.push(`step ${step}`);
      if (step === 1) setImmediate(() => order.push("io"));
      return step === 5;
    }, PRIORITY.sweep);
    expect(await sweep).toBe(5);
    expect(order.indexOf("io")).toBeGreaterThan(0);
    expect(order.indexOf("io")).toBeLessThan(order.indexOf("step 5"));
    await scheduler.stop();
  });
});
