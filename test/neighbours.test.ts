import { describe, expect, test } from "vitest";
import { hashEmbed } from "../src/models/local/hash-embedder.js";
import { similarAmong } from "../src/store/neighbours.js";
import { mulberry32 } from "./helpers.js";

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
