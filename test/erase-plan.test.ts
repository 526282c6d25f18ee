import { expect, test } from "vitest";
import { coreOf } from "../bench/bulk.js";
import { Spectron } from "../src/index.js";
import { TRACES_OF_RECORD } from "../src/store/erase.js";
import { tempDir } from "./helpers.js";

// Erasing a record looks up the traces that may quote it through edges_by_dst, one lookup per step, whatever
// the number of traces: the planner once took edges_by_src for `src_type = 'trace'` and scanned every trace edge
// of the file per erased record (an expiry sweep grew quadratic). The plan, and the lookup's result, on a real file.
test("the traces that quote a record are found by the edges into it, not by scanning every trace edge", async () => {
  const { path, cleanup } = tempDir();
  const now = Date.UTC(2026, 0, 5);
  try {
    await using memory = new Spectron({ context: "plan", path, clock: () => now, providers: {} });
    const { records } = await memory.ingest({ role: "user", content: "I live in Lisbon.", scope: { user: "ana" } });
    await memory.recall("Where do I live?", { scope: { user: "ana" } });
    const { db } = coreOf(memory).sqlite!;
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${TRACES_OF_RECORD}`).all("1") as { detail: string }[]).map((r) => r.detail).join("\n");
    expect(plan).toContain("edges_by_dst");
    expect(plan).not.toContain("edges_by_src");
    const id = records[0]!.id;
    const quoting = db.prepare(TRACES_OF_RECORD).pluck().all(String(Number(id.replace(/\D/g, "")))) as number[];
    expect(quoting.length).toBeGreaterThan(0); // its extraction's trace at least
  } finally {
    cleanup();
  }
});
