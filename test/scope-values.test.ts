import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { cacheScopeKey } from "../src/access/access.js";
import { NotFoundError, Spectron, SpectronValidationError, type MemoryRecord, type Principal, type Trace } from "../src/index.js";
import { parseScopeKey, scopeKey, visibleScopeKeys } from "../src/store/scope.js";
import { manualClock, mulberry32, tempDir } from "./helpers.js";

/**
 * Scope values are whatever an application's user ids, org ids and tenant ids are: Auth0's `auth0|5f7c8ec7`,
 * SAML's `samlp|acme|jane@acme.com`, e-mail addresses, names in any script, strings with quotes, backslashes,
 * braces and JSON-looking text. Every one must round-trip through every path, and a principal granted a scope
 * reads exactly that scope, never a neighbour that shares a prefix or differs by one character.
 */

type Scope = Record<string, string>;

/** Pieces odd values are made of: delimiters of every encoding one might reach for, controls, and non-Latin text. */
const PIECES = [
  "|", '"', "\\", ",", "=", ":", "{", "}", "[", "]", "%", "_", "'", "`", "/", "?", "#", "&", "*", "$", ".", "<", ">", "@", "+", "-",
  "~", "!", ";", " ", "  ", "\t", "\n", "\r\n", "\u0001", "\u001f", "\u007f", "\u0085", "\u00a0", "\u2028", "\u2029", "\ufeff",
  "\u200b", "\u200d", "\u202e", "😀", "👩‍👩‍👧", "🏳️‍🌈", "𝔘", "日本語", "用户", "사용자", "שלום", "مرحبا", "é", "e\u0301", "ß", "İ", "Ω",
  "ж", "a", "Z", "0", "42", "null", "true", "auth0", "$.", "\\u0000", "%00", "' OR 1=1 --", '{"user":', '"}', "|AAAAAAAAAAAAAAAA",
];

/** Values chosen by hand: the Auth0 family (neighbours sharing prefixes), JSON look-alikes, the length bound. */
const FIXED = [
  "auth0|5f7c8ec7",
  "auth0|5f7c8ec",
  "auth0|5f7c8ec7|x",
  "auth0",
  "5f7c8ec7",
  "google-oauth2|103547991597142817347",
  "samlp|acme|jane@acme.com",
  "|",
  "||",
  "}",
  "}|AAAAAAAAAAAAAAAA",
  '{"user":"x"}',
  '"}|x',
  "\\",
  '\\"',
  '"',
  "a,b=c:d",
  "%_%",
  " ",
  " padded ",
  "😀",
  "😀".repeat(128),
  "x".repeat(256),
  "alice",
  "ALICE",
  "alice ",
  "é",
  "e\u0301",
  "日本語のユーザー",
  "משתמש",
  "مستخدم",
  "\u202eevil",
  "\u2028\u2029",
  "tab\there",
  "line\nbreak",
  "\u0001\u001f\u007f",
  "$.user",
  "' OR 1=1 --",
];

/** A random odd value of 1 to 256 UTF-16 code units, never splitting a surrogate pair. */
function oddValue(r: () => number): string {
  const long = r() < 0.1;
  let s = "";
  const pieces = long ? 400 : 1 + Math.floor(r() * 10);
  for (let i = 0; i < pieces; i++) {
    const p = PIECES[Math.floor(r() * PIECES.length)]!;
    if (s.length + p.length > 256) break;
    s += p;
  }
  return s || "|";
}

function randomScope(r: () => number): Scope {
  const dims = ["user", "org", "project", "tenant", "plan", "team", "region", "app", "x_1"];
  const n = Math.floor(r() * 9);
  const scope: Scope = {};
  for (let i = 0; i < n; i++) scope[dims[Math.floor(r() * dims.length)]!] = r() < 0.2 ? FIXED[Math.floor(r() * FIXED.length)]! : oddValue(r);
  return scope;
}

const sorted = (s: Scope) => Object.entries(s).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe("scope keys: any value round-trips", () => {
  it("10,000 random scopes: key → scope is exact, keys are order-independent and injective, cache keys decode to their scope", () => {
    const r = mulberry32(0x5c0_9e);
    const byKey = new Map<string, string>();
    const wrong: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // A reader of everything gets the plain scope key; a narrow one, the scope key and a digest.
    const reader: Principal = { id: "r", grants: [{ scope: {}, permissions: ["read"] }] };
    const narrow: Principal = { id: "n", grants: [{ scope: { nowhere: "at all" }, permissions: ["read"] }] };
    for (let i = 0; i < 10_000; i++) {
      const scope = randomScope(r);
      const key = scopeKey(scope);
      const canonical = JSON.stringify(sorted(scope));
      if (JSON.stringify(sorted(parseScopeKey(key))) !== canonical) wrong.push(`parse ${canonical}`);
      // Insertion order does not matter.
      if (scopeKey(Object.fromEntries([...Object.entries(scope)].reverse())) !== key) wrong.push(`order ${canonical}`);
      // Injective: two different scopes never share a key.
      if ((byKey.get(key) ?? canonical) !== canonical) wrong.push(`collision ${canonical} ${byKey.get(key)}`);
      byKey.set(key, canonical);
      if (i % 10 === 0) {
        // A cache key still decodes to exactly its scope, whatever the values hold.
        const digested = cacheScopeKey(narrow, scope, [scopeKey({})]);
        if (digested === key || !same(sorted(parseScopeKey(digested)), sorted(scope))) wrong.push(`cache key ${digested}`);
        if (cacheScopeKey(reader, scope, [scopeKey({})]) !== key) wrong.push(`reader key ${canonical}`);
        // Sub-scopes: 2^n distinct keys, each a sub-scope of `scope`.
        const subs = visibleScopeKeys(scope);
        if (new Set(subs).size !== 2 ** Object.keys(scope).length) wrong.push(`subs ${canonical}`);
        for (const sub of subs) if (!Object.entries(parseScopeKey(sub)).every(([k, v]) => scope[k] === v)) wrong.push(`sub ${sub}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(byKey.size).toBeGreaterThan(7_500);
  });

  it("rejects a NUL or a lone surrogate in a scope value, before writing anything", async () => {
    const memory = new Spectron({ context: "v", providers: {}, schedule: { decay: false, expire: false, retry: false } });
    try {
      for (const value of ["a\u0000b", "\u0000", "x\ud800", "\udfffy", "\ud83d"]) {
        const error = await memory.ingest({ content: "I live in Porto.", scope: { user: value } }).catch((e: unknown) => e);
        expect(error, JSON.stringify(value)).toBeInstanceOf(SpectronValidationError);
        expect((error as SpectronValidationError).field).toBe("input.scope.user");
        await expect(memory.state.list({ scope: { org: value } })).rejects.toBeInstanceOf(SpectronValidationError);
        expect(() => memory.as({ id: "p", grants: [{ scope: { user: value }, permissions: ["read"] }] })).toThrow(SpectronValidationError);
      }
      expect(await memory.turns.list()).toEqual([]);
    } finally {
      await memory.close();
    }
  });
});

const ALL = { decay: false, expire: false, retry: false } as const;
const grantOn = (id: string, scope: Scope): Principal => ({ id, grants: [{ scope, permissions: ["read", "write"] }] });

describe("the Auth0 case (issue 11, finding 2)", () => {
  it('scope { user: "auth0|5f7c8ec7" }: ingest, knowledge.add, recall and traces.list work, for this user and everyone else', async () => {
    const t = tempDir();
    const clock = manualClock();
    const memory = new Spectron({ context: "auth0", path: t.path, clock: clock.now, providers: {}, schedule: ALL });
    const peek = new Database(t.path, { readonly: true });
    try {
      const S = { user: "auth0|5f7c8ec7" };
      const written = await memory.ingest({ content: "I'm on the Pro plan.", scope: S });
      expect(written.records.map((x) => x.scope)).toEqual([S]);
      expect(await memory.recall("Which plan am I on?", { scope: S })).toMatchObject({ tier: 3, answer: expect.stringContaining("Pro") });
      expect(await memory.recall("Which plan am I on?", { scope: S })).toMatchObject({ tier: 1, answer: expect.stringContaining("Pro") });
      const doc = await memory.knowledge.add({ title: "Handbook", text: "Refunds are processed within 14 days.", scope: S });
      expect(peek.prepare("SELECT status FROM documents").all()).toEqual([{ status: "indexed" }]);
      // Another user's write after a cached answer at S exists (it used to fail parsing S's cache key).
      await memory.ingest({ content: "I'm on the Starter plan.", scope: { user: "bob" } });
      await memory.ingest({ content: "I'm on the Team plan.", scope: S });
      expect((await memory.turns.list({ status: "pending" })).length).toBe(0);
      expect(await memory.turns.retry()).toEqual({ extracted: 0, failed: 0 });
      const traces = (await memory.traces.list({ limit: 1000 })).traces;
      expect(traces.filter((x) => x.scope?.user === S.user).length).toBeGreaterThan(3);
      expect((await memory.traces.list({ principal: grantOn("bob", { user: "bob" }) })).traces.every((x) => x.scope?.user === "bob")).toBe(true);
      const own = (await memory.traces.list({ principal: grantOn(S.user, S), limit: 1000 })).traces;
      expect(own.length).toBe(traces.filter((x) => x.scope?.user === S.user).length);
      expect((await memory.knowledge.remove(doc.documentId)).chunks).toBe(1);
    } finally {
      peek.close();
      await memory.close();
      t.cleanup();
    }
  });
});

/** The odd values of the run: the fixed ones and seeded random ones, all distinct. */
function values(count: number): string[] {
  const r = mulberry32(0x0dd_5c0);
  const out = new Set(FIXED);
  while (out.size < FIXED.length + count) out.add(oddValue(r));
  return [...out];
}

const within = (inner: Scope, outer: Scope | null) => outer !== null && Object.entries(inner).every(([k, v]) => outer[k] === v);

describe("odd scope values through every path", () => {
  it("ingest, recall (tiers 1-3), query, reflect, state, traces, turns, knowledge, cache, grants, reopen (sidecar, ANN)", async () => {
    const t = tempDir();
    const clock = manualClock();
    const open = () => new Spectron({ context: "odd", path: t.path, clock: clock.now, providers: {}, schedule: ALL });
    let memory = open();
    const vs = values(22);
    const who = (v: string) => grantOn(v, { user: v });
    const written = new Map<string, Set<string>>();
    try {
      await memory.config.cache({ similarity: 0.3 });
      // A retention rule on one odd scope: its identity facts expire after a day, its neighbours' never.
      await memory.config.retention([{ scope: { user: FIXED[0]! }, memory_category: "identity", ttl: "1d" }]);
      // Enough records at one odd org that a request there searches the ANN index rather than exactly.
      const ORG = "org|\"x\"\\}";
      for (let i = 0; i < 310; i++) await memory.ingest({ content: `My ticket is T${i}.`, scope: { org: ORG } });

      for (const [i, v] of vs.entries()) {
        const S = { user: v };
        const p = who(v);
        const ids = new Set<string>();
        for (const content of [`I'm on the Plan${i} plan.`, `I live in Town${i}.`]) {
          const out = await memory.ingest({ content, scope: S, principal: p, session: v });
          expect(out.records.length, JSON.stringify(v)).toBeGreaterThan(0);
          for (const rec of out.records) {
            expect(rec.scope).toEqual(S);
            ids.add(rec.id);
          }
          const decision = await memory.traces.get(out.traceId, { principal: p });
          expect(decision.scope).toEqual(S);
          expect(decision.session).toBe(v);
          expect(decision.principal).toBe(v);
        }
        written.set(v, ids);
        // A turn whose extraction fails stays pending at its scope; turns.retry() later extracts it.
        const aborted = new AbortController();
        aborted.abort();
        await expect(memory.ingest({ content: `I work at Firm${i}.`, scope: S, signal: aborted.signal })).rejects.toThrow();
      }
      expect((await memory.turns.list({ status: "pending", limit: 1000 })).map((x) => x.scope)).toEqual(vs.map((v) => ({ user: v })));
      const retried = await memory.turns.retry();
      expect(retried).toEqual({ extracted: vs.length, failed: 0 });
      expect((await memory.turns.list({ status: "pending", limit: 1000 })).length).toBe(0);
      for (const v of vs) {
        for (const rec of (await memory.state.list({ scope: { user: v } })).records) written.get(v)!.add(rec.id);
      }

      for (const [i, v] of vs.entries()) {
        const S = { user: v };
        const p = who(v);
        const mine = written.get(v)!;
        const label = JSON.stringify(v);
        const only = (records: MemoryRecord[]) => {
          for (const rec of records) expect([mine.has(rec.id), rec.scope], `${label}: ${rec.id}`).toEqual([true, S]);
        };

        const listed = (await memory.state.list({ scope: S, principal: p })).records;
        expect(new Set(listed.map((x) => x.id)), label).toEqual(mine);
        for (const rec of listed) expect((await memory.state.get(rec.id, { principal: p })).scope).toEqual(S);
        // A neighbour (shared prefix, one character apart) reads none of it.
        const next = vs[(i + 1) % vs.length]!;
        await expect(memory.state.get(listed[0]!.id, { principal: who(next) })).rejects.toBeInstanceOf(NotFoundError);
        expect((await memory.state.list({ scope: { user: next }, principal: who(next) })).records.some((x) => mine.has(x.id))).toBe(false);

        const hits = await memory.query(`Plan${i} plan`, { scope: S, principal: p, limit: 50 });
        expect(hits.length, label).toBeGreaterThan(0);
        only(hits);

        const fresh = await memory.recall("Which plan am I on?", { scope: S, principal: p });
        expect([fresh.tier, fresh.answer], label).toEqual([3, `You are on the Plan${i} plan.`]);
        only(fresh.records);
        expect(await memory.recall("Which plan am I on?", { scope: S, principal: p })).toMatchObject({ tier: 1, answer: fresh.answer });
        expect(await memory.recall("What is my plan?", { scope: S, principal: p })).toMatchObject({ tier: 2, answer: fresh.answer });
        // The application at the same scope shares the cache (it reads what the grant reads).
        expect(await memory.recall("Which plan am I on?", { scope: S })).toMatchObject({ tier: 1, answer: fresh.answer });

        const reflected = await memory.reflect("What do I care about?", { scope: S, principal: p });
        only(reflected.records);
        for (const insight of reflected.insights) {
          expect(insight.scope).toEqual(S);
          mine.add(insight.id);
        }
        expect((await memory.traces.get(reflected.traceId, { principal: p })).scope).toEqual(S);

        // A request with a second odd dimension: the grant on { user } does not read the org's records, so the
        // answer is cached under the scope plus a digest of what this reader reads.
        const wide = { org: ORG, user: v };
        const a = await memory.recall("Which plan am I on?", { scope: wide, principal: p });
        only(a.records);
        expect(await memory.recall("Which plan am I on?", { scope: wide, principal: p })).toMatchObject({ tier: 1, answer: a.answer });
        if (i % 8 === 0) {
          const app = await memory.query("ticket T7", { scope: wide, limit: 5 });
          expect(app.some((x) => x.scope.org === ORG)).toBe(true);
        }

        const traces = (await memory.traces.list({ principal: p, limit: 1000 })).traces;
        expect(traces.length, label).toBeGreaterThanOrEqual(8);
        for (const tr of traces) expect(within(S, tr.scope), `${label}: ${tr.id}`).toBe(true);
        const turns = await memory.turns.list({ scope: S, principal: p });
        expect(turns.map((x) => x.scope)).toEqual([S, S, S]);

        if (i % 3 === 0) {
          const doc = await memory.knowledge.add({ title: `Guide ${v}`, text: `Codeword${i} opens the vault.`, scope: S, principal: p });
          // Its knowledge facts are S's records, and stay when the document goes.
          for (const rec of doc.records) {
            expect(rec.scope).toEqual(S);
            mine.add(rec.id);
          }
          const seen = await memory.recall(`What opens the vault? Codeword${i}`, { scope: S, principal: p });
          expect(seen.chunks.map((c) => c.document_id)).toContain(doc.documentId);
          await expect(memory.knowledge.remove(doc.documentId, { principal: who(next) })).rejects.toBeInstanceOf(NotFoundError);
          expect((await memory.knowledge.remove(doc.documentId, { principal: p })).chunks).toBe(1);
        }
        if (i % 4 === 0) {
          const gone = await memory.state.forget(listed[0]!.id, { principal: p });
          expect([gone.status, gone.scope]).toEqual(["forgotten", S]);
          mine.delete(gone.id);
        }
      }

      // Everyone's listings still work, and every stored scope key decodes to a scope of the run.
      const everything = (await memory.traces.list({ limit: 1000 })).traces;
      const scopes = new Set(everything.map((x: Trace) => JSON.stringify(x.scope)));
      for (const v of vs) expect(scopes.has(JSON.stringify({ user: v }))).toBe(true);
      expect((await memory.cache.flush()).evicted).toBeGreaterThan(vs.length);
      clock.advance(2 * 86_400_000);
      await memory.lifecycle.decay();
      expect((await memory.lifecycle.expire()).changed).toBeGreaterThan(0);
      const kept = new Map<string, Set<string>>();
      for (const v of vs) kept.set(v, new Set((await memory.state.list({ scope: { user: v } })).records.map((x) => x.id)));
      expect(kept.get(FIXED[0]!)!.size).toBeLessThan(written.get(FIXED[0]!)!.size);
      for (const v of vs.slice(1)) expect(kept.get(v), JSON.stringify(v)).toEqual(written.get(v));

      // Reopened from the file: the ANN index comes back from its sidecar; every scope still reads exactly its own.
      await memory.close();
      memory = open();
      for (const v of vs) {
        const ids = (await memory.state.list({ scope: { user: v }, principal: who(v) })).records.map((x) => x.id);
        expect(new Set(ids), JSON.stringify(v)).toEqual(kept.get(v)!);
      }
      const ann = await memory.recall("Which ticket is T7?", { scope: { org: ORG, user: FIXED[0]! } });
      expect(ann.records.map((x) => x.scope.org)).toContain(ORG);
      const retrieval = await memory.traces.get(
        (await memory.traces.get(ann.traceId)).edges.find((e) => e.kind === "used_retrieval")!.node.id,
      );
      expect(retrieval).toMatchObject({ kind: "retrieval_trace", payload: { vector_path: "ann" } });
      expect((await memory.traces.list({ limit: 10 })).traces.length).toBe(10);
    } finally {
      await memory.close();
      t.cleanup();
    }
  }, 120_000);
});
