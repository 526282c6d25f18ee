// One writer of the `postgres` bench section: a PostgreSQL store in its own process that writes facts (the
// reconciler's transaction, with its vector) and recalls (nearest records in its scope) for a fixed number of
// rounds, then reports its latencies over IPC. argv: url, writer index, rounds, recalls per round, start time.
import { postgresStore } from "../src/postgres.js";
import { scopeKey } from "../src/store/scope.js";
import { contextInit, embed, EMBEDDING, fact, factsWrite } from "../test/postgres/fixtures.js";
import { prng } from "./stats.js";

const [url, writerArg, roundsArg, recallsArg, startArg] = process.argv.slice(2);
const writer = Number(writerArg);
const rounds = Number(roundsArg);
const recalls = Number(recallsArg);
const T0 = Date.parse("2026-06-01T00:00:00Z");
const CITIES = ["Lisbon", "Porto", "Berlin", "Madrid", "Oslo", "Paris", "Rome", "Vienna", "Prague", "Dublin"];
const HOBBIES = ["chess", "climbing", "pottery", "sailing", "running", "painting", "baking", "cycling"];

async function main() {
  const engine = postgresStore({ connectionString: url!, max: 4 });
  let now = T0;
  const store = await engine.open("bench", { now: () => now });
  await store.openContext(contextInit(now));
  const rand = prng(1000 + writer);
  const writeMs: number[] = [];
  const recallMs: number[] = [];
  const written: { scope: Record<string, string>; text: string }[] = [];
  while (Date.now() < Number(startArg));
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    // Users shared by both writers: their single-valued facts supersede each other's across processes.
    const scope = { user: `u${Math.floor(rand() * 50)}` };
    const text =
      rand() < 0.5
        ? `The user lives in ${CITIES[Math.floor(rand() * CITIES.length)]}.`
        : `The user enjoys ${HOBBIES[Math.floor(rand() * HOBBIES.length)]} on day ${i} (writer ${writer}).`;
    const f = text.startsWith("The user lives") ? fact(text, "city", text.slice(18, -1)) : fact(text);
    now += 1000;
    let t = performance.now();
    await store.writeFacts(await factsWrite(scope, [f], now));
    writeMs.push(performance.now() - t);
    written.push({ scope, text });
    for (let r = 0; r < recalls; r++) {
      const target = written[Math.floor(rand() * written.length)]!;
      const vector = await embed(target.text);
      t = performance.now();
      await store.nearestRecords({ model: EMBEDDING, vector, k: 10, filter: { scopeKeys: [scopeKey(target.scope)], now }, exactLimit: 200 });
      recallMs.push(performance.now() - t);
    }
  }
  const elapsedMs = performance.now() - started;
  await store.close();
  await engine.close();
  process.send!({ ok: true, writeMs, recallMs, elapsedMs, pgvector: store.pgvector });
}

main().catch((error: unknown) => process.send!({ ok: false, error: String((error as Error)?.stack ?? error) }));
