import { describe, expect, test } from "vitest";
import { hashEmbed } from "../src/models/local/hash-embedder.js";
import { similarAmong } from "../src/store/neighbours.js";
import { scopeKey } from "../src/store/scope.js";
import { SCAN_LIMIT } from "../src/store/sqlite/neighbours.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { T0 } from "./contract/store-subject.js";
import { mulberry32 } from "./helpers.js";
import { contextInit, embed, EMBEDDING, fact, factsWrite } from "./postgres/fixtures.js";

/** The plain exact scan the background pass did before: every component of every vector. */
function reference(query: Float32Array, ids: readonly number[], vectorOf: (id: number) => Float32Array | undefined, min: number, except: number) {
  let qn = 0;
  for (let i = 0; i < query.length; i++) qn += query[i]! * query[i]!;
  const hits: { id: number; similarity: number }[] = [];
  for (const other of ids) {
    if (other === except) continue;
    const v = vectorOf(other);
    if (!v) continue;
    let dot = 0;
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      dot += v[i]! * query[i]!;
      n += v[i]! * v[i]!;
    }
    const similarity = dot / (Math.sqrt(n * qn) || 1);
    if (similarity >= min) hits.push({ id: other, similarity });
  }
  return hits;
}

describe("similarAmong: the background pass's exact scan of one scope", () => {
  test("finds exactly what a full scan finds, to the bit, for sparse (hash-embedded) and dense vectors", () => {
    const random = mulberry32(7);
    const words = ["lives", "in", "Lisbon", "Porto", "works", "at", "Stripe", "Google", "likes", "jazz", "hiking", "sister", "Anna", "Berlin", "cat", "Luna", "vegetarian"];
    const sentence = () => Array.from({ length: 2 + Math.floor(random() * 5) }, () => words[Math.floor(random() * words.length)]).join(" ");
    const sparse = new Map<number, Float32Array>();
    for (let id = 1; id <= 400; id++) sparse.set(id, hashEmbed(`User ${sentence()}`, 384));
    // Copies and near copies, so that the threshold keeps some and drops others.
    for (let id = 401; id <= 440; id++) sparse.set(id, hashEmbed(`User ${sentence()}`, 384).map((x, i) => (i % 97 === 0 ? x + 0.05 : x)));
    for (let id = 441; id <= 460; id++) sparse.set(id, sparse.get(id - 440)!);
    const dense = new Map<number, Float32Array>();
    const base = Float32Array.from({ length: 64 }, () => random() - 0.5);
    for (let id = 1; id <= 300; id++) dense.set(id, base.map((x) => x + (random() - 0.5) * (id % 3 === 0 ? 0.1 : 2)));

    for (const vectors of [sparse, dense]) {
      const ids = [...vectors.keys(), 9999]; // 9999 has no vector: skipped
      const vectorOf = (id: number) => vectors.get(id);
      let found = 0;
      for (const q of [1, 2, 3, 17, 41, 199, 300]) {
        for (const min of [0.5, 0.9, 0.99]) {
          const expected = reference(vectorOf(q)!, ids, vectorOf, min, q);
          expect(similarAmong(vectorOf(q)!, ids, vectorOf, min, q)).toEqual(expected);
          found += expected.length;
        }
      }
      expect(found).toBeGreaterThan(0); // the comparison is not between two empty lists
    }
  });

  test("the record itself is never its own neighbour; a zero query finds nothing at a positive threshold", () => {
    const v = hashEmbed("User lives in Lisbon.", 384);
    const vectors = new Map([
      [1, v],
      [2, Float32Array.from(v)],
      [3, hashEmbed("User works at Stripe.", 384)],
    ]);
    const hits = similarAmong(v, [1, 2, 3], (id) => vectors.get(id), 0.9, 1);
    expect(hits.map((h) => h.id)).toEqual([2]);
    expect(hits[0]!.similarity).toBeCloseTo(1, 6);
    expect(similarAmong(new Float32Array(384), [1, 2, 3], (id) => vectors.get(id), 0.9, 0)).toEqual([]);
  });
});

describe("neighbourCandidates on SQLite: a scope larger than the scan limit", () => {
  test("near restatements come from the ANN index within the scope, with the exact scan's similarities", async () => {
    const store = new SqliteStore(":memory:", "big", { debug() {}, info() {}, warn() {}, error() {} });
    store.indexes.dimensionsOf = (model) => (model === EMBEDDING ? 384 : undefined);
    try {
      await store.openContext(contextInit(T0));
      const notes = {};
      const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"];
      const random = mulberry32(11);
      const many = (text: string) => fact(text, null, null, { kind: "observation", memory_category: "knowledge", cardinality: "many" });
      const texts = Array.from({ length: SCAN_LIMIT + 100 }, (_, i) => `Note ${i}: ${Array.from({ length: 6 }, () => words[Math.floor(random() * words.length)]).join(" ")}.`);
      for (let i = 0; i < texts.length; i += 200) await store.writeFacts(await factsWrite(notes, texts.slice(i, i + 200).map(many), T0));
      const target = (await store.writeFacts(await factsWrite(notes, [many("The lobby closes at nine on Sundays.")], T0))).outcomes[0]!.record.id;
      const restated = (await store.writeFacts(await factsWrite(notes, [many("The front lobby closes at nine on Sundays.")], T0))).outcomes[0]!.record.id;
      expect(restated).not.toBe(target);
      // The same words in another scope are never a neighbour.
      await store.writeFacts(await factsWrite({ user: "bob" }, [many("The lobby closes at nine on Sundays.")], T0));
      await store.flush();
      await store.indexes.get("records", EMBEDDING).flush(); // hnswlib built: the search path a large scope takes
      const query = { recordId: target, scopeKey: scopeKey(notes), subject: null, attributes: [], model: EMBEDDING };
      const [a, b] = await Promise.all([embed("The lobby closes at nine on Sundays."), embed("The front lobby closes at nine on Sundays.")]);
      const exact = similarAmong(a, [2], () => b, 0, 1)[0]!.similarity;
      expect(exact).toBeGreaterThan(0.7);
      const found = (await store.neighbourCandidates([query], 0.7)).get(target)!;
      expect(found.similar.map((s) => s.id)).toEqual([restated]);
      expect(found.similar[0]!.similarity).toBeCloseTo(exact, 4);
    } finally {
      await store.close();
    }
  });
});
