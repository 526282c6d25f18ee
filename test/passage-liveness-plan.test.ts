import { expect, test } from "vitest";
import { coreOf } from "../bench/bulk.js";
import { Spectron } from "../src/index.js";
import { LIVE_PASSAGE } from "../src/store/passages.js";
import { tempDir } from "./helpers.js";

// Whether a passage is live is one index lookup of the records its turn wrote, whatever the size of the Context:
// the planner once took records_by_importance (context, importance) for the `r.context` term and scanned every
// record of the Context once per passage. The plan, and the rule's results, on a real file.
test("a passage's liveness is looked up by the turn's source id, not by scanning the Context", async () => {
  const { path, cleanup } = tempDir();
  let now = Date.UTC(2026, 0, 5);
  try {
    await using memory = new Spectron({ context: "plan", path, clock: () => now, providers: {} });
    await memory.ingest({ role: "user", content: "I live in Lisbon.", scope: { user: "ana" } });
    await memory.ingest({ role: "user", content: "What a day?", scope: { user: "ana" } });
    const { db } = coreOf(memory).sqlite!;
    const live = `SELECT t.id FROM turns t WHERE t.context = ? AND ${LIVE_PASSAGE} ORDER BY t.id`;
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${live}`).all("plan", now, now) as { detail: string }[]).map((r) => r.detail).join("\n");
    expect(plan).toContain("records_by_source_id");
    expect(plan).not.toContain("records_by_importance");
    const ids = (db.prepare(live).all("plan", now, now) as { id: number }[]).map((r) => r.id);
    expect(ids).toHaveLength(2); // the fact's turn (its record is current) and the question (within the context TTL)
  } finally {
    cleanup();
  }
});
