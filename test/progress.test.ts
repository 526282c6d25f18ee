import { describe, expect, it } from "vitest";
import type { Progress } from "../src/index.js";
import { makeMemory, alice } from "./helpers.js";

const paragraph = (n: number) => `Section ${n}. Backups of workspace ${n} are kept for ${n + 10} days and restored on request by the support team. `.repeat(12);
const LONG = Array.from({ length: 8 }, (_, n) => paragraph(n)).join("\n\n");

describe("onProgress", () => {
  it("knowledge.add reports embed, then one extract step per chunk, then store", async () => {
    const { memory } = makeMemory();
    const seen: Progress[] = [];
    const result = await memory.knowledge.add({ title: "Ops", text: LONG, scope: alice, onProgress: (p) => seen.push({ ...p }) });
    expect(result.chunks).toBeGreaterThan(1);
    const n = result.chunks;
    expect(seen).toEqual([
      { phase: "embed", done: 0, total: n },
      { phase: "embed", done: n, total: n },
      ...Array.from({ length: n }, (_, i) => ({ phase: "extract", done: i + 1, total: n })),
      { phase: "store", done: 1, total: 1 },
    ]);
    await memory.close();
  });

  it("a callback that throws does not fail the operation; it is logged", async () => {
    const warnings: string[] = [];
    const { memory } = makeMemory({ logger: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} } });
    const result = await memory.knowledge.add({ title: "Ops", text: LONG, scope: alice, onProgress: () => { throw new Error("boom"); } });
    expect((await memory.knowledge.list()).map((d) => [d.id, d.status])).toEqual([[result.documentId, "indexed"]]);
    expect(warnings).toContain("An onProgress callback threw; the operation continues");
    await memory.close();
  });

  it("knowledge.reindex reports each committed batch until done equals total", async () => {
    const { memory } = makeMemory();
    for (let i = 0; i < 3; i++) await memory.ingest({ content: `I visited city number ${i} last year.`, scope: alice });
    await memory.knowledge.add({ title: "Ops", text: LONG, scope: alice });
    await memory.config.models({ embedding: "local:hash-256" });
    const seen: Progress[] = [];
    const started = await memory.knowledge.reindex({ onProgress: (p) => seen.push({ ...p }) });
    await memory.idle();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.phase === "reindex" && p.done <= p.total)).toBe(true);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
    expect(seen.at(-1)!.done).toBe(started.total);
    expect((await memory.knowledge.reindexStatus()).status).toBe("complete");
    await memory.close();
  });

  it("a non-function onProgress is a validation error and stores nothing", async () => {
    const { memory } = makeMemory();
    await expect(memory.knowledge.add({ title: "Ops", text: "x y z", onProgress: 42 as never })).rejects.toThrow(
      "Invalid `input.onProgress`: expected a function ({ phase, done, total }) => void, received 42.",
    );
    expect(await memory.knowledge.list()).toEqual([]);
    await memory.close();
  });
});
