/**
 * The store contract's second half (store.contract.ts runs it): turns in batches, reads by kind and scope, the
 * background pass's decisions, reflect, traces within grants, the reindex lease, erasure by the expiry sweep,
 * hand edits, the budget and backlog, and the evolution sweeps' reads and writes. Engine-neutral: the same case
 * runs on SQLite and on PostgreSQL and fails where they differ.
 */
import { expect, test } from "vitest";
import { scopeKey } from "../../src/store/scope.js";
import type { ReindexState } from "../../src/store/store.js";
import { actor, EMBEDDING, fact, factsWrite } from "../postgres/fixtures.js";
import { alice, DAY, T0, turnOf, type ContractStore, type StoreSubject } from "./store-subject.js";

const bob = { user: "bob" };
const key = scopeKey(alice);

export function storeContractMore(subject: () => StoreSubject, open: (context?: string, now?: () => number) => Promise<ContractStore>): void {
  test("turns stored together come back in order, each pending", async () => {
    const store = await open();
    const rows = await store.storeTurns([
      { turn: turnOf(store, "First.", T0), passageExpiresAt: null },
      { turn: turnOf(store, "Second.", T0 + 1), passageExpiresAt: T0 + DAY },
    ]);
    expect(rows.map((r) => [r.content, r.status, r.created_at])).toEqual([["First.", "pending", T0], ["Second.", "pending", T0 + 1]]);
    expect((await store.listTurns({ limit: 10 })).map((t) => t.id)).toEqual(rows.map((r) => r.id));
  });

  test("records by kind (most important first) and every scope key holding one", async () => {
    const store = await open();
    const { outcomes } = await store.writeFacts(
      await factsWrite(alice, [fact("The user likes jazz.", "music", "jazz", { kind: "instruction", memory_category: "knowledge" }), fact("The user lives in Lisbon.", "city", "Lisbon")], T0),
    );
    await store.writeFacts(await factsWrite(bob, [fact("The user lives in Oslo.", "city", "Oslo")], T0));
    const lisbon = outcomes[1]!.record;
    const attributes = await store.recordsOfKind({ scopeKeys: [key], now: T0 }, "attribute", 10);
    expect(attributes.map((r) => r.id)).toEqual([lisbon.id]);
    expect((await store.recordsOfKind({ scopeKeys: [key], now: T0 }, "instruction", 10)).map((r) => r.text)).toEqual(["The user likes jazz."]);
    expect((await store.recordScopeKeys()).sort()).toEqual([key, scopeKey(bob)].sort());
  });

  test("the background pass: a duplicate merged, a stale decision skipped, its trace in the record's scope", async () => {
    const store = await open();
    const a = (await store.writeFacts(await factsWrite(alice, [fact("The user owns a red bike.")], T0))).outcomes[0]!.record;
    const b = (await store.writeFacts(await factsWrite(alice, [fact("The user has a red bicycle.")], T0 + 1))).outcomes[0]!.record;
    const parent = await store.finishSweep({ actor, payload: { sweep: "reflection" }, now: T0 + 2 });
    const decisions = [{ neighbour: a.id, relation: "duplicate" as const, reason: "same bike" }];
    const input = { recordId: b.id, decisions, actor, scope: alice, now: T0 + 3, parentTrace: parent, provenance: { model: "local" } };
    const { traceId } = await store.applyNeighbourDecisions(input);
    expect(await store.getRecord(a.id)).toMatchObject({ status: "superseded", superseded_by: b.id, updated_at: T0 + 3 });
    expect(await store.getRecord(b.id)).toMatchObject({ status: "current", proof_count: 2 });
    expect(await store.recordVector(a.id, EMBEDDING)).toBeUndefined();
    const trace = (await store.getTrace(traceId!))!;
    expect(trace.scope_key).toBe(key);
    expect(JSON.parse(trace.payload)).toMatchObject({ source: { kind: "reflection" }, outcomes: [{ outcome: "updated" }, { outcome: "superseded" }] });
    expect((await store.traceEdges(traceId!)).out.map((e) => e.kind)).toEqual(["updated", "superseded", "parent_trace"]);
    // The neighbour is no longer live: the same decision again changes nothing.
    await store.applyNeighbourDecisions({ ...input, now: T0 + 4 });
    expect(await store.getRecord(b.id)).toMatchObject({ proof_count: 2, updated_at: T0 + 3 });
  });

  test("reflect: retrieval and response traces, their edges, and the insights reconciled", async () => {
    const store = await open();
    const seed = (await store.writeFacts(await factsWrite(alice, [fact("The user runs every morning.")], T0))).outcomes[0]!.record;
    const insights = await factsWrite(alice, [fact("The user values fitness.", null, null, { kind: "observation" })], T0 + 1);
    const { source: _source, ...rest } = insights;
    const { responseTraceId, written } = await store.writeReflection({
      retrieval: { actor, scopeKey: key, payload: { query: "habits" }, returned: [seed.id], returnedChunks: [], considered: [] },
      response: { actor, scopeKey: key, payload: { answer: "Fitness." }, used: [seed.id] },
      insights: { ...rest, derivedFrom: [seed.id] },
      now: T0 + 1,
    });
    expect(written!.outcomes.map((o) => [o.outcome, o.record.text, o.record.source_kind])).toEqual([["created", "The user values fitness.", "reflect"]]);
    const edges = await store.traceEdges(responseTraceId);
    expect(edges.out.map((e) => e.kind).sort()).toEqual(["produced_decision", "used", "used_retrieval", "wrote"]);
    expect(edges.in.map((e) => e.kind)).toEqual(["parent_trace", "parent_trace"]);
    expect((await store.listRecords({ scopeKeys: [key], limit: 10, now: T0 + 2 })).map((r) => r.text).sort()).toEqual(["The user runs every morning.", "The user values fitness."]);
  });

  test("traces: newest first, within the grants' scopes only; unscoped ones with `all`; edges added later", async () => {
    const store = await open();
    const mine = (await store.writeFacts(await factsWrite(alice, [fact("The user is vegan.")], T0))).traceId;
    const theirs = (await store.writeFacts(await factsWrite(bob, [fact("The user is vegetarian.")], T0))).traceId;
    const sweep = await store.finishSweep({ actor, payload: { sweep: "decay" }, now: T0 });
    expect((await store.listTraces({ limit: 10, within: [alice] })).map((t) => t.id)).toEqual([mine]);
    expect((await store.listTraces({ limit: 10, within: [alice, bob] })).map((t) => t.id)).toEqual([theirs, mine]);
    expect((await store.listTraces({ limit: 10, within: [{}] })).map((t) => t.id)).toEqual([theirs, mine]);
    expect(await store.listTraces({ limit: 10, within: [] })).toEqual([]);
    expect((await store.listTraces({ limit: 10, within: [], all: true })).map((t) => t.id)).toEqual([sweep, theirs, mine]);
    expect((await store.listTraces({ limit: 10, within: [], all: true, kind: "sweep_trace" })).map((t) => t.id)).toEqual([sweep]);
    expect((await store.listTraces({ limit: 10, within: [alice, bob], before: theirs })).map((t) => t.id)).toEqual([mine]);
    const turn = await store.storeTurn(turnOf(store, "Hi.", T0), null);
    await store.addTraceEdges(sweep, [{ kind: "wrote", to: { type: "turn", id: turn.id } }], T0 + 1);
    expect((await store.traceEdges(sweep)).out).toMatchObject([{ kind: "wrote", dst_type: "turn", dst_id: String(turn.id), created_at: T0 + 1 }]);
  });

  test("reindex: one owner at a time; batches count only while it holds the lease; finishing switches retrieval", async () => {
    const store = await open();
    const { outcomes } = await store.writeFacts(await factsWrite(alice, [fact("The user sails."), fact("The user paints.")], T0));
    const target = "local:hash-384-b";
    const claim = (owner: string) => (state: ReindexState, counts: (m: string) => { done: number; missing: number }) => {
      if (state.status === "running") return undefined;
      const { done, missing } = counts(target);
      return { status: "running" as const, done, total: done + missing, model: target, from: EMBEDDING, owner, heartbeat: T0 };
    };
    expect(await store.claimReindex(claim("one"))).toMatchObject({ status: "running", done: 0, total: 2, owner: "one" });
    expect(await store.claimReindex(claim("two"))).toBeUndefined();
    const rows = await store.rowsToReindex("records", target, 10);
    expect(rows.map((r) => r.id)).toEqual(outcomes.map((o) => o.record.id));
    const vectors = rows.map((r) => ({ id: r.id, vector: new Float32Array(384).fill(r.id % 2 ? 1 : -1) }));
    expect(await store.writeReindexBatch({ owner: "two", space: "records", model: target, rows: vectors, now: T0 + 1 })).toBe(false);
    expect(await store.writeReindexBatch({ owner: "one", space: "records", model: target, rows: vectors.slice(0, 1), now: T0 + 1 })).toBe(true);
    expect((await store.rowsToReindex("records", target, 10)).map((r) => r.id)).toEqual([rows[1]!.id]);
    expect(await store.renewReindexLease("two", T0 + 2)).toBe(false);
    expect(await store.renewReindexLease("one", T0 + 2)).toBe(true);
    expect((await store.settings()).reindex).toMatchObject({ status: "running", done: 1, heartbeat: T0 + 2 });
    await store.failReindex("two", "not mine");
    expect((await store.settings()).reindex.status).toBe("running");
    expect(await store.writeReindexBatch({ owner: "one", space: "records", model: target, rows: vectors.slice(1), now: T0 + 3 })).toBe(true);
    expect(await store.finishReindex("two", target, EMBEDDING)).toBe(false);
    expect(await store.finishReindex("one", target, EMBEDDING)).toBe(true);
    expect(await store.settings()).toMatchObject({ indexModel: target, reindex: { status: "complete", done: 2, total: 2, model: target } });
    expect((await store.getRecord(rows[0]!.id))!.embedding_model).toBe(target);
    expect(Array.from((await store.recordVector(rows[0]!.id, target))!.slice(0, 2))).toEqual(Array.from(vectors[0]!.vector.slice(0, 2)));
  });

  test("expiry erases: the words, value and vector go, a tombstone stays; a faded record expires below the floor", async () => {
    const store = await open();
    const ctx = (await store.writeFacts(await factsWrite(alice, [fact("The user is at gate 12.", "gate", "12", { memory_category: "context" })], T0))).outcomes[0]!.record;
    const faded = (await store.writeFacts(await factsWrite(alice, [fact("The user tried sushi once.", null, null, { memory_category: "knowledge" })], T0))).outcomes[0]!.record;
    // Knowledge decays ×0.1 a day: below the floor (0.05) after a few days, long before any TTL.
    await store.decayRange(0, await store.maxRecordId(), { context: 1, knowledge: 0.1 }, T0 + 3 * DAY);
    const step = await store.expireBatch(100, T0 + 8 * DAY);
    expect(step).toMatchObject({ changed: 2, belowFloor: 1, done: true });
    for (const id of [ctx.id, faded.id]) {
      expect(await store.getRecord(id)).toMatchObject({ status: "expired", text: "", value: null, subject: null, attribute: null, erased_at: T0 + 8 * DAY });
      expect(await store.recordVector(id, EMBEDDING)).toBeUndefined();
    }
    expect(JSON.parse((await store.getRecord(faded.id))!.history).at(-1)).toMatchObject({ event: "expired", detail: "importance below floor" });
    const found = await store.recordCandidates({ filter: { scopeKeys: [key], now: T0, includeExpired: true }, text: { query: "sushi gate", keywords: [], subjects: [], attributes: [] }, candidates: 10 });
    expect(found.fts).toEqual([]);
  });

  test("two instances at once: budget charges add up, backlog items are taken once", async () => {
    const a = await open("shared-budget");
    const b = await open("shared-budget");
    await a.addToBacklog(Array.from({ length: 10 }, (_, i) => ({ recordId: i + 1, actor, parentTrace: 1 })), T0);
    const charge = (i: number) => (i % 2 ? a : b).chargeBudget({ windowStart: T0, tokens: 10, calls: 1 });
    const take = (i: number) => (i % 2 ? a : b).takeFromBacklog(3);
    // Concurrently where opens are separate sessions (a PostgreSQL server); PGlite serves one session to all
    // connections and interleaved statements confuse it, so there (and on SQLite) one after another.
    const all = async <T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> => {
      if (subject().separateSessions) return Promise.all(Array.from({ length: n }, (_, i) => f(i)));
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(await f(i));
      return out;
    };
    const [, takes] = await Promise.all([all(8, charge), all(4, take)]);
    const taken = takes.flat().map((i) => i.recordId);
    expect((await b.budget()).window).toMatchObject({ tokens: 80, calls: 8 });
    expect(taken.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
}
