// The soak's second process (forked by bench/soak.ts): ingests into the same file, in scopes of its own, with
// the schedule on as well, until its time is up; reports how many turns landed and its errors by code.

import { Spectron } from "../src/index.js";
import { corpusTurn } from "./corpus.js";
import { SOAK_SCHEDULE, soakClock } from "./soak.js";

const [file, origin, duration] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const memory = new Spectron({ context: "soak", path: file, clock: soakClock(origin), providers: {}, schedule: SOAK_SCHEDULE });
const errors: Record<string, number> = {};
let ingested = 0;
for (let i = 0; Date.now() < origin + duration; i++) {
  const turn = corpusTurn(7, 20_000, i);
  try {
    await memory.ingest({ ...turn, scope: { ...turn.scope, process: "writer" } });
    ingested++;
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? (error instanceof Error ? error.name : "unknown"));
    if (!errors[code]) {
      const cause = (error as { cause?: unknown }).cause;
      console.error(`soak writer: first ${code} error: ${error instanceof Error ? error.message : String(error)}${cause instanceof Error ? ` (cause: ${cause.stack ?? cause.message})` : ""}`.slice(0, 1_500));
    }
    errors[code] = (errors[code] ?? 0) + 1;
  }
  if (i % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
}
try {
  await memory.close();
} catch (error) {
  errors[`close:${String((error as { code?: unknown }).code ?? "unknown")}`] = 1;
}
process.send?.({ ingested, errors }, () => process.exit(0));
