// What mem0 users look for: edit a fact by hand (`state.update`), add several messages in one call (batch
// `ingest`), and list a user's facts across their scopes as an admin (`state.list({ across: true })`).
import { afterEach, describe, expect, it } from "vitest";
import { AccessDeniedError, NotFoundError, SpectronValidationError, type Principal, type Spectron } from "../src/index.js";
import { makeMemory, tempDir } from "./helpers.js";

const alice = { user: "alice" };
const aliceUser: Principal = { id: "alice", grants: [{ scope: alice, permissions: ["read", "write"] }] };
const reader: Principal = { id: "support", grants: [{ scope: alice, permissions: ["read"] }] };
const bobUser: Principal = { id: "bob", grants: [{ scope: { user: "bob" }, permissions: ["read", "write"] }] };
const admin: Principal = { id: "ops", grants: [{ scope: {}, permissions: ["manage"] }] };

const open: Spectron[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});
function fresh(path?: string) {
  const { memory } = makeMemory(path ? { path } : {});
  open.push(memory);
  return memory;
}

describe("state.update", () => {
  it("changes a value through the reconciler: same id, text follows, traced decision, history, cached answer evicted, re-embedded", async () => {
    const t = tempDir();
    try {
      const memory = fresh(t.path);
      const { records } = await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
      const plan = records[0]!;
      expect(plan.text).toBe("User is on the Pro plan.");
      const first = await memory.recall("Which plan am I on?", { scope: alice });
      expect(first.answer).toContain("Pro");
      expect((await memory.recall("Which plan am I on?", { scope: alice })).tier).toBe(1);

      const updated = await memory.state.update(plan.id, { value: "Enterprise" });
      expect(updated).toMatchObject({ id: plan.id, value: "Enterprise", text: "User is on the Enterprise plan.", status: "current" });
      expect(updated.history.map((h) => h.event)).toEqual(["created", "updated"]);
      expect(updated.history[1]!.detail).toBe("was: User is on the Pro plan.");

      // The cached answer cited the record: evicted, so the next recall answers from the edit.
      const after = await memory.recall("Which plan am I on?", { scope: alice });
      expect(after.tier).toBe(3);
      expect(after.answer).toContain("Enterprise");
      // Found by its new text through every channel (re-embedded, full-text index follows).
      expect((await memory.query("Enterprise", { scope: alice })).map((r) => r.id)).toContain(plan.id);
      expect((await memory.query("Pro plan", { scope: alice })).map((r) => r.text)).not.toContain("User is on the Pro plan.");

      const { traces } = await memory.traces.list({ kind: "decision_trace" });
      const decision = traces.find((d) => d.payload.source?.kind === "update")!;
      expect(decision.payload.outcomes).toEqual([
        expect.objectContaining({ record_id: plan.id, outcome: "updated", text: "User is on the Enterprise plan.", previous: { text: "User is on the Pro plan.", value: "Pro" } }),
      ]);
      expect(decision.payload.evicted_cache_entries).toBe(1);
      expect(decision.scope).toEqual(alice);

      // Survives a reopen: the edit is committed, vectors included.
      await memory.close();
      const again = fresh(t.path);
      expect((await again.state.get(plan.id)).text).toBe("User is on the Enterprise plan.");
      expect((await again.query("Enterprise plan", { scope: alice }))[0]!.id).toBe(plan.id);
    } finally {
      t.cleanup();
    }
  });

  it("takes new text; a value the text does not state, or an edit of a retired record, is rejected and changes nothing", async () => {
    const memory = fresh();
    const { records } = await memory.ingest({ content: "Always answer in British English.", scope: alice });
    const rule = records[0]!;
    const edited = await memory.state.update(rule.id, { text: "Always answer in Portuguese." });
    expect(edited.text).toBe("Always answer in Portuguese.");
    await expect(memory.state.update(rule.id, {})).rejects.toThrow("Invalid `patch`: expected `text`, `value` or both, received {}.");
    await expect(memory.state.update(rule.id, { text: "" })).rejects.toBeInstanceOf(SpectronValidationError);
    if (rule.attribute === null) await expect(memory.state.update(rule.id, { value: "x" })).rejects.toBeInstanceOf(SpectronValidationError);

    const { records: plans } = await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    const { records: up } = await memory.ingest({ content: "We upgraded to the Enterprise plan.", scope: alice });
    const old = up.find((r) => r.outcome === "superseded")!;
    expect(old.id).toBe(plans[0]!.id);
    await expect(memory.state.update(old.id, { text: "User is on the Team plan." })).rejects.toThrow(/current or flagged record \(this one is superseded\)/);
    expect((await memory.state.get(old.id)).text).toBe("User is on the Pro plan.");
    await memory.state.forget(rule.id);
    await expect(memory.state.update(rule.id, { text: "x" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("needs write on the record's scope: a reader is denied, a stranger gets NotFound, neither changes anything", async () => {
    const memory = fresh();
    const { records } = await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    const id = records[0]!.id;
    await expect(memory.state.update(id, { value: "Free", principal: reader })).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(memory.as(bobUser).state.update(id, { value: "Free" })).rejects.toBeInstanceOf(NotFoundError);
    expect((await memory.state.get(id)).value).toBe("Pro");
    expect(memory.access.deniedCounts()).toEqual(
      expect.arrayContaining([{ principal: "support", permission: "write", count: 1 }, { principal: "bob", permission: "write", count: 1 }]),
    );
    const own = await memory.as(aliceUser).state.update(id, { value: "Team" });
    expect(own.value).toBe("Team");
    const trace = (await memory.traces.list({ kind: "decision_trace", limit: 1 })).traces[0]!;
    expect(trace.principal).toBe("alice");
  });
});

describe("batch ingest", () => {
  it("stores several messages with one extraction call and one embedding call, reconciled in order as single ingests would be", async () => {
    const memory = fresh();
    const before = memory.usage().extraction?.calls ?? 0;
    const { turns } = await memory.ingest({
      messages: [
        { content: "I'm on the Pro plan." },
        { content: "Hi there!" },
        { role: "user", content: "We upgraded to the Enterprise plan." },
      ],
      scope: alice,
    });
    expect(memory.usage().extraction!.calls - before).toBe(1);
    expect(memory.usage().embedding!.calls).toBe(1);
    expect(turns).toHaveLength(3);
    expect(turns[0]!.records.map((r) => r.text)).toEqual(["User is on the Pro plan."]);
    expect(turns[1]!.records).toEqual([]);
    expect(turns[2]!.records.map((r) => [r.outcome, r.text])).toEqual(
      expect.arrayContaining([["created", "User is on the Enterprise plan."], ["superseded", "User is on the Pro plan."]]),
    );
    expect(new Set(turns.map((t) => t.turnId)).size).toBe(3);
    expect((await memory.turns.list({ status: "extracted" })).length).toBe(3);

    // The same messages one by one give the same records.
    const single = fresh();
    const texts = [];
    for (const content of ["I'm on the Pro plan.", "Hi there!", "We upgraded to the Enterprise plan."]) {
      texts.push((await single.ingest({ content, scope: alice })).records.map((r) => `${r.outcome} ${r.text}`));
    }
    expect(turns.map((t) => t.records.map((r) => `${r.outcome} ${r.text}`))).toEqual(texts);
  });

  it("takes an array of inputs, each with its own scope", async () => {
    const memory = fresh();
    const { turns } = await memory.ingest([
      { content: "I live in Lisbon.", scope: alice },
      { content: "I live in Berlin.", scope: { user: "bob" } },
    ]);
    expect(turns.map((t) => t.records[0]!.scope)).toEqual([alice, { user: "bob" }]);
    expect(memory.usage().extraction!.calls).toBe(1);
  });

  it("is all or nothing: one bad message, or one scope the caller may not write, and nothing is stored", async () => {
    const memory = fresh();
    await expect(memory.ingest({ messages: [{ content: "I live in Lisbon." }, { content: "" }], scope: alice })).rejects.toThrow(
      "Invalid `input.messages[1].content`: expected non-empty text, received \"\".",
    );
    await expect(memory.ingest({ messages: [], scope: alice })).rejects.toThrow("Invalid `input.messages`: expected at least 1 item, received [].");
    await expect(
      memory.ingest([
        { content: "I live in Lisbon.", scope: alice, principal: aliceUser },
        { content: "I live in Oslo.", scope: { user: "bob" }, principal: aliceUser },
      ]),
    ).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(memory.as(reader).ingest({ messages: [{ content: "I live in Lisbon." }], scope: alice })).rejects.toBeInstanceOf(AccessDeniedError);
    expect(await memory.turns.list()).toEqual([]);
    expect((await memory.state.list({ scope: alice })).records).toEqual([]);
  });

  it("a failed extraction keeps every turn pending, and the retry extracts them", async () => {
    const memory = fresh();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(memory.ingest({ messages: [{ content: "I live in Lisbon." }, { content: "I have a cat." }], scope: alice, signal: controller.signal })).rejects.toThrow("stop");
    expect((await memory.turns.list({ status: "pending" })).map((t) => t.content)).toEqual(["I live in Lisbon.", "I have a cat."]);
    expect(await memory.turns.retry()).toEqual({ extracted: 2, failed: 0 });
    expect((await memory.state.list({ scope: alice })).records.length).toBeGreaterThanOrEqual(2);
  });
});

describe("state.list across scopes", () => {
  it("lists every record whose scope contains the request scope, for a caller with manage", async () => {
    const memory = fresh();
    await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    await memory.ingest({ content: "I work at Acme.", scope: { org: "acme", user: "alice" } });
    await memory.ingest({ content: "I live in Lisbon.", scope: { project: "p1", user: "alice" } });
    await memory.ingest({ content: "I live in Berlin.", scope: { user: "bob" } });
    await memory.ingest({ content: "Our office is in Porto.", scope: { org: "acme" } });

    const visible = await memory.state.list({ scope: alice });
    expect(visible.records.map((r) => r.scope)).toEqual([alice]);
    const across = await memory.state.list({ scope: alice, across: true, principal: admin });
    expect(across.records.map((r) => JSON.stringify(r.scope)).sort()).toEqual(
      [{ project: "p1", user: "alice" }, { org: "acme", user: "alice" }, alice].map((s) => JSON.stringify(s)).sort(),
    );
    // Paging works the same way.
    const page = await memory.state.list({ scope: alice, across: true, limit: 2, principal: admin });
    const rest = await memory.state.list({ scope: alice, across: true, limit: 2, cursor: page.cursor!, principal: admin });
    expect([...page.records, ...rest.records].map((r) => r.id)).toEqual(across.records.map((r) => r.id));
    // A manage grant on alice's scope is enough; read is not.
    const aliceAdmin: Principal = { id: "alice-admin", grants: [{ scope: alice, permissions: ["manage"] }] };
    expect((await memory.state.list({ scope: alice, across: true, principal: aliceAdmin })).records).toHaveLength(3);
    await expect(memory.state.list({ scope: alice, across: true, principal: aliceUser })).rejects.toBeInstanceOf(AccessDeniedError);
    const acmeAdmin: Principal = { id: "acme-admin", grants: [{ scope: { org: "acme" }, permissions: ["manage"] }] };
    await expect(memory.state.list({ scope: alice, across: true, principal: acmeAdmin })).rejects.toBeInstanceOf(AccessDeniedError);
    expect(memory.access.deniedCounts()).toEqual(
      expect.arrayContaining([{ principal: "alice", permission: "manage", count: 1 }, { principal: "acme-admin", permission: "manage", count: 1 }]),
    );
  });
});
