/**
 * The shared suite every store engine passes, through the Store interface only (src/store/store.ts): each test
 * opens the store of a Context of its own. Run by test/postgres/store-contract.test.ts on PostgreSQL (a server;
 * PGlite with pgvector) and by test/contract/sqlite-store-contract.test.ts on SQLite (a file; the evolution part
 * on :memory: too). Its parts: storeContractMore (store-more.contract.ts), the base below, evolutionContract.
 */
import { expect, test } from "vitest";
import type { StoreChange } from "../../src/store/store.js";
import { scopeKey } from "../../src/store/scope.js";
import { actor, embed, EMBEDDING, fact, factsWrite } from "../postgres/fixtures.js";
import { storeContractMore } from "./store-more.contract.js";
import { alice, DAY, opener, T0, turnOf, type ContractStore, type StoreSubject } from "./store-subject.js";

export type { ContractStore, StoreSubject };

export function storeContract(subject: () => StoreSubject): void {
  storeContractMore(subject, opener(subject, "more"));
  storeContractBase(subject);
  evolutionContract(subject);
}

function storeContractBase(subject: () => StoreSubject): void {
  const open = opener(subject, "ctx");

  test("a Context is created once; settings written by one instance reach another", async () => {
    const a = await open("shared-settings");
    const b = await open("shared-settings");
    expect((await a.settings()).models.embedding).toBe(EMBEDDING);
    expect((await a.settings()).createdAt).toBe(T0);
    const seen: StoreChange[] = [];
    b.subscribe((c) => seen.push(c));
    await a.updateSettings({ lastDecayAt: T0 + DAY });
    await b.poll();
    expect(seen).toContainEqual({ kind: "settings" });
    expect((await b.settings()).lastDecayAt).toBe(T0 + DAY);
  });

  test("turns: stored pending, listed in order, failed after the last attempt", async () => {
    const store = await open();
    const one = await store.storeTurn(turnOf(store, "I moved to Lisbon.", T0), null);
    const two = await store.storeTurn(turnOf(store, "Hello there.", T0 + 1), T0 + DAY);
    expect(one).toMatchObject({ status: "pending", attempts: 0, content: "I moved to Lisbon.", created_at: T0 });
    expect((await store.listTurns({ status: "pending", limit: 10 })).map((t) => t.id)).toEqual([one.id, two.id]);
    expect(await store.failTurnAttempt(one.id, "boom", 2, T0 + 5)).toBe("pending");
    expect(await store.failTurnAttempt(one.id, "boom", 2, T0 + 6)).toBe("failed");
    expect(await store.getTurn(one.id)).toMatchObject({ status: "failed", attempts: 2, error: "boom", updated_at: T0 + 6 });
  });

  test("a new value of a single-valued attribute supersedes the old one; a restatement reinforces", async () => {
    const store = await open();
    const first = await store.writeFacts(await factsWrite(alice, [fact("The user lives in Lisbon.", "city", "Lisbon")], T0));
    const old = first.outcomes[0]!.record;
    expect(first.outcomes.map((o) => o.outcome)).toEqual(["created"]);
    const again = await store.writeFacts(await factsWrite(alice, [fact("The user lives in Lisbon.", "city", "Lisbon")], T0 + 1));
    expect(again.outcomes[0]).toMatchObject({ outcome: "updated", record: { id: old.id, proof_count: 2 } });
    const moved = await store.writeFacts(await factsWrite(alice, [fact("The user lives in Porto.", "city", "Porto")], T0 + 2));
    const created = moved.outcomes.find((o) => o.outcome === "created")!.record;
    expect(moved.outcomes.find((o) => o.outcome === "superseded")!.record).toMatchObject({ id: old.id, status: "superseded", superseded_by: created.id });
    const live = await store.listRecords({ scopeKeys: [scopeKey(alice)], limit: 10, now: T0 + 3 });
    expect(live.map((r) => r.text)).toEqual(["The user lives in Porto."]);
    expect(await store.recordVector(old.id, EMBEDDING)).toBeUndefined();
    expect((await store.recordVector(created.id, EMBEDDING))?.length).toBe(384);
    const trace = await store.getTrace(moved.traceId);
    expect(JSON.parse(trace!.payload).outcomes.map((o: { outcome: string }) => o.outcome).sort()).toEqual(["created", "superseded"]);
  });

  test("nearest records: the closest visible one first, exact for few and by the ANN index for many", async () => {
    const store = await open();
    const texts = Array.from({ length: 60 }, (_, i) => `The user collects item number ${i} of kind ${i % 7}.`);
    for (let i = 0; i < texts.length; i += 20) {
      await store.writeFacts(await factsWrite(alice, texts.slice(i, i + 20).map((t) => fact(t)), T0));
    }
    await store.writeFacts(await factsWrite({ user: "bob" }, [fact("The user collects item number 7 of kind 0.")], T0));
    const vector = await embed("The user collects item number 7 of kind 0.");
    const filter = { scopeKeys: [scopeKey(alice)], now: T0 };
    // An engine may build its ANN index in the background on first use (and search exactly meanwhile).
    await store.nearestRecords({ model: EMBEDDING, vector, k: 3, filter, exactLimit: 10 });
    await store.idle();
    const exact = await store.nearestRecords({ model: EMBEDDING, vector, k: 3, filter, exactLimit: 1000 });
    const ann = await store.nearestRecords({ model: EMBEDDING, vector, k: 3, filter, exactLimit: 10 });
    expect(exact.path).toBe("exact");
    expect(ann.path).toBe("ann");
    const top = (await store.getRecord(exact.hits[0]!.label))!;
    expect(top).toMatchObject({ text: "The user collects item number 7 of kind 0.", scope_key: scopeKey(alice) });
    expect(ann.hits[0]!.label).toBe(top.id);
    expect(exact.hits[0]!.distance).toBeCloseTo(0, 5);
    expect(ann.hits.map((h) => h.label)).toEqual(exact.hits.map((h) => h.label));
  });

  test("tier-3 channels: vector, full text, graph and the records of matching turns, all within the filter", async () => {
    const store = await open();
    const turn = await store.storeTurn(turnOf(store, "I adopted a cat named Miso.", T0), null);
    await store.extractTurn(turn.id, await factsWrite(alice, [fact("The user has a cat named Miso.", "pet", "cat", { entities: ["Miso"] })], T0, { kind: "turn", id: `turn_${turn.id}`, key: null }));
    await store.writeFacts(await factsWrite(alice, [fact("Miso likes sleeping in the sun.", null, null, { subject: "Miso", entities: ["Miso"] })], T0));
    await store.writeFacts(await factsWrite(alice, [fact("The user plays the violin.", "instrument", "violin")], T0));
    await store.writeFacts(await factsWrite({ user: "bob" }, [fact("The user has a cat named Miso.", "pet", "cat", { entities: ["Miso"] })], T0));
    const live = await store.listRecords({ scopeKeys: [scopeKey(alice)], limit: 10, now: T0 });
    const id = (text: string) => live.find((r) => r.text === text)!.id;
    const got = await store.recordCandidates({
      filter: { scopeKeys: [scopeKey(alice)], now: T0 },
      text: { query: "What is my cat called?", keywords: ["miso"], subjects: ["user"], attributes: ["pet"] },
      vector: { model: EMBEDDING, vector: await embed("What is my cat called?"), enough: 10 },
      turnIds: [turn.id],
      candidates: 10,
    });
    expect(got.vectorPath).toBe("exact");
    expect(new Set(got.vector.map((c) => c.id))).toEqual(new Set(live.map((r) => r.id)));
    expect(got.fts.map((c) => c.id).sort()).toEqual([id("The user has a cat named Miso."), id("Miso likes sleeping in the sun.")].sort());
    expect(got.graph).toEqual([
      { id: id("The user has a cat named Miso."), score: 1 },
      { id: id("Miso likes sleeping in the sun."), score: 0.8 },
    ]);
    expect(got.ofTurns).toEqual([id("The user has a cat named Miso.")]);
  });

  test("passages: found by a stemmed word, in scope, while live", async () => {
    const store = await open();
    const turn = await store.storeTurn(turnOf(store, "We are moving to Lisbon next spring.", T0), T0 + DAY);
    await store.storeTurn(turnOf(store, "Nothing about that here.", T0), T0 + DAY);
    const hits = await store.passageCandidates({ text: { query: "Where am I moving to?", keywords: ["lisbon"] }, scopeKeys: [scopeKey(alice)], now: T0 + 1, candidates: 10 });
    // The matching turn first; an engine may also score its neighbours by their context (SQLite's small scopes
    // count the words of the turns around each one), always below it.
    expect(hits[0]?.id).toBe(turn.id);
    for (const other of hits.slice(1)) expect(other.score).toBeLessThan(hits[0]!.score);
    expect(await store.passageCandidates({ text: { query: "moved", keywords: [] }, scopeKeys: [scopeKey({ user: "bob" })], now: T0 + 1, candidates: 10 })).toEqual([]);
    expect(await store.passageCandidates({ text: { query: "moved", keywords: [] }, scopeKeys: [scopeKey(alice)], now: T0 + DAY, candidates: 10 })).toEqual([]);
    expect((await store.livePassages([turn.id], [scopeKey(alice)], T0 + 1)).map((p) => p.content)).toEqual(["We are moving to Lisbon next spring."]);
  });

  test("a turn is extracted once: a second extraction finds it done", async () => {
    const store = await open();
    const turn = await store.storeTurn(turnOf(store, "I live in Oslo.", T0), null);
    const write = await factsWrite(alice, [fact("The user lives in Oslo.", "city", "Oslo")], T0, { kind: "turn", id: `turn_${turn.id}`, key: "turn:-:user" });
    const [a, b] = await Promise.all([store.extractTurn(turn.id, write), store.extractTurn(turn.id, write)]);
    expect([a, b].filter((x) => x === undefined)).toHaveLength(1);
    expect(await store.getTurn(turn.id)).toMatchObject({ status: "extracted" });
    expect(await store.listRecords({ scopeKeys: [scopeKey(alice)], limit: 10, now: T0 })).toHaveLength(1);
  });

  test("a forgotten record leaves its text, its vector, the full text and the cache; a tombstone trace stays", async () => {
    const store = await open();
    const { outcomes } = await store.writeFacts(await factsWrite(alice, [fact("The user's door code is 4711.", "door_code", "4711")], T0));
    const id = outcomes[0]!.record.id;
    const forgotten = await store.forgetRecord(id, actor, T0 + 1);
    // Erasure (store/erase.ts): the words go, a tombstone stays.
    expect(forgotten).toMatchObject({ id, status: "forgotten", text: "", value: null, subject: null, attribute: null, updated_at: T0 + 1, erased_at: T0 + 1 });
    expect(JSON.parse(forgotten.history).at(-1)).toMatchObject({ at: T0 + 1, event: "forgotten" });
    expect(await store.recordVector(id, EMBEDDING)).toBeUndefined();
    const found = await store.recordCandidates({ filter: { scopeKeys: [scopeKey(alice)], now: T0 + 2 }, text: { query: "door code", keywords: [], subjects: [], attributes: [] }, candidates: 10 });
    expect(found.fts).toEqual([]);
    const tombstone = JSON.parse(forgotten.history).at(-1).trace as number;
    expect((await store.traceEdges(tombstone)).out).toMatchObject([{ kind: "forgot", dst_type: "record", dst_id: String(id) }]);
    expect((await store.tracesByIds([tombstone]))[0]).toMatchObject({ kind: "decision_trace", scope_key: scopeKey(alice) });
    expect((await store.edgesOfTraces([tombstone])).map((e) => e.kind)).toEqual(["forgot"]);
    expect(await store.scopeKeysOf("record", [id])).toEqual(new Map([[id, scopeKey(alice)]]));
  });

  test("documents: stored pending with their chunks, attempts counted, failed at the last, removed with their chunks", async () => {
    const store = await open();
    const doc = await store.storeDocument(
      { scope_key: scopeKey(alice), title: "Notes", metadata: null, principal: null, on_behalf_of: null, session: null, created_at: T0, text: "One. Two." },
      ["One.", "Two."],
    );
    expect(doc).toMatchObject({ status: "pending", attempts: 1, chunks: 2, title: "Notes", created_at: T0, updated_at: T0 });
    expect((await store.documentChunks(doc.id)).map((c) => c.text)).toEqual(["One.", "Two."]);
    await store.touchDocument(doc.id, T0 + 5);
    expect(await store.listDocuments({ status: "pending", touchedBefore: T0 + 5, limit: 10 })).toEqual([]);
    expect(await store.failDocumentAttempt(doc.id, "boom", 2, T0 + 6)).toBe("pending");
    await store.startDocumentAttempt(doc.id, T0 + 7);
    expect(await store.failDocumentAttempt(doc.id, "boom", 2, T0 + 8)).toBe("failed");
    expect((await store.listDocuments({ status: "failed", limit: 10 })).map((d) => d.id)).toEqual([doc.id]);
    expect(await store.removeDocument(doc.id)).toEqual({ chunks: 2 });
    expect(await store.getDocument(doc.id)).toBeUndefined();
    expect(await store.documentChunks(doc.id)).toEqual([]);
    expect(await store.removeDocument(doc.id)).toBeUndefined();
  });

  test("a document is indexed once: chunk vectors and facts; its chunks are found by words and by meaning", async () => {
    const store = await open();
    const pieces = ["The office moved to Porto in May.", "Lunch is served at noon on weekdays.", "Parking is behind the building."];
    const doc = await store.storeDocument(
      { scope_key: scopeKey(alice), title: "Handbook", metadata: null, principal: null, on_behalf_of: null, session: null, created_at: T0, text: pieces.join(" ") },
      pieces,
    );
    const vectors = await Promise.all(pieces.map(embed));
    const facts = await factsWrite(alice, [fact("The office is in Porto.", null, null, { subject: "office", memory_category: "knowledge" })], T0, { kind: "document", id: `doc_${doc.id}`, key: `doc:${doc.id}` });
    const written = await store.indexDocument(doc.id, { model: EMBEDDING, vectors }, facts);
    expect(typeof written === "object" && written.outcomes.map((o) => o.outcome)).toEqual(["created"]);
    expect(await store.indexDocument(doc.id, { model: EMBEDDING, vectors }, facts)).toBe("indexed");
    expect(await store.indexDocument(doc.id + 1000, { model: EMBEDDING, vectors }, facts)).toBe("gone");
    expect((await store.getDocument(doc.id))!.status).toBe("indexed");
    const byWords = await store.chunkCandidates({ text: { query: "when is lunch?", keywords: [] }, scopeKeys: [scopeKey(alice)], candidates: 10, limit: 3 });
    expect(byWords[0]!.row).toMatchObject({ text: "Lunch is served at noon on weekdays.", title: "Handbook", document_id: doc.id });
    const byMeaning = await store.chunkCandidates({ text: { query: "", keywords: [] }, scopeKeys: [scopeKey(alice)], vector: { model: EMBEDDING, vector: await embed("Parking is behind the building.") }, candidates: 10, limit: 1 });
    expect(byMeaning.map((c) => c.row.text)).toEqual(["Parking is behind the building."]);
    expect(await store.chunkCandidates({ text: { query: "lunch", keywords: [] }, scopeKeys: [scopeKey({ user: "bob" })], candidates: 10, limit: 3 })).toEqual([]);
  });

  test("ranking feedback: records returned for similar past queries in scope", async () => {
    const store = await open();
    const { outcomes } = await store.writeFacts(await factsWrite(alice, [fact("The user's dentist is Dr. Silva.", "dentist", "Dr. Silva")], T0));
    const cited = outcomes[0]!.record.id;
    const key = scopeKey(alice);
    await store.writeAnswer({
      retrieval: { actor, scopeKey: key, payload: {}, returned: [cited], returnedChunks: [], considered: [] },
      response: { actor, scopeKey: key, payload: {} },
      query: { text: "Who is my dentist?", norm: "who is my dentist", model: EMBEDDING, vector: await embed("Who is my dentist?") },
      now: T0 + 1,
    });
    const boosts = await store.feedbackBoosts({ model: EMBEDDING, vector: await embed("Who is my dentist?"), scopeKeys: [key], similar: 0.8, recent: 100 });
    expect([...boosts.keys()]).toEqual([cited]);
    expect(boosts.get(cited)).toBeCloseTo(1, 5);
    expect((await store.feedbackBoosts({ model: EMBEDDING, vector: await embed("Who is my dentist?"), scopeKeys: [scopeKey({ user: "bob" })], similar: 0.8, recent: 100 })).size).toBe(0);
  });

  test("an extraction made elsewhere is found with its outcomes", async () => {
    const store = await open();
    const turn = await store.storeTurn(turnOf(store, "I live in Rome.", T0), null);
    expect(await store.extractionOfTurn(turn.id)).toBeUndefined();
    const written = await store.extractTurn(turn.id, await factsWrite(alice, [fact("The user lives in Rome.", "city", "Rome")], T0, { kind: "turn", id: `turn_${turn.id}`, key: null }));
    const found = await store.extractionOfTurn(turn.id);
    expect(found?.traceId).toBe(written!.traceId);
    expect(found?.outcomes).toEqual([{ record: written!.outcomes[0]!.record, outcome: "created" }]);
  });

  test("sweeps: expiry and decay follow the injected clock", async () => {
    let now = T0;
    const store = await open(undefined, () => now);
    const write = await factsWrite(alice, [fact("The user is at the airport.", null, null, { memory_category: "context" })], T0);
    const { outcomes } = await store.writeFacts(write);
    const id = outcomes[0]!.record.id;
    // Context facts live 7 days without a retention rule.
    expect(outcomes[0]!.record.expires_at).toBe(T0 + 7 * DAY);
    expect(await store.expireBatch(100, T0 + 7 * DAY - 1)).toMatchObject({ changed: 0, done: true });
    now = T0 + 7 * DAY + 1;
    expect(await store.decayRange(0, await store.maxRecordId(), { context: 0.5, knowledge: 0.9 }, now)).toBe(1);
    expect((await store.getRecord(id))!.importance).toBeCloseTo(0.5 * 0.5 ** 7, 10);
    expect(await store.expireBatch(100, now)).toMatchObject({ changed: 1, done: true });
    expect((await store.getRecord(id))!.status).toBe("expired");
    expect(await store.recordVector(id, EMBEDDING)).toBeUndefined();
    expect(await store.populatedScopeKeys([scopeKey(alice)])).toEqual([]);
  });

  // The cases of two instances at once need two sessions: on PGlite (one session behind its socket server) the
  // second instance's connection is terminated, so they run on the PostgreSQL server and on SQLite only.
  test("another instance learns of writes through the change log", async (t) => {
    if (!subject().changeLog || !subject().separateSessions) t.skip();
    const a = await open("feed");
    const b = await open("feed");
    const seen: StoreChange[] = [];
    b.subscribe((c) => seen.push(c));
    await a.writeFacts(await factsWrite(alice, [fact("The user likes tea.", "drink", "tea")], T0));
    const moved = await a.writeFacts(await factsWrite(alice, [fact("The user likes coffee.", "drink", "coffee")], T0 + 1));
    await b.poll();
    const retired = moved.outcomes.find((o) => o.outcome === "superseded")!.record.id;
    expect(seen.filter((c) => c.kind === "records").flatMap((c) => (c.kind === "records" ? c.ids : []))).toContain(retired);
    const created = moved.outcomes.find((o) => o.outcome === "created")!.record.id;
    // An add whose vector was removed again before the reader got to it is left out (the removal follows).
    const vectors = seen.flatMap((c) => (c.kind === "vectors" ? c.changes.map((x) => `${x.op}:${x.label}`) : []));
    expect(vectors).toContain(`add:${created}`);
    expect(vectors.at(-1)).toBe(`remove:${retired}`);
    const hit = await b.nearestRecords({ model: EMBEDDING, vector: await embed("The user likes coffee."), k: 1, filter: { scopeKeys: [scopeKey(alice)], now: T0 + 2 } });
    expect((await b.getRecord(hit.hits[0]!.label))!.text).toBe("The user likes coffee.");
  });

  test("a cached answer is served while its facts stand, and never after another instance supersedes one", async (t) => {
    if (!subject().separateSessions && subject().changeLog) t.skip();
    const a = await open("cache");
    const b = await open("cache");
    const key = scopeKey(alice);
    const { outcomes } = await a.writeFacts(await factsWrite(alice, [fact("The user is on the Pro plan.", "plan", "Pro")], T0));
    const cited = outcomes[0]!.record.id;
    const retrieval = { actor, scopeKey: key, payload: { query: "which plan am I on?" }, returned: [cited], returnedChunks: [], considered: [] };
    await b.writeAnswer({
      retrieval,
      response: { actor, scopeKey: key, payload: { answer: "Pro." } },
      query: { text: "Which plan am I on?", norm: "which plan am i on", model: EMBEDDING, vector: await embed("Which plan am I on?") },
      cache: { scopeKey: key, signature: "plan", answer: "Pro.", deps: [cited], topics: ["attr:user/plan"], chunkDeps: [] },
      now: T0 + 1,
    });
    const [entry] = await b.cacheByQuery(key, "which plan am i on");
    expect(entry).toMatchObject({ answer: "Pro.", signature: "plan", created_at: T0 + 1 });
    expect(await b.cacheEntryUsable(entry!.id, T0 + 2, 0)).toEqual({ deps: [cited], chunks: [] });
    const similar = await b.cacheBySimilarity({ cacheKey: key, signature: "plan", model: EMBEDDING, vector: await embed("Which plan am I on now?"), k: 4, threshold: 0.5 });
    expect(similar.map((s) => s.entry.id)).toEqual([entry!.id]);
    expect(await b.cacheBySimilarity({ cacheKey: key, signature: "city", model: EMBEDDING, vector: await embed("Which plan am I on?"), k: 4, threshold: 0.5 })).toEqual([]);
    const reused = await b.writeReuse({ actor, scopeKey: key, payload: { tier: 1 }, reusedFrom: entry!.response_trace_id, cited: [], reinforce: [cited], now: T0 + 3 });
    expect(reused.records.map((r) => r.last_accessed_at)).toEqual([T0 + 3]);

    await a.writeFacts(await factsWrite(alice, [fact("The user is on the Enterprise plan.", "plan", "Enterprise")], T0 + 4));
    expect(await b.cacheEntryUsable(entry!.id, T0 + 5, 0)).toBeUndefined();
    expect(await b.cacheByQuery(key, "which plan am i on")).toEqual([]);
  });

  test("a sweep lock held by one instance keeps another out until it is released", async (t) => {
    if (!subject().separateSessions && subject().changeLog) t.skip();
    const a = await open("locks");
    const b = await open("locks");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = a.withSweepLock("decay", async () => {
      entered();
      await held;
      return "a";
    });
    await inside;
    const second = await b.withSweepLock("decay", async () => "b");
    if (subject().separateSessions) expect(second).toBeUndefined();
    release();
    expect(await first).toBe("a");
    expect(await b.withSweepLock("decay", async () => "b")).toBe("b");
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The evolution sweeps, the background budget and backlog, the reflection pass's neighbours and the hand edit
// (issue 13: what lifecycle/consolidate, elaborate, budget, pipeline/reflection-pass and update-record do through
// the store). A separate suite so that an engine runs it once it implements these methods.

const cosine = (a: Float32Array, b: Float32Array) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) (dot += a[i]! * b[i]!), (na += a[i]! * a[i]!), (nb += b[i]! * b[i]!);
  return dot / Math.sqrt(na * nb);
};

/** Memory that evolves: consolidation, elaboration, the background budget, reflection's neighbours, hand edits. */
export function evolutionContract(subject: () => StoreSubject): void {
  const open = opener(subject, "evo");
  const many = (text: string, attribute: string, value: string, entities: string[] = []) =>
    fact(text, attribute, value, { kind: "attribute", memory_category: "knowledge", cardinality: "many", entities });

  test("consolidation: clusters of one slot, answers' records reinforced once (the watermark), an observation with its proof count", async () => {
    const store = await open();
    const key = scopeKey(alice);
    const { outcomes } = await store.writeFacts(
      await factsWrite(alice, [many("The user plays chess.", "hobby", "chess"), many("The user plays tennis.", "hobby", "tennis"), fact("The user lives in Oslo.", "city", "Oslo")], T0),
    );
    const [chess, tennis] = outcomes.map((o) => o.record);
    expect(await store.consolidationClusters({ now: T0, minSize: 2, limit: 10 })).toEqual([{ scopeKey: key, subject: "user", attribute: "hobby", ids: [chess!.id, tennis!.id] }]);
    expect(await store.consolidationClusters({ now: T0, minSize: 3, limit: 10 })).toEqual([]);

    // Two answers: one used chess (its `used` ids), one said it did not know (counts for nothing).
    const answer = async (answerText: string, used: number[]) =>
      store.writeAnswer({
        retrieval: { actor, scopeKey: key, payload: {}, returned: [chess!.id, tennis!.id], returnedChunks: [], considered: [] },
        response: { actor, scopeKey: key, payload: { answer: answerText, used: used.map((id) => `rec_${id}`) } },
        query: { text: "What do I play?", norm: "what do i play", model: EMBEDDING, vector: await embed("What do I play?") },
        now: T0 + 1,
      });
    const first = await answer("Chess.", [chess!.id]);
    await answer("I don't know.", []);
    await store.flush();
    const begun = await store.beginConsolidation({ actor, now: T0 + 2, answers: 100, factor: 1.1, noAnswer: "I don't know." });
    expect(begun).toMatchObject({ reinforced: 1, answers: 1 });
    expect(begun.through).toBeGreaterThanOrEqual(first.responseTraceId);
    const sweep = await store.getTrace(begun.sweepId);
    expect(sweep).toMatchObject({ kind: "sweep_trace" });
    expect(JSON.parse(sweep!.payload)).toMatchObject({ sweep: "consolidate", complete: false, through_response_trace: begun.through });
    const reinforced = (await store.getRecord(chess!.id))!;
    expect(reinforced.importance).toBeCloseTo(chess!.importance * 1.1, 6);
    expect(reinforced.last_accessed_at).toBe(T0 + 2);
    expect(JSON.parse(reinforced.history).at(-1)).toMatchObject({ event: "reinforced", trace: begun.sweepId });
    expect((await store.getRecord(tennis!.id))!.importance).toBe(tennis!.importance);
    // The next consolidation starts after the watermark: nothing read twice.
    const again = await store.beginConsolidation({ actor, now: T0 + 3, answers: 100, factor: 1.1, noAnswer: "I don't know." });
    expect(again).toMatchObject({ reinforced: 0, answers: 0, through: begun.through });
    expect((await store.getRecord(chess!.id))!.importance).toBeCloseTo(reinforced.importance, 9);

    const observation = fact("The user plays chess and tennis.", "hobby.summary", "The user plays chess and tennis.", { kind: "observation", memory_category: "knowledge" });
    const written = await store.writeObservation({
      facts: { ...(await factsWrite(alice, [observation], T0 + 4, { kind: "consolidation", id: `trace_${begun.sweepId}`, key: null, node: { type: "trace", id: begun.sweepId } })), derivedFrom: [chess!.id, tennis!.id], parentTrace: begun.sweepId },
      members: [chess!.id, tennis!.id],
      proofCount: 7,
    });
    expect(written.recordId).toBeDefined();
    const obs = (await store.getRecord(written.recordId!))!;
    expect(obs).toMatchObject({ kind: "observation", source_kind: "consolidation", proof_count: 7 });
    expect(JSON.parse(obs.derived_from)).toEqual([`rec_${chess!.id}`, `rec_${tennis!.id}`]);
    expect(JSON.parse(obs.history).at(-1)).toMatchObject({ event: "consolidated", detail: `rec_${chess!.id},rec_${tennis!.id}`, trace: written.written.traceId });
    expect((await store.liveRecordsOfSlot({ scopeKey: key, subject: "user", attribute: "hobby.summary" })).map((r) => r.id)).toEqual([obs.id]);
    expect(await store.liveRecordsOfSlot({ scopeKey: scopeKey({ user: "bob" }), subject: "user", attribute: "hobby.summary" })).toEqual([]);
    // Observations are never clustered themselves.
    expect((await store.consolidationClusters({ now: T0 + 4, minSize: 1, limit: 10 })).map((c) => c.attribute).sort()).toEqual(["city", "hobby"]);
    // Nothing expired is clustered.
    expect(await store.consolidationClusters({ now: T0 + 400 * DAY, minSize: 2, limit: 10 })).toHaveLength(obs.expires_at === null ? 1 : 0);
  });

  test("elaboration: entities examined together, document–turn bridges, links, rejections and relations", async () => {
    const store = await open();
    // Two decision traces each create a record about Ana and one about Bruno: the pair comes up twice, no record links them.
    const a1 = await store.writeFacts(await factsWrite(alice, [many("Ana runs the bakery.", "role", "baker", ["Ana"]), many("Bruno fixes bikes.", "role", "mechanic", ["Bruno"])], T0));
    const a2 = await store.writeFacts(await factsWrite(alice, [many("Ana likes jazz.", "likes", "jazz", ["Ana"]), many("Bruno likes rock.", "likes", "rock", ["Bruno"])], T0 + 1));
    const pairs = await store.coConsideredPairs({ traces: 100, minCount: 2 });
    expect(pairs).toHaveLength(1);
    const pair = pairs[0]!;
    expect(pair).toMatchObject({ scopeKey: scopeKey(alice), count: 2 });
    expect(pair.a).toBeLessThan(pair.b);
    expect([...pair.evidence].sort((x, y) => x - y)).toEqual([...a1.outcomes, ...a2.outcomes].map((o) => o.record.id).sort((x, y) => x - y));
    expect(await store.coConsideredPairs({ traces: 1, minCount: 2 })).toEqual([]);
    const names = await store.entityNamesById([pair.a, pair.b]);
    expect([names.get(pair.a), names.get(pair.b)].sort()).toEqual(["Ana", "Bruno"]);

    expect(await store.entitiesLinked(pair.a, pair.b)).toBe(false);
    await store.rejectEntityPair({ a: pair.a, b: pair.b, now: T0 + 2 });
    expect(await store.entitiesLinked(pair.a, pair.b)).toBe(true);
    expect(await store.entitiesLinked(pair.b, pair.a)).toBe(true);

    const user = await store.ensureEntity({ name: "User", normName: "user", now: T0 });
    expect(await store.ensureEntity({ name: "User", normName: "user", now: T0 + 5 })).toBe(user);
    const kyiv = await store.ensureEntity({ name: "Kyiv", normName: "kyiv", now: T0 });
    expect(await store.entitiesLinked(user, kyiv)).toBe(false);
    const relation = fact("The user has visited Kyiv.", "visited", "Kyiv", { kind: "relation", memory_category: "knowledge", cardinality: "many", entities: ["Kyiv"] });
    const written = await store.writeRelation({ facts: await factsWrite(alice, [relation], T0 + 3, { kind: "elaboration", id: null, key: null }), a: user, b: kyiv, relation: "visited" });
    expect(written.outcomes.map((o) => [o.outcome, o.record.kind, o.record.source_kind])).toEqual([["created", "relation", "elaboration"]]);
    expect(await store.entitiesLinked(user, kyiv)).toBe(true);

    // A conversation and a document both mention Acme: the turn record's other entities meet the document's.
    const turnFacts = await store.writeFacts(await factsWrite(alice, [many("Ana works at Acme.", "employer", "Acme", ["Ana", "Acme"])], T0 + 4, { kind: "turn", id: "turn_1", key: null }));
    const docFacts = await store.writeFacts(await factsWrite(alice, [many("Acme is based in Berlin.", "based_in", "Berlin", ["Acme", "Berlin"])], T0 + 5, { kind: "document", id: "doc_1", key: null }));
    const bridges = await store.documentTurnBridges(10);
    expect(bridges).toHaveLength(1);
    const bridge = bridges[0]!;
    const acme = [...(await store.entityNamesById([bridge.via]))][0]!;
    expect(acme[1]).toBe("Acme");
    expect(bridge).toMatchObject({ turnRecord: turnFacts.outcomes[0]!.record.id, docRecord: docFacts.outcomes[0]!.record.id, scopeKey: scopeKey(alice), subject: "user" });
    const named = async (ids: number[]) => [...(await store.entityNamesById(ids)).values()].sort();
    expect(await named(bridge.turnEntities)).toEqual(["Ana"]);
    expect(await named(bridge.docEntities)).toEqual(["Berlin"]);
    expect(bridge.turnEntities).not.toContain(bridge.via);
  });

  test("budget: config, a day's window charged from two instances, deferrals, and the backlog oldest first", async () => {
    const a = await open("budget-shared");
    const b = subject().oneDatabasePerOpen ? a : await open("budget-shared");
    expect(await a.budget()).toEqual({ config: { background_tokens_per_day: null }, window: null, backlog: 0 });
    expect((await a.setBudget({ background_tokens_per_day: 1_000 })).config).toEqual({ background_tokens_per_day: 1_000 });
    expect((await b.budget()).config).toEqual({ background_tokens_per_day: 1_000 });

    await a.chargeBudget({ windowStart: T0, tokens: 100, calls: 1 });
    await b.chargeBudget({ windowStart: T0, tokens: 50, calls: 1 });
    const deferred = await a.chargeBudget({ windowStart: T0, deferred: { consolidation: 1 } });
    expect(deferred.window).toEqual({ start: T0, tokens: 150, calls: 2, deferred: { reconciliation: 0, consolidation: 1, elaboration: 0 } });
    // A new day starts a fresh window.
    expect((await b.chargeBudget({ windowStart: T0 + DAY, tokens: 5, calls: 1 })).window).toEqual({ start: T0 + DAY, tokens: 5, calls: 1, deferred: { reconciliation: 0, consolidation: 0, elaboration: 0 } });

    const { outcomes } = await a.writeFacts(await factsWrite(alice, [fact("The user lives in Oslo.", "city", "Oslo"), fact("The user is 40.", "age", "40")], T0));
    const [r1, r2] = outcomes.map((o) => o.record.id);
    const parent = (await a.writeFacts(await factsWrite(alice, [fact("The user drinks tea.", "drink", "tea")], T0))).traceId;
    const who = { principal: "app", onBehalfOf: "alice", session: "s1" };
    await a.addToBacklog([{ recordId: r1!, actor: who, parentTrace: parent }], T0);
    await b.addToBacklog([{ recordId: r2!, actor, parentTrace: parent }], T0 + 1);
    expect((await a.budget()).backlog).toBe(2);
    const taken = await b.takeFromBacklog(1);
    expect(taken.map(({ recordId, actor: by, parentTrace }) => ({ recordId, by, parentTrace }))).toEqual([{ recordId: r1, by: who, parentTrace: parent }]);
    expect((await a.budget()).backlog).toBe(1);
    expect((await a.takeFromBacklog(10)).map((i) => i.recordId)).toEqual([r2]);
    expect(await a.takeFromBacklog(10)).toEqual([]);
    expect((await b.budget()).backlog).toBe(0);
    // usage()'s synchronous view: what this instance last read or changed, at least.
    expect(a.lastBudget()).toEqual(await a.budget());
    expect(b.lastBudget()).toEqual(await b.budget());
  });

  test("reflection neighbours: same slot and near restatements, never beyond the record's own scope", async () => {
    const store = await open();
    const texts = ["The user plays the violin every evening.", "The user plays the violin every single evening.", "The user owns a red bicycle.", "The user plays chess."];
    const { outcomes } = await store.writeFacts(
      await factsWrite(alice, [many(texts[0]!, "instrument", "violin"), many(texts[1]!, "practice", "evening"), many(texts[2]!, "owns", "bicycle"), many(texts[3]!, "instrument", "chess")], T0),
    );
    const ids = outcomes.map((o) => o.record.id);
    expect(outcomes.every((o) => o.outcome === "created")).toBe(true);
    // The same text in another scope is never a neighbour.
    await store.writeFacts(await factsWrite({ user: "bob" }, [many(texts[0]!, "instrument", "violin")], T0));
    const vectors = await Promise.all(texts.map((t) => embed(t)));
    const threshold = 0.6;
    const expected = ids.slice(1).filter((_, i) => cosine(vectors[0]!, vectors[i + 1]!) >= threshold);
    expect(expected).toContain(ids[1]); // the near restatement
    expect(expected).not.toContain(ids[2]);
    const found = await store.neighbourCandidates(
      [
        { recordId: ids[0]!, scopeKey: scopeKey(alice), subject: "user", attributes: ["instrument"], model: EMBEDDING },
        { recordId: ids[2]!, scopeKey: scopeKey(alice), subject: null, attributes: [], model: null },
      ],
      threshold,
    );
    const first = found.get(ids[0]!)!;
    expect(first.sameSlot).toEqual([ids[3]]);
    expect(first.similar.map((s) => s.id).sort((x, y) => x - y)).toEqual(expected);
    for (const s of first.similar) expect(s.similarity).toBeCloseTo(cosine(vectors[0]!, vectors[ids.indexOf(s.id)]!), 4);
    expect(found.get(ids[2]!)).toEqual({ sameSlot: [], similar: [] });
  });

  test("editRecord: new text, value and vector, history and trace, cited answers evicted; refused unless live", async () => {
    const store = await open();
    const key = scopeKey(alice);
    const { outcomes } = await store.writeFacts(await factsWrite(alice, [fact("The user lives in Lisbon.", "city", "Lisbon"), fact("The user is 40.", "age", "40")], T0));
    const [city, age] = outcomes.map((o) => o.record);
    await store.writeAnswer({
      retrieval: { actor, scopeKey: key, payload: {}, returned: [city!.id], returnedChunks: [], considered: [] },
      response: { actor, scopeKey: key, payload: { answer: "Lisbon." } },
      query: { text: "Where do I live?", norm: "where do i live", model: EMBEDDING, vector: await embed("Where do I live?") },
      cache: { scopeKey: key, signature: "city", answer: "Lisbon.", deps: [city!.id], topics: ["attr:user/city"], chunkDeps: [] },
      now: T0 + 1,
    });
    expect(await store.cacheByQuery(key, "where do i live")).toHaveLength(1);
    const vector = await embed("The user lives in Porto.");
    const done = await store.editRecord({ id: city!.id, text: "The user lives in Porto.", value: "Porto", model: EMBEDDING, vector, actor, now: T0 + 2 });
    if (!("record" in done)) throw new Error(`refused: ${done.refused}`);
    expect(done.record).toMatchObject({ id: city!.id, text: "The user lives in Porto.", value: "Porto", updated_at: T0 + 2, status: "current" });
    const last = JSON.parse(done.record.history).at(-1);
    expect(last).toMatchObject({ event: "updated", detail: "was: The user lives in Lisbon." });
    const trace = await store.getTrace(last.trace);
    expect(trace).toMatchObject({ kind: "decision_trace" });
    expect(JSON.parse(trace!.payload)).toMatchObject({ source: { kind: "update" }, outcomes: [{ outcome: "updated", previous: { text: "The user lives in Lisbon.", value: "Lisbon" } }], evicted_cache_entries: 1 });
    expect((await store.traceEdges(last.trace)).out.map((e) => [e.kind, e.dst_type, Number(e.dst_id)])).toContainEqual(["updated", "record", city!.id]);
    expect(await store.cacheByQuery(key, "where do i live")).toEqual([]);
    expect([...(await store.recordVector(city!.id, EMBEDDING))!]).toEqual([...vector]);
    await store.throttle();
    const near = await store.nearestRecords({ model: EMBEDDING, vector, k: 1, filter: { scopeKeys: [key], now: T0 + 3 } });
    expect(near.hits.map((h) => h.label)).toEqual([city!.id]);

    await store.forgetRecord(age!.id, actor, T0 + 3);
    const before = await store.getRecord(age!.id);
    expect(await store.editRecord({ id: age!.id, text: "The user is 41.", value: "41", model: EMBEDDING, vector, actor, now: T0 + 4 })).toEqual({ refused: "forgotten" });
    expect(await store.getRecord(age!.id)).toEqual(before);
    expect(await store.editRecord({ id: 987_654, text: "x", value: null, model: EMBEDDING, vector, actor, now: T0 + 4 })).toEqual({ refused: "gone" });
  });

  test("startSweep writes a sweep_trace with its payload", async () => {
    const store = await open();
    const id = await store.startSweep({ actor, payload: { sweep: "elaborate", complete: false }, now: T0 + 7 });
    const trace = await store.getTrace(id);
    expect(trace).toMatchObject({ kind: "sweep_trace", created_at: T0 + 7 });
    expect(JSON.parse(trace!.payload)).toEqual({ sweep: "elaborate", complete: false });
  });
}
