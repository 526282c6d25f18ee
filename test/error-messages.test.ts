// One message pattern for every rejected input: "Invalid `field`: expected X, received Y." — the field's path,
// what was expected in words (never zod's own wording, never "expected expected"), what was received, shown once.
import { afterAll, describe, expect, it } from "vitest";
import { Spectron, SpectronValidationError } from "../src/index.js";

const memory = new Spectron({ context: "messages", providers: {}, schedule: false });
afterAll(() => memory.close());

const PATTERN = /^Invalid `[^`]+`: expected (.+), received (.+)\.( [A-Z].*)?$/s;

/** [call, the exact message] */
const CASES: [string, () => unknown, string][] = [
  ["recall limit -1", () => memory.recall("x", { limit: -1 }), "Invalid `options.limit`: expected an integer ≥ 1, received -1."],
  ["recall limit 1.5", () => memory.recall("x", { limit: 1.5 }), "Invalid `options.limit`: expected an integer from 1 to 100, received 1.5."],
  ["recall limit 101", () => memory.recall("x", { limit: 101 }), "Invalid `options.limit`: expected an integer ≤ 100, received 101."],
  ["ingest an array as content", () => memory.ingest({ content: ["a"] as never }), 'Invalid `input.content`: expected a string, received ["a"].'],
  ["ingest null", () => memory.ingest(null as never), "Invalid `input`: expected an object, received null."],
  ["ingest empty", () => memory.ingest({ content: "  " }), 'Invalid `input.content`: expected non-empty text, received "  ".'],
  ["recall a number", () => memory.recall(3 as never), "Invalid `query`: expected a string, received 3."],
  ["recall scope array", () => memory.recall("x", { scope: [] as never }), "Invalid `options.scope`: expected an object, received []."],
  ["metadata a string", () => memory.ingest({ content: "x", metadata: "m" as never }), 'Invalid `input.metadata`: expected an object, received "m".'],
  ["an unknown key", () => memory.recall("x", { foo: 1 } as never), 'Invalid `options`: expected no unknown keys (`foo` is not accepted), received {"foo":1}.'],
  [
    "a bad status",
    () => memory.state.list({ status: "bogus" as never }),
    'Invalid `options.status`: expected one of "current", "superseded", "flagged", "expired", "forgotten", received "bogus".',
  ],
  ["a bad id", () => memory.state.get("nope"), 'Invalid `id`: expected a record id such as "rec_42", received "nope".'],
  ["traces limit 0", () => memory.traces.list({ limit: 0 }), "Invalid `options.limit`: expected an integer ≥ 1, received 0."],
  ["similarity 2", () => memory.config.cache({ similarity: 2 }), "Invalid `cache.similarity`: expected a number ≤ 1, received 2."],
  [
    "a ttl in words",
    () => memory.config.retention([{ scope: {}, memory_category: "context", ttl: "7 days" }]),
    'Invalid `retention[0].ttl`: expected a duration such as "30d", "12h", "90m" or "365d", received "7 days".',
  ],
  [
    "schedule true",
    () => new Spectron({ context: "y", schedule: true as never }),
    "Invalid `options.schedule`: expected false, or { decay, expire, retry } with intervals in ms (from 100) or false each, received true.",
  ],
  ["a principal without grants", () => memory.recall("x", { principal: { id: "a" } as never }), "Invalid `options.principal.grants`: expected an array, received undefined."],
  ["an empty batch", () => memory.ingest({ messages: [] }), "Invalid `input.messages`: expected at least 1 item, received []."],
  ["an empty update", () => memory.state.update("rec_1", {}), "Invalid `patch`: expected `text`, `value` or both, received {}."],
  ["a schedule interval too short", () => new Spectron({ context: "y", schedule: { decay: 5 } }), "Invalid `options.schedule.decay`: expected a number ≥ 100, received 5."],
];

describe("validation messages", () => {
  it.each(CASES)("%s", async (_name, call, message) => {
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpectronValidationError);
    const text = (error as Error).message;
    expect(text).toBe(message);
    expect(text).toMatch(PATTERN);
    // The stutters this pattern replaced: zod's own wording inside ours, the expectation or the value twice.
    expect(text).not.toMatch(/expected expected|Too (small|big)|received .*, received|Invalid input|expected [a-z]+ to be/i);
  });
});
