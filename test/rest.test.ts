import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClosedError, createServer, hashToken, SpectronValidationError, type ListeningServer, type SpectronServer } from "../src/index.js";
import { alice, bob, makeMemory, tempDir } from "./helpers.js";

const TOKENS = { alice: "tok-alice-0123456789", bob: "tok-bob-0123456789", admin: "tok-admin-0123456789", betaOnly: "tok-beta-0123456789" };
const principals = {
  alice: { id: "alice", grants: [{ scope: alice, permissions: ["read" as const, "write" as const] }] },
  bob: { id: "bob", grants: [{ scope: bob, permissions: ["read" as const, "write" as const] }] },
  admin: { id: "ops", grants: [{ scope: {}, permissions: ["manage" as const] }] },
};

type Call = { token?: string | null; body?: unknown; raw?: string | ReadableStream<Uint8Array>; headers?: Record<string, string> };

function client(base: () => string) {
  return async (method: string, path: string, { token = TOKENS.admin, body, raw, headers = {} }: Call = {}) => {
    const init: RequestInit & { duplex?: string } = { method, headers: { ...headers } };
    if (token !== null) (init.headers as Record<string, string>).authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
    if (raw !== undefined) {
      init.body = raw;
      if (raw instanceof ReadableStream) init.duplex = "half";
    }
    const res = await fetch(`${base()}${path}`, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as any) : undefined };
  };
}

function expectProblem(r: { status: number; headers: Headers; json: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(r.json).toMatchObject({ type: `urn:spectron:problem:${code}`, status, code });
  expect(typeof r.json.title).toBe("string");
  expect(typeof r.json.detail).toBe("string");
}

describe("REST API over HTTP", () => {
  const acme = makeMemory({ context: "acme" }).memory;
  const beta = makeMemory({ context: "beta" }).memory;
  let server: SpectronServer;
  let listening: ListeningServer;
  const api = client(() => listening.url);

  beforeAll(async () => {
    server = createServer(
      { acme, beta },
      {
        auth: {
          tokens: [
            { sha256: hashToken(TOKENS.alice), principal: principals.alice },
            { sha256: hashToken(TOKENS.bob), principal: principals.bob },
            { sha256: hashToken(TOKENS.admin), principal: principals.admin },
            { sha256: hashToken(TOKENS.betaOnly), principal: principals.admin, contexts: ["beta"] },
          ],
        },
        bodyLimit: 4096,
        largeBodyLimit: 65_536,
      },
    );
    listening = await server.listen({ port: 0, host: "127.0.0.1" });
    expect(listening.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(async () => {
    await server.close();
  });

  it("refuses a request without a valid bearer token with a 401 problem", async () => {
    for (const token of [null, "", "wrong-token", TOKENS.alice.slice(0, -1)]) {
      const r = await api("GET", "/api/v1/acme/state?scope.user=alice", { token });
      expectProblem(r, 401, "unauthorized");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    const basic = await api("GET", "/api/v1/acme/state", { token: null, headers: { authorization: "Basic YWxpY2U6eA==" } });
    expectProblem(basic, 401, "unauthorized");
    // 401 comes before the Context is looked up: an unknown Context reveals nothing to a caller without a token.
    expectProblem(await api("GET", "/api/v1/nope/state", { token: null }), 401, "unauthorized");
  });

  it("answers an unknown Context, and one the token does not reach, with a 404 problem", async () => {
    expectProblem(await api("GET", "/api/v1/nope/state"), 404, "not_found");
    expectProblem(await api("GET", "/api/v1/acme/state", { token: TOKENS.betaOnly }), 404, "not_found");
    expect((await api("GET", "/api/v1/beta/state", { token: TOKENS.betaOnly })).status).toBe(200);
    expectProblem(await api("GET", "/api/v1/acme/no-such-route"), 404, "not_found");
  });

  it("ingests, lists and reads turns and state as the token's principal; alice never reads bob's facts or traces", async () => {
    const a = await api("POST", "/api/v1/acme/turns", { token: TOKENS.alice, body: { content: "I live in Lisbon.", scope: alice, session: "sa" } });
    expect(a.status).toBe(201);
    expect(a.json.records.map((r: any) => r.value)).toContain("Lisbon");
    const b = await api("POST", "/api/v1/acme/turns", { token: TOKENS.bob, body: { content: "I live in Berlin.", scope: bob } });
    expect(b.status).toBe(201);
    const bobRecord = b.json.records[0].id as string;
    const bobTrace = b.json.traceId as string;

    // Writing into bob's scope as alice is refused (403), and changes nothing.
    expectProblem(await api("POST", "/api/v1/acme/turns", { token: TOKENS.alice, body: { content: "I live in Rome.", scope: bob } }), 403, "access_denied");
    // Reading bob's scope: 403. His record and trace by id: 404, as for an id that does not exist.
    expectProblem(await api("GET", "/api/v1/acme/state?scope.user=bob", { token: TOKENS.alice }), 403, "access_denied");
    expectProblem(await api("GET", `/api/v1/acme/state/${bobRecord}`, { token: TOKENS.alice }), 404, "not_found");
    expectProblem(await api("GET", `/api/v1/acme/traces/${bobTrace}`, { token: TOKENS.alice }), 404, "not_found");
    expectProblem(await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, body: { query: "Where do I live?", scope: bob } }), 403, "access_denied");

    const state = await api("GET", "/api/v1/acme/state?scope.user=alice&limit=50", { token: TOKENS.alice });
    expect(state.status).toBe(200);
    expect(state.json.records.map((r: any) => r.value)).toEqual(["Lisbon"]);
    const traces = await api("GET", "/api/v1/acme/traces?limit=100", { token: TOKENS.alice });
    expect(traces.status).toBe(200);
    expect(traces.json.traces.length).toBeGreaterThan(0);
    for (const t of traces.json.traces) expect(t.scope).toEqual(alice);
    expect(JSON.stringify(traces.json)).not.toContain("Berlin");
    // The bearer token names who calls: a principal in the body is refused, not obeyed.
    const forged = await api("POST", "/api/v1/acme/query", { token: TOKENS.alice, body: { query: "Berlin", scope: bob, principal: principals.admin } });
    expectProblem(forged, 400, "validation");
    expect((await api("GET", "/api/v1/acme/state?scope[user]=bob", { token: TOKENS.bob })).json.records.map((r: any) => r.value)).toEqual(["Berlin"]);

    // The turn carries the token's principal: the decision trace says so.
    const trace = await api("GET", `/api/v1/acme/traces/${a.json.traceId}`, { token: TOKENS.alice });
    expect(trace.json).toMatchObject({ kind: "decision_trace", principal: "alice", session: "sa" });
    expect(trace.json.edges.length).toBeGreaterThan(0);
    const record = await api("GET", `/api/v1/acme/state/${a.json.records[0].id}`, { token: TOKENS.alice });
    expect(record.json).toMatchObject({ value: "Lisbon", status: "current" });

    const turns = await api("GET", "/api/v1/acme/turns?scope.user=alice", { token: TOKENS.alice });
    expect(turns.json.map((t: any) => t.content)).toEqual(["I live in Lisbon."]);
    expectProblem(await api("GET", "/api/v1/acme/turns?limit=abc", { token: TOKENS.alice }), 400, "validation");
    expectProblem(await api("GET", "/api/v1/acme/turns?scope.__proto__=x", { token: TOKENS.admin }), 400, "validation");
    expectProblem(await api("GET", "/api/v1/acme/turns?bogus=1", { token: TOKENS.alice }), 400, "validation");
  });

  it("recalls, queries, searches, reflects and chats over HTTP; /chat leaves the response_trace the spec draws", async () => {
    await api("POST", "/api/v1/acme/turns", { token: TOKENS.alice, body: { content: "I love hiking.", scope: alice } });
    await api("POST", "/api/v1/acme/turns", { token: TOKENS.alice, body: { content: "I love chess.", scope: alice } });
    const recall = await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, body: { query: "Where do I live?", scope: alice } });
    expect(recall.status).toBe(200);
    expect(recall.json.answer).toContain("Lisbon");
    const query = await api("POST", "/api/v1/acme/query", { token: TOKENS.alice, body: { query: "Lisbon", scope: alice } });
    expect(query.json.map((r: any) => r.value)).toContain("Lisbon");
    const search = await api("POST", "/api/v1/acme/search", { token: TOKENS.alice, body: { query: "Lisbon", scope: alice } });
    expect(search.json.some((r: any) => r.kind === "record")).toBe(true);
    const reflect = await api("POST", "/api/v1/acme/reflect", { token: TOKENS.alice, body: { question: "What does alice like?", scope: alice } });
    expect(reflect.json.answer).toContain("hiking");

    const chat = await api("POST", "/api/v1/acme/chat", { token: TOKENS.alice, body: { message: "I adopted a cat named Luna.", scope: alice, session: "chat-1" } });
    expect(chat.status).toBe(200);
    const trace = await api("GET", `/api/v1/acme/traces/${chat.json.traceId}`, { token: TOKENS.alice });
    expect(trace.json).toMatchObject({ kind: "response_trace", principal: "alice", session: "chat-1" });
    const kinds = trace.json.edges.filter((e: any) => e.direction === "out").map((e: any) => e.kind);
    expect(kinds.filter((k: string) => k === "used_retrieval")).toHaveLength(1);
    expect(kinds.filter((k: string) => k === "produced_decision")).toHaveLength(2);
    expect(kinds).toContain("wrote");
    const luna = await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, body: { query: "What is my cat called?", scope: alice } });
    expect(luna.json.answer).toContain("Luna");
    expectProblem(await api("POST", "/api/v1/acme/chat", { token: TOKENS.bob, body: { message: "hi", scope: alice } }), 403, "access_denied");

    const invalid = await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, body: { query: "", scope: alice } });
    expectProblem(invalid, 400, "validation");
    expect(invalid.json.field).toBe("query");
    expect(invalid.json.detail).toMatch(/^Invalid `query`/);
  });

  it("answers bad JSON, other media types and oversized bodies with problems", async () => {
    const bad = await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, raw: '{"query": "x",', headers: { "content-type": "application/json" } });
    expectProblem(bad, 400, "validation");
    expect(bad.json.detail).toMatch(/expected JSON/);
    expectProblem(await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, raw: "query=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type");
    expectProblem(await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, body: ["not", "an", "object"] }), 400, "validation");
    // Declared length over the limit (4 KiB here): refused before it is read.
    const big = JSON.stringify({ content: "x".repeat(5000), scope: alice });
    expectProblem(await api("POST", "/api/v1/acme/turns", { token: TOKENS.alice, raw: big, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
    // A streamed (chunked) body with no declared length: refused once it passes the limit.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"content":"' : "y".repeat(1000)));
        controller.close();
      },
    });
    expectProblem(await api("POST", "/api/v1/acme/turns", { token: TOKENS.alice, raw: stream, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
    // Knowledge documents have the larger limit.
    const doc = await api("POST", "/api/v1/acme/knowledge", { token: TOKENS.alice, body: { title: "Handbook", text: `Backups are kept for 30 days. ${"Filler sentence here. ".repeat(250)}`, scope: alice } });
    expect(doc.status).toBe(201);
    // Deep JSON is bounded by the SDK's own validation.
    let deep: unknown = "x";
    for (let i = 0; i < 40; i++) deep = { a: deep };
    expectProblem(await api("POST", "/api/v1/acme/turns", { token: TOKENS.alice, body: { content: "hi", scope: alice, metadata: deep } }), 400, "validation");
    expect((await acme.turns.list({ scope: alice })).map((t) => t.content)).not.toContain("hi");
    const nested = "[".repeat(2000) + "]".repeat(2000);
    expectProblem(await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, raw: `{"query": ${nested}}`, headers: { "content-type": "application/json" } }), 400, "validation");
    expectProblem(await api("POST", "/api/v1/acme/turns/batch", { token: TOKENS.alice, raw: `{"turns": {"x": ${nested}}}`, headers: { "content-type": "application/json" } }), 400, "validation");
    expectProblem(await api("POST", "/api/v1/acme/recall", { token: TOKENS.alice, raw: "null", headers: { "content-type": "application/json" } }), 400, "validation");
  });

  it("config: manage only, provider keys write-only and never echoed", async () => {
    expectProblem(await api("GET", "/api/v1/acme/config", { token: TOKENS.alice }), 403, "access_denied");
    expectProblem(await api("PUT", "/api/v1/acme/config/models", { token: TOKENS.alice, body: { response: "local:rules" } }), 403, "access_denied");
    const secret = "sk-test-SECRET-never-echoed";
    const set = await api("PUT", "/api/v1/acme/config/providers", { body: { openai: secret } });
    expect(set.json).toEqual({ providers_configured: ["openai"] });
    const config = await api("GET", "/api/v1/acme/config");
    expect(config.json.providers_configured).toEqual(["openai"]);
    expect(JSON.stringify(config.json)).not.toContain(secret);
    expect((await api("PUT", "/api/v1/acme/config/cache", { body: { similarity: 0.9 } })).json.similarity).toBe(0.9);
    const rules = [{ scope: alice, memory_category: "context", ttl: "30d" }];
    expect((await api("PUT", "/api/v1/acme/config/retention", { body: rules })).json).toEqual(rules);
    expect((await api("PUT", "/api/v1/acme/config/models", { body: { response: "local:rules" } })).json.response).toBe("local:rules");
    expectProblem(await api("PUT", "/api/v1/acme/config/models", { body: { response: "no-such-model" } }), 400, "validation");
    await api("PUT", "/api/v1/acme/config/providers", { body: {} });
  });

  it("cache flush and lifecycle sweeps: manage only; consolidate and elaborate only where the SDK has them", async () => {
    expectProblem(await api("POST", "/api/v1/acme/cache/flush", { token: TOKENS.alice }), 403, "access_denied");
    expect((await api("POST", "/api/v1/acme/cache/flush")).json).toEqual({ evicted: expect.any(Number) });
    for (const sweep of ["decay", "expire"]) {
      expectProblem(await api("POST", `/api/v1/acme/lifecycle/${sweep}`, { token: TOKENS.alice }), 403, "access_denied");
      const r = await api("POST", `/api/v1/acme/lifecycle/${sweep}`);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ changed: expect.any(Number), traceId: expect.stringMatching(/^trc_/) });
    }
    for (const sweep of ["consolidate", "elaborate"] as const) {
      const has = typeof (acme.lifecycle as unknown as Record<string, unknown>)[sweep] === "function";
      const r = await api("POST", `/api/v1/acme/lifecycle/${sweep}`);
      if (has) {
        expect(r.status).toBe(200);
        expectProblem(await api("POST", `/api/v1/acme/lifecycle/${sweep}`, { token: TOKENS.alice }), 403, "access_denied");
      } else expectProblem(r, 501, "not_implemented");
    }
  });

  it("knowledge: add, list, remove, and reindex as a job to poll", async () => {
    const add = await api("POST", "/api/v1/acme/knowledge", { token: TOKENS.alice, body: { title: "Policy", text: "Refunds are issued within 14 days.", scope: alice } });
    expect(add.status).toBe(201);
    const list = await api("GET", "/api/v1/acme/knowledge?scope.user=alice", { token: TOKENS.alice });
    expect(list.json.map((d: any) => d.title)).toContain("Policy");
    expectProblem(await api("DELETE", `/api/v1/acme/knowledge/${add.json.documentId}`, { token: TOKENS.bob }), 404, "not_found");
    expect((await api("DELETE", `/api/v1/acme/knowledge/${add.json.documentId}`, { token: TOKENS.alice })).json).toEqual({ chunks: add.json.chunks });

    await api("PUT", "/api/v1/acme/config/models", { body: { embedding: "local:hash-256" } });
    expectProblem(await api("POST", "/api/v1/acme/knowledge/reindex", { token: TOKENS.alice }), 403, "access_denied");
    const started = await api("POST", "/api/v1/acme/knowledge/reindex");
    expect(started.status).toBe(202);
    const location = started.headers.get("location")!;
    expect(location).toBe(`/api/v1/acme/jobs/${started.json.id}`);
    expect(started.json).toMatchObject({ kind: "reindex", status: "running" });
    expect(started.json.progress.total).toBeGreaterThan(0);
    // Another principal cannot see the job.
    expectProblem(await api("GET", location, { token: TOKENS.alice }), 404, "not_found");
    let job = (await api("GET", location)).json;
    while (job.status === "running") job = (await api("GET", location)).json;
    expect(job.status).toBe("succeeded");
    expect(job.progress.done).toBe(job.progress.total);
    expect(job.result).toMatchObject({ status: "complete", model: "local:hash-256" });
    expect((await api("GET", "/api/v1/acme/knowledge/reindex")).json).toMatchObject({ status: "complete" });
  });

  it("batch ingest: a job that reports progress and each turn's outcome", async () => {
    const turns = [
      { content: "I work at Globex.", scope: alice },
      { content: "", scope: alice },
      { content: "I speak Portuguese.", scope: alice },
    ];
    const r = await api("POST", "/api/v1/acme/turns/batch", { token: TOKENS.alice, body: { turns } });
    expect(r.status).toBe(202);
    expect(r.json.progress).toEqual({ done: 0, total: 3, failed: 0 });
    const location = r.headers.get("location")!;
    let job = (await api("GET", location, { token: TOKENS.alice })).json;
    while (job.status === "running") job = (await api("GET", location, { token: TOKENS.alice })).json;
    expect(job).toMatchObject({ kind: "ingest", status: "succeeded", progress: { done: 3, total: 3, failed: 1 } });
    expect(job.result[0].records.map((x: any) => x.value)).toContain("Globex");
    expect(job.result[1].error).toMatchObject({ code: "validation", status: 400 });
    expectProblem(await api("GET", location, { token: TOKENS.bob }), 404, "not_found");
    expectProblem(await api("POST", "/api/v1/acme/turns/batch", { token: TOKENS.alice, body: { turns: [] } }), 400, "validation");
    expectProblem(await api("POST", "/api/v1/acme/turns/batch", { token: TOKENS.alice, body: { turns: [{ content: "x", principal: principals.admin }] } }), 400, "validation");
  });

  it("serves an OpenAPI 3.1 document with every route, its schemas valid JSON Schema 2020-12", async () => {
    const r = await api("GET", "/api/v1/openapi.json", { token: null });
    expect(r.status).toBe(200);
    const doc = r.json;
    expect(doc.openapi).toBe("3.1.0");
    const routes = server.app.routes.filter((x) => x.path.startsWith("/api/v1/:ctx/"));
    expect(routes.length).toBeGreaterThanOrEqual(29);
    for (const route of routes) {
      const path = route.path.replace(/:([A-Za-z_]+)/g, "{$1}");
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${path}`).toBeDefined();
      for (const m of path.matchAll(/\{([A-Za-z_]+)\}/g)) expect(op.parameters.map((p: any) => p.name)).toContain(m[1]);
    }
    // Every schema compiles as JSON Schema 2020-12, with every $ref resolving inside the document.
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: "spectron", components: doc.components }, "spectron");
    const schema = (name: string) => ajv.getSchema(`spectron#/components/schemas/${name}`)!;
    for (const name of Object.keys(doc.components.schemas)) expect(schema(name), name).toBeTypeOf("function");
    const ingest = schema("IngestBody");
    expect(ingest({ content: "I live in Lisbon.", scope: { user: "alice" }, metadata: { a: [1, { b: null }] } })).toBe(true);
    expect(ingest({ content: "x", scope: { "bad-dim": "v" } })).toBe(false);
    expect(ingest({ content: "x", principal: principals.admin })).toBe(false);
    expect(schema("ChatBody")({ message: "hi", scope: alice, session: "s" })).toBe(true);
    expect(schema("ChatBody")({ scope: alice })).toBe(false);
  });
});

describe("REST server options, mounting and shutdown", () => {
  it("does not start without an explicit auth choice; auth: false serves every request as the application", async () => {
    const { memory } = makeMemory({ context: "open" });
    expect(() => createServer(memory, {} as never)).toThrow(SpectronValidationError);
    expect(() => createServer(memory, { auth: { tokens: [{ sha256: "plain-token", principal: principals.alice }] } })).toThrow(/sha256/);
    const server = createServer(memory, { auth: false });
    const { url } = await server.listen();
    const api = client(() => url);
    const r = await api("POST", "/api/v1/open/turns", { token: null, body: { content: "I live in Porto.", scope: bob } });
    expect(r.status).toBe(201);
    expect((await api("GET", "/api/v1/open/config", { token: null })).status).toBe(200);
    await server.close();
  });

  it("reads tokens from a JSON file of digests", async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, "tokens.json");
      writeFileSync(file, JSON.stringify({ tokens: [{ sha256: hashToken("file-token-123"), principal: principals.alice }] }));
      const { memory } = makeMemory({ context: "files" });
      const server = createServer(memory, { auth: { file } });
      const { url } = await server.listen();
      const api = client(() => url);
      expect((await api("GET", "/api/v1/files/state?scope.user=alice", { token: "file-token-123" })).status).toBe(200);
      expectProblem(await api("GET", "/api/v1/files/state?scope.user=alice", { token: "other" }), 401, "unauthorized");
      await server.close();
      writeFileSync(file, "{ not json");
      expect(() => createServer(makeMemory({ context: "f2" }).memory, { auth: { file } })).toThrow(/JSON/);
      expect(() => createServer(makeMemory({ context: "f3" }).memory, { auth: { file: join(tmp.dir, "missing.json") } })).toThrow(/readable tokens file/);
    } finally {
      tmp.cleanup();
    }
  });

  it("serves contexts from a factory, each made once", async () => {
    const made: string[] = [];
    const factory = (name: string) => {
      if (!name.startsWith("t-")) return undefined;
      made.push(name);
      return makeMemory({ context: name }).memory;
    };
    const server = createServer(factory, { auth: false });
    const { url } = await server.listen();
    const api = client(() => url);
    await Promise.all([api("GET", "/api/v1/t-one/state", { token: null }), api("GET", "/api/v1/t-one/state", { token: null })]);
    expect((await api("GET", "/api/v1/t-two/state", { token: null })).status).toBe(200);
    expectProblem(await api("GET", "/api/v1/other/state", { token: null }), 404, "not_found");
    expect(made).toEqual(["t-one", "t-two"]);
    await server.close();
  });

  it("mounts a handler behind the same tokens, and closes gracefully: in-flight requests finish, then the instance closes", async () => {
    const { memory } = makeMemory({ context: "grace" });
    const server = createServer(memory, { auth: { tokens: [{ sha256: hashToken(TOKENS.alice), principal: principals.alice }] } });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    server.mount("/slow", async (request, caller) => {
      entered();
      await released;
      const m = await caller.memory("grace");
      return Response.json({ principal: caller.principal?.id, method: request.method, context: m.context });
    });
    expect(() => server.mount("/api/v1/x", () => new Response())).toThrow(TypeError);
    const { url } = await server.listen();
    const api = client(() => url);
    expectProblem(await api("GET", "/slow", { token: null }), 401, "unauthorized");

    const pending = api("POST", "/slow/deeper", { token: TOKENS.alice });
    await inHandler;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false); // the request in flight holds the shutdown
    release();
    const done = await pending;
    expect(done.status).toBe(200);
    expect(done.json).toEqual({ principal: "alice", method: "POST", context: "grace" });
    await closing;
    expect(closed).toBe(true);
    await expect(memory.ingest({ content: "late", scope: alice })).rejects.toBeInstanceOf(ClosedError);
    await expect(fetch(`${url}/api/v1/grace/state`)).rejects.toThrow();
    // A second close is the same shutdown.
    await server.close();
  });
});
