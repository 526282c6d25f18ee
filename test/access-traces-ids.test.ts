import { describe, expect, it } from "vitest";
import { AccessDeniedError, NotFoundError, Spectron, type Principal, type Trace, type TraceEdge } from "../src/index.js";
import { manualClock, settle } from "./helpers.js";
import { peekStore } from "./store-peek.js";

/**
 * Issue 11, finding 6. (1) A trace shown to a principal is cut to what its grants read: the application
 * recalled at { org: "globex", user: "alice" }, and alice, whose grant is { user: "alice" }, must not read
 * globex's org facts or documents through the trace of that recall. (2) A lookup by id of something the
 * caller may not see answers exactly as a missing id does. The oracle below reads the file directly and applies
 * the model's rule (DESIGN §6), independently of src/access.
 */

type Scope = Record<string, string>;

const GLOBEX = { org: "globex" };
const ALICE_AT_GLOBEX = { org: "globex", user: "alice" };
const ALICE = { user: "alice" };

const principal = (id: string, scope: Scope, permissions: ("read" | "write" | "manage")[] = ["read", "write"]): Principal => ({
  id,
  grants: [{ scope, permissions }],
});

const P = {
  /** An end user: her own facts, wherever they are asked for. */
  alice: principal("alice", ALICE),
  /** Alice inside globex: reads globex's org facts too (they are above her grant). */
  aliceAtGlobex: principal("alice-at-globex", ALICE_AT_GLOBEX, ["read"]),
  /** Reads globex, writes nothing. */
  auditor: principal("auditor", GLOBEX, ["read"]),
  carol: principal("carol", { org: "initech", user: "carol" }),
  admin: principal("admin", {}, ["manage"]),
};

const within = (inner: Scope, outer: Scope) => Object.entries(inner).every(([k, v]) => Object.prototype.hasOwnProperty.call(outer, k) && outer[k] === v);
const reads = (p: Principal, scope: Scope) =>
  p.grants.some((g) => (g.permissions.includes("read") || g.permissions.includes("manage")) && (within(g.scope, scope) || within(scope, g.scope)));
const seesTrace = (p: Principal, scope: Scope | null) =>
  p.grants.some((g) => g.permissions.includes("manage") && Object.keys(g.scope).length === 0) ||
  (scope !== null && p.grants.some((g) => (g.permissions.includes("read") || g.permissions.includes("manage")) && within(g.scope, scope)));

const TABLE = { rec: "records", chk: "chunks", doc: "documents", turn: "turns", trc: "traces" } as const;
const ID = /\b(rec|chk|doc|turn|trc)_(\d+)\b/g;

async function fixture() {
  const clock = manualClock();
  const memory = new Spectron({ context: "cut", clock: clock.now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
  await memory.ingest({ content: "I'm on the Enterprise plan.", scope: GLOBEX });
  await memory.ingest({ content: "I work at Globex.", scope: GLOBEX });
  await memory.ingest({ content: "I live in Lisbon.", scope: ALICE_AT_GLOBEX });
  await memory.ingest({ content: "I love chess.", scope: ALICE });
  const doc = await memory.knowledge.add({ title: "Globex handbook", text: "Globex refunds are processed within 30 days.", scope: GLOBEX });
  await memory.knowledge.add({ title: "Alice's notes", text: "Alice keeps her refunds receipts in a blue folder.", scope: ALICE });
  // The application asks at alice-in-globex: it reads globex's org facts and documents too.
  const plan = await memory.recall("Which plan am I on?", { scope: ALICE_AT_GLOBEX });
  const refunds = await memory.recall("How long do refunds take?", { scope: ALICE_AT_GLOBEX });
  const again = await memory.recall("Which plan am I on?", { scope: ALICE_AT_GLOBEX });
  await memory.config.cache({ similarity: 0.3 });
  const similar = await memory.recall("What is my plan?", { scope: ALICE_AT_GLOBEX });
  const reflected = await memory.reflect("What matters to me?", { scope: ALICE_AT_GLOBEX });
  await memory.query("plan chess Lisbon Globex", { scope: ALICE_AT_GLOBEX, limit: 20 });
  await memory.recall("fact:rec_1", { scope: ALICE_AT_GLOBEX });
  await memory.idle();
  await settle();
  const peek = await peekStore(memory);
  const scopeOf = async (kind: keyof typeof TABLE, n: number): Promise<Scope | null | undefined> => {
    const row = await peek.get<{ scope_key: string | null }>(`SELECT scope_key FROM ${TABLE[kind]} WHERE id = ?`, n);
    return row === undefined ? undefined : row.scope_key === null ? null : (JSON.parse(row.scope_key) as Scope);
  };
  /** Every record's and chunk's text with its scope. */
  const contents = async () =>
    (await peek.all<{ text: string; scope_key: string }>("SELECT text, scope_key FROM records UNION ALL SELECT text, scope_key FROM chunks")).map((r) => ({
      text: r.text,
      scope: JSON.parse(r.scope_key) as Scope,
    }));
  return {
    memory,
    peek,
    scopeOf,
    contents,
    doc,
    plan,
    refunds,
    again,
    similar,
    reflected,
    done: async () => {
      await peek.close();
      await memory.close();
    },
  };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Every id a trace (payload and edges) shows must be one the principal may read; no unreadable text appears. */
async function expectCut(f: Fixture, p: Principal, trace: Trace & { edges?: TraceEdge[] }) {
  const json = JSON.stringify(trace);
  for (const [, kind, n] of json.matchAll(ID)) {
    const scope = await f.scopeOf(kind as keyof typeof TABLE, Number(n));
    const ok = kind === "trc" ? scope !== undefined && seesTrace(p, scope) : !!scope && reads(p, scope);
    expect(ok, `${p.id} is shown ${kind}_${n} (${JSON.stringify(scope)}) in ${trace.id}: ${json.slice(0, 400)}`).toBe(true);
  }
  // No text of a record or chunk it may not read, nor a value of one (the plan's name in an answer). Texts it
  // may read are taken out first: an observation that reflect wrote at alice's scope quotes globex's facts, and
  // it is hers to read (state.get shows it too).
  let rest = json;
  const contents = await f.contents();
  const readable = contents.filter((c) => reads(p, c.scope)).map((c) => JSON.stringify(c.text).slice(1, -1));
  for (const text of readable.sort((a, b) => b.length - a.length)) rest = rest.split(text).join("");
  for (const { text, scope } of contents.filter((c) => !reads(p, c.scope))) {
    expect(rest, `${p.id} reads "${text}" (${JSON.stringify(scope)}) in ${trace.id}`).not.toContain(text);
  }
  if (!reads(p, GLOBEX)) expect(rest).not.toContain("Enterprise");
}

describe("traces shown to a principal are cut to what its grants read", () => {
  it("alice ({ user: alice }) reads no globex fact, document or id through the application's traces at { org: globex, user: alice }", async () => {
    const f = await fixture();
    try {
      // The precondition: the application's traces do hold globex's facts and document.
      const response = await f.memory.traces.get(f.plan.traceId);
      if (response.kind !== "response_trace") throw new Error(`expected a response_trace, got ${response.kind}`);
      expect(String(response.payload.answer)).toContain("Enterprise");
      expect(f.plan.records.some((r) => r.scope.org === "globex" && r.scope.user === undefined)).toBe(true);
      expect(f.refunds.chunks.map((c) => c.document_id)).toContain(f.doc.documentId);

      const all = (await f.memory.traces.list({ principal: P.alice, limit: 1000 })).traces;
      const atGlobex = all.filter((t) => t.scope?.org === "globex");
      // She sees the traces of requests at her scope (DESIGN §6) ...
      expect(atGlobex.length).toBeGreaterThanOrEqual(10);
      for (const listed of all) {
        await expectCut(f, P.alice, listed);
        const got = await f.memory.traces.get(listed.id, { principal: P.alice });
        await expectCut(f, P.alice, got);
        // The list and get views agree.
        expect({ ...got, edges: undefined }).toEqual({ ...listed, edges: undefined });
      }
      // ... cut, not emptied: her own facts and the request itself stay.
      const seen = await f.memory.traces.get(f.plan.traceId, { principal: P.alice });
      expect(seen).toMatchObject({ kind: "response_trace", redacted: true, payload: { message: "Which plan am I on?", answer: null, prompt: null } });
      const retrieval = await f.memory.traces.get(seen.edges.find((e) => e.kind === "used_retrieval")!.node.id, { principal: P.alice });
      const own = f.plan.records.filter((r) => r.scope.user === "alice").map((r) => r.id);
      expect(own.length).toBeGreaterThan(0);
      if (retrieval.kind !== "retrieval_trace") throw new Error(`expected a retrieval_trace, got ${retrieval.kind}`);
      for (const id of own) expect(retrieval.payload.returned).toContain(id);
      expect(retrieval.edges.filter((e) => e.kind === "returned").map((e) => e.node.id)).toEqual(expect.arrayContaining(own));
      expect(retrieval.redacted).toBe(true);
      // A reuse of that answer is cut the same way: the answer came from globex's fact.
      expect(await f.memory.traces.get(f.again.traceId, { principal: P.alice })).toMatchObject({ redacted: true, payload: { response: null } });
      expect(await f.memory.traces.get(f.similar.traceId, { principal: P.alice })).toMatchObject({ redacted: true, payload: { response: null } });
      // The decision traces of her turns and documents are whole (reflect's, written from globex's facts, are not).
      const sourceKind = (t: Trace) => (t.kind === "decision_trace" ? t.payload.source?.kind : undefined);
      const mine = all.filter((t) => t.kind === "decision_trace" && ["turn", "document"].includes(sourceKind(t)!));
      expect(mine.map((t) => t.scope)).toEqual(expect.arrayContaining([ALICE, ALICE_AT_GLOBEX]));
      expect(all.find((t) => sourceKind(t) === "reflect")).toMatchObject({ redacted: true, payload: { extraction: null } });
      expect(mine.length).toBeGreaterThan(0);
      for (const t of mine) expect(t.redacted).toBe(false);
    } finally {
      await f.done();
    }
  });

  it("a principal who reads everything a trace cites sees it whole, as the application does", async () => {
    const f = await fixture();
    try {
      const all = (await f.memory.traces.list({ limit: 1000 })).traces;
      expect(all.every((t) => t.redacted === false)).toBe(true);
      expect((await f.memory.traces.list({ limit: 1000, principal: P.admin })).traces).toEqual(all);
      // Alice inside globex reads every scope a request at { org: globex, user: alice } reads.
      const listed = (await f.memory.traces.list({ principal: P.aliceAtGlobex, limit: 1000 })).traces;
      expect(listed.length).toBeGreaterThan(10);
      expect(listed).toEqual(all.filter((t) => seesTrace(P.aliceAtGlobex, t.scope)));
      for (const t of listed) expect(await f.memory.traces.get(t.id, { principal: P.aliceAtGlobex })).toEqual(await f.memory.traces.get(t.id));
      // The auditor reads globex, not alice's own { user: alice } facts: the traces of requests at globex are
      // cut to globex; those at globex alone are whole.
      const audited = (await f.memory.traces.list({ principal: P.auditor, limit: 1000 })).traces;
      expect(audited.map((t) => t.id)).toEqual(all.filter((t) => seesTrace(P.auditor, t.scope)).map((t) => t.id));
      for (const t of audited) {
        await expectCut(f, P.auditor, t);
        await expectCut(f, P.auditor, await f.memory.traces.get(t.id, { principal: P.auditor }));
        if (JSON.stringify(t.scope) === JSON.stringify(GLOBEX)) expect(t).toEqual(all.find((x) => x.id === t.id));
      }
      expect(audited.some((t) => t.redacted)).toBe(true);
    } finally {
      await f.done();
    }
  });
});

/** What a caller learns from an error: everything but the id it asked for. */
function shape(error: unknown, id: string) {
  expect(error).toBeInstanceOf(NotFoundError);
  const e = error as NotFoundError;
  return {
    name: e.name,
    code: e.code,
    kind: e.kind,
    id: e.id === id ? "<id>" : e.id,
    message: e.message.split(id).join("<id>"),
    keys: Object.keys(e).sort(),
  };
}

describe("a lookup by id of something the caller may not see answers exactly like a missing id", () => {
  it("state.get, state.forget, traces.get, knowledge.remove, recall fact:<id>", async () => {
    const f = await fixture();
    try {
      const globexRecord = (await f.memory.state.list({ scope: GLOBEX })).records[0]!.id;
      const globexTrace = (await f.memory.traces.list({ limit: 1000 })).traces.find((t) => JSON.stringify(t.scope) === JSON.stringify(GLOBEX))!.id;
      const lookups: [string, string, string, (id: string, p: Principal) => Promise<unknown>][] = [
        ["state.get", globexRecord, "rec_999999", (id, p) => f.memory.state.get(id, { principal: p })],
        ["state.forget", globexRecord, "rec_999999", (id, p) => f.memory.state.forget(id, { principal: p })],
        ["traces.get", globexTrace, "trc_999999", (id, p) => f.memory.traces.get(id, { principal: p })],
        ["knowledge.remove", f.doc.documentId, "doc_999999", (id, p) => f.memory.knowledge.remove(id, { principal: p })],
        ["as().state.get", globexRecord, "rec_999999", (id, p) => f.memory.as(p).state.get(id)],
        ["as().knowledge.remove", f.doc.documentId, "doc_999999", (id, p) => f.memory.as(p).knowledge.remove(id)],
      ];
      for (const [name, hidden, missing, run] of lookups) {
        for (const p of [P.carol, P.alice]) {
          await settle();
          const before = await f.peek.snapshot();
          const counted = f.memory.access.deniedCounts().reduce((n, d) => n + d.count, 0);
          const a = await run(hidden, p).then(() => undefined, (e: unknown) => e);
          const b = await run(missing, p).then(() => undefined, (e: unknown) => e);
          expect(shape(a, hidden), `${name} by ${p.id}`).toEqual(shape(b, missing));
          expect((a as Error).message).not.toMatch(/globex|org|scope \{/);
          expect(f.memory.access.deniedCounts().reduce((n, d) => n + d.count, 0), `${name}: the attempt is counted`).toBe(counted + 1);
          await settle();
          expect(await f.peek.snapshot(), `${name} by ${p.id} wrote nothing`).toEqual(before);
        }
      }
      // fact:<id> answers the same for a record out of sight as for none at all.
      const [hiddenFact, missingFact] = await Promise.all(
        [globexRecord, "rec_999999"].map((id) => f.memory.recall(`fact:${id}`, { scope: P.carol.grants[0]!.scope, principal: P.carol })),
      );
      expect(hiddenFact!.answer.split(globexRecord).join("<id>")).toBe(missingFact!.answer.split("rec_999999").join("<id>"));
      expect([hiddenFact!.records, missingFact!.records]).toEqual([[], []]);
    } finally {
      await f.done();
    }
  });

  it("something the caller may see but not change still answers AccessDeniedError (its scope is no secret to it)", async () => {
    const f = await fixture();
    try {
      const globexRecord = (await f.memory.state.list({ scope: GLOBEX })).records[0]!.id;
      for (const run of [
        () => f.memory.knowledge.remove(f.doc.documentId, { principal: P.auditor }),
        () => f.memory.state.forget(globexRecord, { principal: P.auditor }),
      ]) {
        const error = await run().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(AccessDeniedError);
        expect((error as AccessDeniedError).scope).toEqual(GLOBEX);
      }
      expect((await f.memory.state.get(globexRecord, { principal: P.auditor })).scope).toEqual(GLOBEX);
    } finally {
      await f.done();
    }
  });
});
