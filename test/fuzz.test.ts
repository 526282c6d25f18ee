import { describe, expect, it } from "vitest";
import { Spectron, SpectronError } from "../src/index.js";
import { manualClock, mulberry32, settle } from "./helpers.js";
import { peekStore } from "./store-peek.js";

/**
 * Seeded fuzz of the whole public surface (issue 11, finding 7): valid calls interleaved with hostile ones (wrong
 * types, huge strings, deep and circular objects, Maps, class instances, `__proto__` keys, NaN/Infinity, bad
 * ids, odd Unicode). Asserts that every rejection is a SpectronError with an expected code, that no call hangs,
 * and that no rejected call changes the row count of any table (read through a second connection).
 *
 * To cover a new method, add a row to METHODS: a name, and a function from (random, pools) to the call.
 */
const SEED = 0x5eed_2026;
const CALLS = 5_200;
/** Liveness bound per call (not a timing assertion: a call that needs this long has hung). */
const HANG_MS = 10_000;
/**
 * Codes a rejection may carry with local models: bad input, a caller without the permission, an id that is not
 * there, a query before its index is ready. `internal` (a defect), `storage` and `provider` are failures here.
 */
const EXPECTED_CODES = new Set(["validation", "access_denied", "not_found", "index_not_ready"]);

type Rng = () => number;
const pick = <T,>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// ---- hostile values ----------------------------------------------------------------------------------------
const HUGE = "x".repeat(7_000_000);
const BIG = "y".repeat(70_000);
const circular = (): unknown => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};
const deep = (n: number): unknown => {
  let v: unknown = "leaf";
  for (let i = 0; i < n; i++) v = { d: v };
  return v;
};
const WIDE = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, i]));
class Custom {
  scope = { user: "alice" };
}
const ODD_TEXT = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "lone \udc00 low",
  "emoji 🍵 pair",
  "\u202eRTL override",
  "zero\u200bwidth",
  "e\u0301 combining",
  "\ufeffBOM",
  "日本語のテキスト",
  "'; DROP TABLE records; --",
  '{"json": true}',
  "$.\"user\"",
  "%s %o %d",
  "\\",
  "a".repeat(300),
];
const BAD_IDS = ["rec_0x2", "rec_2.0", "rec_+2", "rec_02", "rec_2e0", "rec_", "rec_-1", "rec_0", "trc_1", "doc_1", "turn_1", "rec_99999999", "rec_1 ", "REC_1", "rec_9007199254740993"];

function hostile(r: Rng): unknown {
  switch (Math.floor(r() * 34)) {
    case 0: return undefined;
    case 1: return null;
    case 2: return NaN;
    case 3: return Infinity;
    case 4: return -Infinity;
    case 5: return -1;
    case 6: return 1.5;
    case 7: return 2 ** 53 + 2;
    case 8: return 10n;
    case 9: return Symbol("s");
    case 10: return () => "fn";
    case 11: return HUGE;
    case 12: return BIG;
    case 13: return pick(r, ODD_TEXT);
    case 14: return pick(r, BAD_IDS);
    case 15: return new Map([["scope", { user: "alice" }]]);
    case 16: return new Set([1]);
    case 17: return new Date(NaN);
    case 18: return new Date(8.64e15);
    case 19: return new Custom();
    case 20: return [1, "two", { three: 3 }];
    case 21: return deep(5_000);
    case 22: return deep(20);
    case 23: return circular();
    case 24: return JSON.parse('{"__proto__": {"polluted": true}}');
    case 25: return { constructor: { prototype: { polluted: true } } };
    case 26: return { get boom(): never { throw new Error("getter"); } };
    case 27: return new Proxy({}, { ownKeys() { throw new Error("trap"); } });
    case 28: return WIDE;
    case 29: return Object.freeze({ user: "alice" });
    case 30: return Object.create(null);
    case 31: return { user: "" };
    case 32: return { [`${"k".repeat(300)}`]: "v" };
    default: return true;
  }
}

// ---- valid pools -------------------------------------------------------------------------------------------
const SCOPES = [{}, { user: "alice" }, { user: "bob" }, { org: "acme" }, { org: "acme", user: "alice" }, { user: "Zoë 日本" }, { user: "o'brien \"q\"" }];
const SENTENCES = [
  "I'm on the Pro plan.",
  "I moved to Lisbon last spring.",
  "My favourite colour is green.",
  "I no longer drink coffee, only tea.",
  "Our team uses PostgreSQL 16 in production.",
  "I have a dog called Rex.",
  "Je préfère le thé vert 🍵.",
];
const QUESTIONS = ["which plan am I on?", "where do I live?", "what do I drink?", "what database do we use?", "do I have pets?"];
const PRINCIPALS = [
  { id: "alice-agent", grants: [{ scope: { user: "alice" }, permissions: ["read", "write"] }] },
  { id: "reader", grants: [{ scope: { org: "acme" }, permissions: ["read"] }] },
  { id: "admin", grants: [{ scope: {}, permissions: ["manage"] }] },
  { id: "nobody", grants: [] },
];

interface Pools {
  ids: Record<"rec" | "trc" | "turn" | "doc", string[]>;
}
const pickId = (r: Rng, p: Pools, kind: keyof Pools["ids"]) => (p.ids[kind].length && r() < 0.8 ? pick(r, p.ids[kind]) : pick(r, BAD_IDS));
const maybe = <T,>(r: Rng, v: T) => (r() < 0.5 ? v : undefined);
const ctx = (r: Rng) => (r() < 0.7 ? undefined : { principal: pick(r, PRINCIPALS) });

/** Valid-looking arguments; `mutate` then spoils about half of the calls. */
type ArgsOf = (r: Rng, p: Pools) => unknown[];
type Target = Pick<Spectron, "ingest" | "recall" | "reflect" | "chat" | "query"> & Record<string, any>;
interface Method {
  name: string;
  args: ArgsOf;
  call: (t: Target, args: unknown[]) => unknown;
  /** Not available on as() views. */
  instanceOnly?: boolean;
}

const opts = (r: Rng, extra: Record<string, unknown> = {}) => ({ scope: pick(r, SCOPES), ...extra, ...(ctx(r) ?? {}) });
const METHODS: Method[] = [
  { name: "ingest", args: (r) => [{ content: pick(r, SENTENCES), ...opts(r), ...(r() < 0.3 ? { occurred_at: "2025-01-02T03:04:05Z", metadata: { source: "fuzz", n: 1 } } : {}) }], call: (t, a) => t.ingest(a[0] as never) },
  { name: "recall", args: (r) => [pick(r, QUESTIONS), opts(r, { limit: 1 + Math.floor(r() * 10) })], call: (t, a) => t.recall(a[0] as never, a[1] as never) },
  { name: "reflect", args: (r) => [pick(r, QUESTIONS), opts(r)], call: (t, a) => t.reflect(a[0] as never, a[1] as never) },
  { name: "query", args: (r) => [pick(r, QUESTIONS), opts(r, { limit: 5 })], call: (t, a) => t.query(a[0] as never, a[1] as never) },
  { name: "chat", args: (r) => [pick(r, SENTENCES), opts(r, { session: "fuzz-chat" })], call: (t, a) => t.chat(a[0] as never, a[1] as never) },
  { name: "search", args: (r) => [pick(r, QUESTIONS), opts(r, { limit: 5 })], call: (t, a) => t.search(a[0] as never, a[1] as never) },
  { name: "state.get", args: (r, p) => [pickId(r, p, "rec"), ctx(r)], call: (t, a) => t.state.get(a[0], a[1]) },
  { name: "state.list", args: (r) => [opts(r, { limit: 1 + Math.floor(r() * 50), ...(r() < 0.3 ? { status: pick(r, ["current", "superseded", "forgotten"]) } : {}) })], call: (t, a) => t.state.list(a[0]) },
  { name: "state.forget", args: (r, p) => [pickId(r, p, "rec"), ctx(r)], call: (t, a) => t.state.forget(a[0], a[1]) },
  { name: "traces.list", args: (r) => [{ limit: 1 + Math.floor(r() * 20), ...maybe(r, { kind: "decision_trace" }), ...(ctx(r) ?? {}) }], call: (t, a) => t.traces.list(a[0]) },
  { name: "traces.get", args: (r, p) => [pickId(r, p, "trc"), ctx(r)], call: (t, a) => t.traces.get(a[0], a[1]) },
  { name: "turns.list", args: (r) => [{ ...maybe(r, { status: "pending" }), ...maybe(r, { scope: pick(r, SCOPES) }), limit: 10 }], call: (t, a) => t.turns.list(a[0]) },
  { name: "turns.retry", args: (r) => [ctx(r)], call: (t, a) => t.turns.retry(a[0]) },
  { name: "knowledge.add", args: (r) => [{ title: "Handbook", text: `${pick(r, SENTENCES)} Refunds take 14 days. ${pick(r, SENTENCES)}`, ...opts(r) }], call: (t, a) => t.knowledge.add(a[0]) },
  { name: "knowledge.remove", args: (r, p) => [pickId(r, p, "doc"), ctx(r)], call: (t, a) => t.knowledge.remove(a[0], a[1]) },
  { name: "knowledge.list", args: (r) => [{ ...maybe(r, { status: pick(r, ["pending", "indexed", "failed"]) }), ...maybe(r, { scope: pick(r, SCOPES) }), limit: 10, ...(ctx(r) ?? {}) }], call: (t, a) => t.knowledge.list(a[0] as never) },
  { name: "knowledge.retry", args: (r) => [ctx(r)], call: (t, a) => t.knowledge.retry(a[0]) },
  { name: "knowledge.reindex", args: (r) => [ctx(r)], call: (t, a) => t.knowledge.reindex(a[0]) },
  { name: "knowledge.reindexStatus", args: (r) => [ctx(r)], call: (t, a) => t.knowledge.reindexStatus(a[0]) },
  { name: "config.models", args: (r) => [pick(r, [{ extraction: "local:rules" }, { embedding: pick(r, ["local:hash-384", "local:hash-256"]) }, { response: "local:rules" }]), ctx(r)], call: (t, a) => t.config.models(a[0], a[1]) },
  { name: "config.providers", args: (r) => [{ anthropic: "sk-ant-fuzz" }, ctx(r)], call: (t, a) => t.config.providers(a[0], a[1]) },
  { name: "config.retention", args: (r) => [[{ scope: pick(r, SCOPES), memory_category: "context", ttl: "30d" }], ctx(r)], call: (t, a) => t.config.retention(a[0], a[1]) },
  { name: "config.cache", args: (r) => [{ similarity: 0.9 + r() * 0.1 }, ctx(r)], call: (t, a) => t.config.cache(a[0], a[1]) },
  { name: "config.budget", args: (r) => [{ background_tokens_per_day: pick(r, [null, 1_000_000]) }, ctx(r)], call: (t, a) => t.config.budget(a[0], a[1]) },
  { name: "config.get", args: (r) => [ctx(r)], call: (t, a) => t.config.get(a[0]) },
  { name: "lifecycle.decay", args: (r) => [ctx(r)], call: (t, a) => t.lifecycle.decay(a[0]) },
  { name: "lifecycle.expire", args: (r) => [ctx(r)], call: (t, a) => t.lifecycle.expire(a[0]) },
  { name: "lifecycle.consolidate", args: (r) => [ctx(r)], call: (t, a) => t.lifecycle.consolidate(a[0]) },
  { name: "lifecycle.elaborate", args: (r) => [ctx(r)], call: (t, a) => t.lifecycle.elaborate(a[0]) },
  { name: "cache.flush", args: (r) => [ctx(r)], call: (t, a) => t.cache.flush(a[0]) },
  { name: "idle", args: () => [], call: (t) => t.idle(), instanceOnly: true },
  { name: "usage", args: () => [], call: (t) => t.usage(), instanceOnly: true },
  { name: "access.deniedCounts", args: () => [], call: (t) => t.access.deniedCounts(), instanceOnly: true },
  {
    name: "as",
    args: (r) => [pick(r, PRINCIPALS), r() < 0.5 ? {} : { onBehalfOf: "alice", session: "s-1" }],
    call: (t, a) => t.as(a[0], a[1]),
    instanceOnly: true,
  },
];

/** Spoils valid arguments: one replaced by a hostile value, or a key of one set to one, or an unknown key added. */
function mutate(r: Rng, args: unknown[]): unknown[] {
  const out = [...args];
  const i = Math.floor(r() * Math.max(1, out.length));
  const target = out[i];
  const roll = r();
  if (roll < 0.4 || typeof target !== "object" || target === null || Array.isArray(target)) out[i] = hostile(r);
  else if (roll < 0.85) {
    const keys = Object.keys(target);
    const key = keys.length && r() < 0.8 ? pick(r, keys) : pick(r, ["principal", "signal", "limit", "scope", "cursor", "status"]);
    out[i] = { ...target, [key]: hostile(r) };
  } else out[i] = { ...target, [pick(r, ["extra", "__proto__", "constructor", "toString", "0"])]: hostile(r) };
  return out;
}

/** Row counts of every (non-virtual) table, through a connection of its own. */
const describeResult = (e: unknown) =>
  e instanceof SpectronError ? `${e.name}(${e.code}): ${e.message.slice(0, 160)}` : e instanceof Error ? `${e.name}: ${e.message.slice(0, 160)}` : `non-Error ${typeof e}`;

function harvest(p: Pools, result: unknown): void {
  let text: string;
  try {
    text = JSON.stringify(result) ?? "";
  } catch {
    return;
  }
  for (const m of text.matchAll(/"(rec|trc|turn|doc)_(\d+)"/g)) {
    const list = p.ids[m[1] as keyof Pools["ids"]];
    const id = `${m[1]}_${m[2]}`;
    if (!list.includes(id)) list.push(id);
    if (list.length > 40) list.shift();
  }
}

describe("fuzz: the public surface under hostile input", () => {
  it(`${CALLS} seeded calls: only typed rejections, no hang, no row written by a rejected call`, async () => {
    const r = mulberry32(SEED);
    const clock = manualClock();
    const memory = new Spectron({ context: "fuzz", clock: clock.now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
    const rows = await peekStore(memory);
    const pools: Pools = { ids: { rec: [], trc: [], turn: [], doc: [] } };
    const views: Target[] = [];
    const untyped: string[] = [];
    const unexpectedCodes: string[] = [];
    const hangs: string[] = [];
    const wrote: string[] = [];
    const tally = { calls: 0, accepted: 0, rejected: 0, hostile: 0, views: 0 };
    const byCode = new Map<string, number>();
    let known: Record<string, number> | undefined;

    for (let n = 0; n < CALLS; n++) {
      const method = pick(r, METHODS);
      const onView = !method.instanceOnly && views.length > 0 && r() < 0.3;
      const target: Target = onView ? pick(r, views) : (memory as unknown as Target);
      const spoil = r() < 0.5;
      const args = spoil ? mutate(r, method.args(r, pools)) : method.args(r, pools);
      if (r() < 0.05) clock.advance(Math.floor(r() * 3) * 86_400_000);
      const label = `#${n} ${onView ? "view." : ""}${method.name}${spoil ? " (hostile)" : ""}`;

      // The counts after a rejected call are the counts before the next one: nothing ran in between.
      if (!known) {
        await memory.idle();
        await settle();
        known = await rows.counts({ shadow: true });
      }
      const before = known;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => method.call(target, args))
          .then(
            (value) => ({ ok: true as const, value }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        new Promise<"hang">((resolve) => (timer = setTimeout(() => resolve("hang"), HANG_MS))),
      ]);
      clearTimeout(timer);
      tally.calls++;
      if (spoil) tally.hostile++;
      if (onView) tally.views++;
      if (outcome === "hang") {
        known = undefined;
        hangs.push(label);
        continue;
      }
      if (outcome.ok) {
        known = undefined;
        tally.accepted++;
        harvest(pools, outcome.value);
        if (method.name === "as" && views.length < 8) views.push(outcome.value as Target);
        continue;
      }
      tally.rejected++;
      const error = outcome.error;
      if (!(error instanceof SpectronError)) {
        known = undefined;
        untyped.push(`${label}: ${describeResult(error)}`);
        continue;
      }
      byCode.set(error.code, (byCode.get(error.code) ?? 0) + 1);
      if (!EXPECTED_CODES.has(error.code)) unexpectedCodes.push(`${label}: ${describeResult(error)}`);
      await settle();
      const after = await rows.counts({ shadow: true });
      known = after;
      const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
      if (changed.length > 0) wrote.push(`${label}: ${describeResult(error)} changed ${changed.map((k) => `${k} ${before[k]}→${after[k]}`).join(", ")}`);
    }

    // After close, every call but usage() and as() is a ClosedError.
    await memory.close();
    const afterClose: string[] = [];
    for (const method of METHODS) {
      const result = await Promise.resolve()
        .then(() => method.call(memory as unknown as Target, method.args(r, pools)))
        .then(
          () => "ok",
          (e: unknown) => (e instanceof SpectronError ? e.code : describeResult(e)),
        );
      if (result !== "closed" && !["usage", "as", "access.deniedCounts"].includes(method.name)) afterClose.push(`${method.name}: ${result}`);
    }
    await rows.close();

    const summary = { ...tally, byCode: Object.fromEntries(byCode) };
    console.log(`fuzz seed ${SEED}: ${JSON.stringify(summary)}`);
    expect({ untyped, summary }).toEqual({ untyped: [], summary });
    expect(unexpectedCodes).toEqual([]);
    expect(hangs).toEqual([]);
    expect(wrote).toEqual([]);
    expect(afterClose).toEqual([]);
    // Both kinds of call were made in earnest.
    expect(tally.calls).toBeGreaterThanOrEqual(5_000);
    expect(tally.accepted).toBeGreaterThan(1_000);
    expect(tally.rejected).toBeGreaterThan(1_000);
    // Nothing reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 180_000);
});
