// A child process for test/postgres/multiprocess.test.ts: one PostgreSQL store of a Context that another process
// opens too, driven over the fork IPC channel. Replies are plain objects.
import { postgresStore, type PostgresEngine, type PostgresStore } from "../../src/postgres.js";
import type { StoreChange } from "../../src/store/store.js";
import { actor, contextInit, embed, EMBEDDING, fact, factsWrite } from "../postgres/fixtures.js";

type Command =
  | { op: "open"; url: string; context: string; now: number }
  | { op: "supersede"; scope: Record<string, string>; value: string; at: number; now: number }
  | { op: "write"; scope: Record<string, string>; text: string; now: number }
  | { op: "nearest"; scope: Record<string, string>; text: string; now: number }
  | { op: "awaitVector"; label: number }
  | { op: "holdLock"; name: string }
  | { op: "releaseLock" }
  | { op: "tryLock"; name: string }
  | { op: "cacheAnswer"; scope: Record<string, string>; cited: number; now: number }
  | { op: "cachedAnswer"; scope: Record<string, string>; now: number }
  | { op: "close" };

let engine: PostgresEngine;
let store: PostgresStore;
const changes: StoreChange[] = [];
const waiters: (() => void)[] = [];
let release: (() => void) | undefined;
let sweeping: Promise<unknown> | undefined;

function addedLabels(): Set<number> {
  return new Set(changes.flatMap((c) => (c.kind === "vectors" ? c.changes.filter((x) => x.op === "add").map((x) => x.label) : [])));
}

async function handle(command: Command): Promise<unknown> {
  switch (command.op) {
    case "open":
      engine = postgresStore({ connectionString: command.url, max: 4 });
      store = await engine.open(command.context, { now: () => command.now });
      await store.openContext(contextInit(command.now));
      store.subscribe((change) => {
        changes.push(change);
        for (const w of waiters.splice(0)) w();
      });
      return { pgvector: store.pgvector };
    case "supersede": {
      // Spin to a wall-clock instant the parent chose, so that both processes write at the same moment.
      while (Date.now() < command.at);
      const write = await factsWrite(command.scope, [fact(`The user lives in ${command.value}.`, "city", command.value)], command.now);
      const written = await store.writeFacts(write);
      return written.outcomes.map((o) => ({ id: o.record.id, outcome: o.outcome }));
    }
    case "write": {
      const written = await store.writeFacts(await factsWrite(command.scope, [fact(command.text)], command.now));
      return { id: written.outcomes[0]!.record.id };
    }
    case "nearest": {
      const { hits } = await store.nearestRecords({
        model: EMBEDDING,
        vector: await embed(command.text),
        k: 3,
        filter: { scopeKeys: [JSON.stringify(command.scope)], now: command.now },
      });
      return hits.map((h) => h.label);
    }
    case "awaitVector": {
      // No poll here: the change must arrive through LISTEN/NOTIFY on its own.
      const started = Date.now();
      while (!addedLabels().has(command.label)) await new Promise<void>((resolve) => waiters.push(resolve));
      return { waitedMs: Date.now() - started };
    }
    case "holdLock":
      // Resolves once the lock is held (the sweep then waits for releaseLock), or at once when it is not had.
      return new Promise((resolve, reject) => {
        sweeping = store.withSweepLock(command.name, async () => {
            resolve({ held: true });
            await new Promise<void>((done) => (release = done));
          });
        sweeping.then((ran) => ran === undefined && resolve({ held: false }), reject);
      });
    case "releaseLock":
      // Answered once the sweep has returned and its lock is released, not merely told to finish.
      release?.();
      release = undefined;
      await sweeping;
      return {};
    case "tryLock":
      return { ran: (await store.withSweepLock(command.name, async () => true)) === true };
    case "cacheAnswer": {
      const key = JSON.stringify(command.scope);
      const retrieval = { actor, scopeKey: key, payload: {}, returned: [command.cited], returnedChunks: [], considered: [] };
      await store.writeAnswer({
        retrieval,
        response: { actor, scopeKey: key, payload: {} },
        query: { text: "Where do I live?", norm: "where do i live", model: EMBEDDING, vector: await embed("Where do I live?") },
        cache: { scopeKey: key, signature: "city", answer: "Lisbon.", deps: [command.cited], topics: ["attr:user/city"], chunkDeps: [] },
        now: command.now,
      });
      return {};
    }
    case "cachedAnswer": {
      // Tier 1 as the pipeline does it: the entries for the question, served only when usable.
      for (const entry of await store.cacheByQuery(JSON.stringify(command.scope), "where do i live")) {
        if (await store.cacheEntryUsable(entry.id, command.now, 0)) return { answer: entry.answer };
      }
      return { answer: null };
    }
    case "close":
      await store.close();
      await engine.close();
      return {};
  }
}

process.on("message", (message: Command & { id: number }) => {
  handle(message).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: { name: (error as Error)?.name, message: String((error as Error)?.message ?? error) } }),
  );
});
process.send!({ ready: true });
