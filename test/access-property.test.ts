import { describe, expect, it } from "vitest";
import { AccessDeniedError, NotFoundError, Spectron, type CallContext, type MemoryRecord, type Principal } from "../src/index.js";
import { manualClock, mulberry32, settle } from "./helpers.js";
import { peekStore } from "./store-peek.js";

/**
 * Property: for 10,000 random (principal, scope, call) combinations against one seeded store, no read returns
 * a record outside the request scope or succeeds without a read grant covering that scope, and no write
 * succeeds without a write grant covering its target. The oracle below is written from the model (DESIGN §3, §6),
 * independently of src/access.
 */


type Scope = Record<string, string>;
type Permission = "read" | "write" | "manage";

const SEED = 0x5eed_ac1;
/**
 * Calls per run: 10,000 on SQLite; 3,000 when the SDK suite runs on PostgreSQL (vitest.postgres.config.ts), with the
 * floors on each side of each check scaled alike (each call kind still allowed and denied 30 times or more, same
 * seed). The oracle's space of principals, grants and scopes is covered by the 10,000 on SQLite; what the second
 * engine adds is its own scope filters, which 3,000 calls exercise on every shape. 10,000 calls took 180 s over a
 * loaded server's round trips (and outlast the test's 180 s on PGlite, PostgreSQL in WebAssembly, one session).
 */
const ITERATIONS = process.env.SPECTRON_SDK_ENGINE === undefined ? 10_000 : 3_000;
const floor = (atTenThousand: number) => Math.round((atTenThousand * ITERATIONS) / 10_000);
const DIMENSIONS: Record<string, string[]> = { org: ["acme", "globex"], user: ["alice", "bob", "carol"], project: ["apollo"] };
/** The shapes records are written at: { org }, { org, user }, { user }, a few { org, project } and { }. */
const STORE_SHAPES: [string[], number][] = [
  [["org"], 3],
  [["org", "user"], 5],
  [["user"], 3],
  [["org", "project"], 1],
  [[], 0.3],
];
const TEXTS = [
  (r: () => number) => `I'm on the ${pick(r, ["Pro", "Starter", "Enterprise", "Team"])} plan.`,
  (r: () => number) => `I live in ${pick(r, ["Lisbon", "Paris", "Berlin", "Porto", "Oslo"])}.`,
  (r: () => number) => `I love ${pick(r, ["hiking", "chess", "sailing", "jazz", "tennis", "baking", "cycling", "opera", "running", "poetry", "climbing", "gardening", "painting", "surfing"])}.`,
  (r: () => number) => `I work at ${pick(r, ["Acme", "Globex", "Initech"])}.`,
  (r: () => number) => `Ticket T-${Math.floor(r() * 1000)} is waiting for a reply.`,
  (r: () => number) => `My name is ${pick(r, ["Ann", "Bea", "Cy"])}.`,
  (r: () => number) => `The ${pick(r, ["launch", "review", "offsite", "audit", "demo", "retro"])} is on ${pick(r, ["Monday", "Tuesday", "Thursday", "Friday"])}.`,
];
const QUERIES = ["Which tickets are waiting?", "Which plan am I on?", "Where do I live?", "What do I love?", "Where do I work?", "What is my name?", "plan", "hiking chess", "When is the launch?"];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function scopeOf(r: () => number, dims: string[]): Scope {
  return Object.fromEntries(dims.map((d) => [d, pick(r, DIMENSIONS[d]!)]));
}

function randomScope(r: () => number, p = 0.45): Scope {
  return scopeOf(r, Object.keys(DIMENSIONS).filter(() => r() < p));
}

/** inner ⊆ outer: every dimension of inner is in outer with the same value. */
const within = (inner: Scope, outer: Scope) => Object.entries(inner).every(([k, v]) => Object.prototype.hasOwnProperty.call(outer, k) && outer[k] === v);

/** The model's rule: some grant holding the permission (or manage) has a scope the target scope contains. */
/** Reading a record by id: its scope is inside or above one of the principal's read grants. */
function readsRecord(p: Principal, target: Scope): boolean {
  return p.grants.some((g) => (g.permissions.includes("read") || g.permissions.includes("manage")) && (within(g.scope, target) || within(target, g.scope)));
}

function allowed(p: Principal, permission: Permission, target: Scope): boolean {
  return p.grants.some((g) => within(g.scope, target) && (g.permissions.includes(permission) || g.permissions.includes("manage")));
}

function randomPrincipal(r: () => number, n: number): Principal {
  const grants = Array.from({ length: Math.floor(r() * 4) }, () => {
    const permissions: Permission[] = [];
    if (r() < 0.6) permissions.push("read");
    if (r() < 0.45) permissions.push("write");
    if (r() < 0.06) permissions.push("manage");
    return { scope: randomScope(r, 0.55), permissions: permissions.length ? permissions : (["read"] as Permission[]) };
  });
  // Now and then a Context-wide grant (operators), so that manage is exercised on both sides.
  if (r() < 0.06) grants.push({ scope: {}, permissions: [pick(r, ["read", "write", "manage"] as Permission[])] });
  return { id: `p${n}`, grants };
}

/** A request scope: usually one of the principal's grants, sometimes narrowed or widened by a dimension, else random. */
function requestScope(r: () => number, p: Principal): Scope {
  if (p.grants.length > 0 && r() < 0.6) {
    const s: Scope = { ...pick(r, p.grants).scope };
    const x = r();
    if (x < 0.35) {
      const d = pick(r, Object.keys(DIMENSIONS));
      s[d] = pick(r, DIMENSIONS[d]!);
    } else if (x < 0.5) {
      const keys = Object.keys(s);
      if (keys.length) delete s[pick(r, keys)];
    }
    return s;
  }
  return randomScope(r);
}

type Kind = "query" | "state.list" | "state.get" | "recall" | "turns.list" | "traces.list" | "ingest" | "state.forget" | "manage";
const WEIGHTS: [Kind, number][] = [
  ["query", 28],
  ["state.list", 16],
  ["state.get", 12],
  ["recall", 16],
  ["turns.list", 5],
  ["traces.list", 3],
  ["ingest", 14],
  ["state.forget", 2],
  ["manage", 4],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((s, [, w]) => s + w, 0);
function pickKind(r: () => number): Kind {
  let x = r() * TOTAL_WEIGHT;
  for (const [k, w] of WEIGHTS) if ((x -= w) < 0) return k;
  return "query";
}

/** Reads that returned a record whose scope is neither inside nor above any of the caller's read grants. */
const unrelated: string[] = [];

describe("access property", () => {
  it(`${ITERATIONS.toLocaleString("en")} random principals, grants, scopes and calls: no read outside a grant, no write without one`, async () => {
    const r = mulberry32(SEED);
    const clock = manualClock();
    const memory = new Spectron({ context: "prop", clock: clock.now, providers: {}, schedule: { decay: false, expire: false, retry: false } });
    const peek = await peekStore(memory);
    const counts = () =>
      peek.get<Record<string, number>>(
        "SELECT (SELECT COUNT(*) FROM turns) AS turns, (SELECT COUNT(*) FROM records) AS records, (SELECT COUNT(*) FROM traces) AS traces, (SELECT COUNT(*) FROM cache_entries) AS cache",
      );
    const TABLES = { rec: "records", chk: "chunks", doc: "documents", turn: "turns", trc: "traces" } as const;

    try {
      // The seeded store: a few hundred records across scopes, written by the application.
      const weightSum = STORE_SHAPES.reduce((s, [, w]) => s + w, 0);
      for (let i = 0; i < 320; i++) {
        let x = r() * weightSum;
        const dims = STORE_SHAPES.find(([, w]) => (x -= w) < 0)?.[0] ?? ["org"];
        await memory.ingest({ content: pick(r, TEXTS)(r), scope: scopeOf(r, dims) });
        if (i % 40 === 0) clock.advance(3_600_000);
      }
      await memory.config.cache({ similarity: 0.6 }); // so that tier 2 fires with the offline embedder
      await memory.idle();
      const scopeById = new Map<string, Scope>();
      const allRows = await peek.all<{ id: number; scope_key: string; status: string }>("SELECT id, scope_key, status FROM records");
      for (const row of allRows) scopeById.set(`rec_${row.id}`, JSON.parse(row.scope_key) as Scope);
      const live = allRows.filter((x) => x.status === "current" || x.status === "flagged");
      expect(allRows.length).toBeGreaterThan(250);
      expect(live.length).toBeGreaterThan(150);
      const ids = [...scopeById.keys()];

      const stats = new Map<Kind, { ok: number; denied: number }>();
      const tally = (k: Kind, ok: boolean) => {
        const s = stats.get(k) ?? { ok: 0, denied: 0 };
        s[ok ? "ok" : "denied"] += 1;
        stats.set(k, s);
      };
      let cachedHits = 0;
      const timing = new Map<Kind, number>();

      for (let i = 0; i < ITERATIONS; i++) {
        const p = randomPrincipal(r, i);
        const kind = pickKind(r);
        const scope = requestScope(r, p);
        const extra: Omit<CallContext, "principal"> = {
          ...(r() < 0.3 ? { onBehalfOf: pick(r, DIMENSIONS.user!) } : {}),
          ...(r() < 0.3 ? { session: `s${i % 7}` } : {}),
        };
        const bound = r() < 0.3 ? memory.as(p, extra) : undefined;
        const ctx: CallContext = { principal: p, ...extra };
        const label = `#${i} ${kind} by ${JSON.stringify(p)} at ${JSON.stringify(scope)}`;

        /** Runs the call; checks a denial against the oracle; returns the result when it was allowed. */
        const attempt = async <T>(
          expectAllowed: boolean,
          permission: Permission,
          target: Scope,
          run: () => Promise<T>,
          byId = false,
        ): Promise<T | undefined> => {
          if (permission !== "read") await settle();
          const before = permission === "read" ? undefined : await counts();
          let result: T;
          try {
            result = await run();
          } catch (error) {
            // A lookup by id of a record the caller may not read answers NotFoundError, revealing nothing.
            if (byId && error instanceof NotFoundError) {
              expect(expectAllowed, `${label}: hidden although a grant reads it`).toBe(false);
              tally(kind, false);
              return undefined;
            }
            if (!(error instanceof AccessDeniedError)) throw new Error(`${label}: unexpected ${String(error)}`, { cause: error });
            expect(expectAllowed, `${label}: denied although a grant covers it`).toBe(false);
            expect([error.principal, error.permission, error.scope], label).toEqual([p.id, permission, target]);
            if (before) expect(await counts(), `${label}: a denied ${permission} changed the store`).toEqual(before);
            tally(kind, false);
            return undefined;
          }
          expect(expectAllowed, `${label}: succeeded without a ${permission} grant covering ${JSON.stringify(target)}`).toBe(true);
          tally(kind, true);
          return result;
        };
        const inScope = (records: readonly MemoryRecord[], s: Scope) => {
          for (const rec of records) {
            expect(within(rec.scope, s), `${label}: returned ${rec.id} at ${JSON.stringify(rec.scope)}`).toBe(true);
            // The stricter rule (see "known holes" below): a record inside a read grant, or above one.
            const related = p.grants.some(
              (g) => (g.permissions.includes("read") || g.permissions.includes("manage")) && (within(g.scope, rec.scope) || within(rec.scope, g.scope)),
            );
            if (!related) unrelated.push(`${label}: ${rec.id} at ${JSON.stringify(rec.scope)}`);
          }
        };

        const started = performance.now();
        switch (kind) {
          case "query": {
            const q = pick(r, QUERIES);
            const out = await attempt(allowed(p, "read", scope), "read", scope, () =>
              bound ? bound.query(q, { scope, limit: 20 }) : memory.query(q, { scope, limit: 20, ...ctx }),
            );
            if (out) inScope(out, scope);
            break;
          }
          case "state.list": {
            const out = await attempt(allowed(p, "read", scope), "read", scope, () =>
              bound ? bound.state.list({ scope, limit: 50 }) : memory.state.list({ scope, limit: 50, ...ctx }),
            );
            if (out) inScope(out.records, scope);
            break;
          }
          case "state.get": {
            const id = pick(r, ids);
            const target = scopeById.get(id)!;
            const out = await attempt(readsRecord(p, target), "read", target, () => (bound ? bound.state.get(id) : memory.state.get(id, ctx)), true);
            if (out) expect(out.scope, label).toEqual(target);
            break;
          }
          case "recall": {
            const q = r() < 0.1 ? `fact:${pick(r, ids)}` : pick(r, QUERIES);
            const out = await attempt(allowed(p, "read", scope), "read", scope, () =>
              bound ? bound.recall(q, { scope }) : memory.recall(q, { scope, ...ctx }),
            );
            if (out) {
              inScope(out.records, scope);
              if (out.cached) {
                // A reused answer comes from an answer given at exactly this scope.
                cachedHits += 1;
                const from = (await memory.traces.get(out.traceId)).edges.find((e) => e.kind === "reused_from")!.node.id;
                expect((await memory.traces.get(from)).scope, label).toEqual(scope);
              }
            }
            break;
          }
          case "turns.list": {
            const out = await attempt(allowed(p, "read", scope), "read", scope, () => memory.turns.list({ scope, limit: 50, ...ctx }));
            if (out) for (const turn of out) expect(within(turn.scope, scope), label).toBe(true);
            break;
          }
          case "traces.list": {
            const out = (await (bound ? bound.traces.list({ limit: 10 }) : memory.traces.list({ limit: 10, principal: p }))).traces;
            const manager = allowed(p, "manage", {});
            const sees = (scope: Scope | null) => manager || (scope !== null && allowed(p, "read", scope));
            for (const tr of out) expect(sees(tr.scope), `${label}: sees ${tr.id}`).toBe(true);
            if (i % 10 === 0) {
              // Cut to its grants: every record, chunk, turn or trace a trace names is one it may read.
              for (const tr of out) {
                for (const id of new Set(JSON.stringify(tr).match(/\b(rec|chk|doc|turn|trc)_\d+\b/g))) {
                  const [kind, n] = id.split("_") as [keyof typeof TABLES, string];
                  const row = await peek.get<{ scope_key: string | null }>(`SELECT scope_key FROM ${TABLES[kind]} WHERE id = ?`, Number(n));
                  const scope = row?.scope_key == null ? null : (JSON.parse(row.scope_key) as Scope);
                  const ok = kind === "trc" ? row !== undefined && sees(scope) : scope !== null && readsRecord(p, scope);
                  expect(ok, `${label}: ${tr.id} names ${id} at ${JSON.stringify(scope)}`).toBe(true);
                }
              }
              // And nothing it may see is left out: the newest ten visible traces, from the file.
              const expected = (await peek.all<{ id: number; scope_key: string | null }>("SELECT id, scope_key FROM traces ORDER BY id DESC"))
                .filter((x) => sees(x.scope_key === null ? null : (JSON.parse(x.scope_key) as Scope)))
                .slice(0, 10)
                .map((x) => `trc_${x.id}`);
              expect(out.map((x) => x.id), label).toEqual(expected);
            }
            tally(kind, true);
            break;
          }
          case "ingest": {
            const content = pick(r, TEXTS)(r);
            const out = await attempt(allowed(p, "write", scope), "write", scope, () =>
              bound ? bound.ingest({ content, scope }) : memory.ingest({ content, scope, ...ctx }),
            );
            if (out) {
              for (const rec of out.records) {
                expect(rec.scope, label).toEqual(scope);
                scopeById.set(rec.id, rec.scope);
              }
              ids.push(...out.records.map((x) => x.id).filter((x) => !ids.includes(x)));
            }
            break;
          }
          case "state.forget": {
            const id = pick(r, ids);
            const status = async () => (await peek.get<{ status: string }>("SELECT status FROM records WHERE id = ?", Number(id.slice("rec_".length))))!.status;
            const was = await status();
            // A forgotten record answers NotFoundError before any access check (reported as a hole): skip those.
            if (was === "forgotten") break;
            const target = scopeById.get(id)!;
            const out = await attempt(allowed(p, "write", target), "write", target, () => (bound ? bound.state.forget(id) : memory.state.forget(id, ctx)), true);
            expect(await status(), label).toBe(out ? "forgotten" : was);
            break;
          }
          case "manage": {
            const which = r();
            await attempt(allowed(p, "manage", {}), "manage", {}, (): Promise<unknown> =>
              which < 0.8 ? memory.config.get(ctx) : which < 0.9 ? memory.lifecycle.expire(ctx) : bound && which < 0.95 ? bound.cache.flush() : memory.cache.flush(ctx),
            );
            break;
          }
        }
        timing.set(kind, (timing.get(kind) ?? 0) + performance.now() - started);
        if (i % 500 === 499) clock.advance(60_000);
      }

      if (process.env.ACCESS_PROPERTY_TIMING) console.log(Object.fromEntries([...timing].map(([k, ms]) => [k, Math.round(ms)])), cachedHits);
      // The run exercised both sides of every check.
      const summary = Object.fromEntries([...stats].map(([k, s]) => [k, s]));
      for (const k of ["query", "state.list", "state.get", "recall", "ingest"] as const) {
        expect(stats.get(k)!.ok, `${k}: ${JSON.stringify(summary)}`).toBeGreaterThan(floor(100));
        expect(stats.get(k)!.denied, `${k}: ${JSON.stringify(summary)}`).toBeGreaterThan(floor(100));
      }
      for (const k of ["turns.list", "state.forget", "manage"] as const) {
        expect(stats.get(k)!.ok, `${k}: ${JSON.stringify(summary)}`).toBeGreaterThan(floor(5));
        expect(stats.get(k)!.denied, `${k}: ${JSON.stringify(summary)}`).toBeGreaterThan(floor(5));
      }
      // The cache path is exercised (fewer answers are cached since a "don't know" is not, and tier 2 needs the same question signature).
      expect(cachedHits).toBeGreaterThan(floor(20));
      // Every denial was counted.
      const deniedTotal = [...stats.values()].reduce((s, x) => s + x.denied, 0);
      expect(memory.access.deniedCounts().reduce((s, x) => s + x.count, 0)).toBe(deniedTotal);
    } finally {
      await peek.close();
      await memory.close();
    }
  }, 180_000);

  // Known hole (src/access/access.ts can() with src/store/scope.ts visibleScopeKeys()): a grant is a floor the
  // request scope must contain, so a caller may add dimensions to its request and see records of scopes unrelated
  // to its grants, e.g. a { user: "alice" } grant asking at { org: "globex", user: "alice" } sees { org: "globex" }
  // records. Runs on what the property above collected; drop `.fails` once reads are limited to records inside or
  // above a read grant.
  it("no read returns a record whose scope is unrelated to every read grant", () => {
    expect(unrelated.slice(0, 3)).toEqual([]);
  });
});
