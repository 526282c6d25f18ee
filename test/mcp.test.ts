import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { builtBin, childEnv } from "./cli-build.js";
import { tempDir } from "./helpers.js";

// The MCP server as a host runs it: `spectron mcp` spawned over stdio by the SDK's own client.
const tmp = tempDir();
let bin: string;
let client: Client;
let transport: StdioClientTransport;
let stderr = "";

beforeAll(async () => {
  bin = await builtBin();
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, "--db", tmp.path, "--context", "acme", "mcp", "--scope", "user=alice"],
    env: childEnv() as Record<string, string>,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  client = new Client({ name: "spectron-test", version: "1.0.0" });
  await client.connect(transport);
}, 600_000); // the one `npm run build` the test files share (build-once.ts), when the sources changed since the last build

afterAll(async () => {
  await client?.close();
  tmp.cleanup();
});

type Text = { type: "text"; text: string };
const call = async <T,>(name: string, args: Record<string, unknown>) => {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as Text[];
  if (result.isError) throw new Error(content[0]!.text);
  return JSON.parse(content[0]!.text) as T;
};

describe("spectron mcp", { timeout: 120_000 }, () => {
  test("lists six tools, each with a description and an input schema whose arguments are named as in the SDK", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["forget", "inspect_trace", "recall", "reflect", "remember", "search"]);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName.remember!.inputSchema.properties!)).toEqual(["content", "scope", "role", "speaker", "occurred_at", "metadata"]);
    expect(byName.remember!.inputSchema.required).toEqual(["content"]);
    expect(byName.remember!.inputSchema.properties!.content).toMatchObject({ type: "string", minLength: 1, maxLength: 64_000 });
    expect(Object.keys(byName.recall!.inputSchema.properties!)).toEqual(["query", "scope", "limit"]);
    expect(byName.recall!.inputSchema.properties!.limit).toMatchObject({ type: "integer", minimum: 1, maximum: 100 });
    expect(byName.forget!.inputSchema.required).toEqual(["id"]);
    expect(byName.reflect!.inputSchema.required).toEqual(["question"]);
    for (const tool of tools) expect(tool.description!.length).toBeGreaterThan(80);
    expect(byName.recall!.description).toMatch(/Call it before answering/);
  });

  test("remember, recall, search, inspect_trace, reflect and forget reach the SDK; errors come back as tool errors", async () => {
    const stored = await call<{ traceId: string; records: { id: string; text: string; scope: Record<string, string> }[] }>("remember", {
      content: "I moved to Lisbon last month. My cat is called Miso.",
    });
    expect(stored.records.map((r) => r.text)).toContain("User lives in Lisbon.");
    expect(stored.records.every((r) => r.scope.user === "alice")).toBe(true); // the server's default scope
    await call("remember", { content: "I prefer tea.", scope: { user: "bob" } });

    const recalled = await call<{ answer: string; traceId: string }>("recall", { query: "where do I live?" });
    expect(recalled.answer).toContain("Lisbon");
    const found = await call<{ id: string; text: string }[]>("search", { query: "cat" });
    const cat = found.find((r) => r.text === "User's cat is called Miso.")!;
    expect(cat).toBeDefined();
    // bob's fact never reaches alice's scope.
    const tea = await call<{ text: string; scope: Record<string, string> }[]>("search", { query: "tea", scope: { user: "alice" } });
    expect(tea.every((r) => r.scope.user === "alice")).toBe(true);
    expect((await call<{ text: string }[]>("search", { query: "tea", scope: { user: "bob" } })).map((r) => r.text)).toContain("User likes tea.");

    const trace = await call<{ id: string; kind: string; edges: { kind: string }[] }>("inspect_trace", { id: stored.traceId });
    expect(trace).toMatchObject({ id: stored.traceId, kind: "decision_trace" });
    expect(trace.edges.some((e) => e.kind === "created")).toBe(true);

    const reflected = await call<{ answer: string; records: unknown[] }>("reflect", { question: "What do I care about?" });
    expect(reflected.records.length).toBeGreaterThan(0);

    const forgotten = await call<{ id: string; status: string }>("forget", { id: cat.id });
    expect(forgotten).toMatchObject({ id: cat.id, status: "forgotten" });
    await expect(call("forget", { id: cat.id })).rejects.toThrow(/^not_found: No record/);
    await expect(call("recall", { query: "where?", scope: { "bad name": "x" } })).rejects.toThrow(/scope/);
    await expect(call("inspect_trace", { id: "trc_999999" })).rejects.toThrow(/^not_found:/);
  });

  test("resources: facts and traces are listed and read as JSON", async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(["spectron://facts/{id}", "spectron://traces/{id}"]);
    const { resources } = await client.listResources();
    const fact = resources.find((r) => r.uri.startsWith("spectron://facts/"))!;
    expect(fact).toBeDefined();
    const read = await client.readResource({ uri: fact.uri });
    const record = JSON.parse((read.contents[0] as { text: string }).text) as { id: string; history: unknown[] };
    expect(`spectron://facts/${record.id}`).toBe(fact.uri);
    expect(record.history.length).toBeGreaterThan(0);
    const trace = resources.find((r) => r.uri.startsWith("spectron://traces/"))!;
    const readTrace = JSON.parse(((await client.readResource({ uri: trace.uri })).contents[0] as { text: string }).text) as { edges: unknown[] };
    expect(Array.isArray(readTrace.edges)).toBe(true);
  });

  test("stdout carries protocol frames only: the startup line went to stderr", () => {
    expect(stderr).toContain("spectron mcp: Context `acme`");
  });
});

describe("spectron mcp --principal-file", { timeout: 120_000 }, () => {
  test("a server acting as alice never reads bob's facts or traces", async () => {
    const principal = join(tmp.dir, "alice.json");
    writeFileSync(principal, JSON.stringify({ id: "alice", grants: [{ scope: { user: "alice" }, permissions: ["read", "write"] }] }));
    const bobs = await call<{ traceId: string; records: { id: string }[] }>("remember", { content: "My sister is called Ines.", scope: { user: "bob" } });
    const asAlice = new Client({ name: "alice", version: "1.0.0" });
    await asAlice.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [bin, "--db", tmp.path, "--context", "acme", "mcp", "--scope", "user=alice", "--principal-file", principal],
        env: childEnv() as Record<string, string>,
        stderr: "ignore",
      }),
    );
    try {
      const tool = async (name: string, args: Record<string, unknown>) => {
        const r = await asAlice.callTool({ name, arguments: args });
        return { isError: r.isError === true, text: (r.content as Text[])[0]!.text };
      };
      expect(await tool("search", { query: "sister", scope: { user: "bob" } })).toMatchObject({ isError: true, text: expect.stringMatching(/^access_denied: Principal `alice` lacks `read`/) });
      expect(await tool("inspect_trace", { id: bobs.traceId })).toMatchObject({ isError: true, text: expect.stringMatching(/^not_found:/) });
      expect(await tool("forget", { id: bobs.records[0]!.id })).toMatchObject({ isError: true, text: expect.stringMatching(/^not_found:/) });
      const own = await tool("recall", { query: "where do I live?" });
      expect(own.isError).toBe(false);
      const { resources } = await asAlice.listResources();
      const facts = resources.filter((r) => r.uri.startsWith("spectron://facts/"));
      expect(facts.length).toBeGreaterThan(0);
      expect(facts.map((r) => r.uri)).not.toContain(`spectron://facts/${bobs.records[0]!.id}`);
      expect(resources.map((r) => r.uri)).not.toContain(`spectron://traces/${bobs.traceId}`);
    } finally {
      await asAlice.close();
    }
  });
});
