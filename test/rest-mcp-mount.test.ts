import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createServer, hashToken, type Spectron, type Principal } from "../src/index.js";
import { alice, bob, makeMemory } from "./helpers.js";

/**
 * `server.mount()` carries the MCP streamable HTTP transport: the SDK's own McpServer (one tool over
 * `memory.as(principal)`), stateless, one server and transport per request, driven by the SDK's own Client.
 */
function mcpFor(memory: Spectron, principal: Principal | undefined): McpServer {
  const api = principal ? memory.as(principal) : memory;
  const mcp = new McpServer({ name: "spectron-test", version: "0.0.0" });
  mcp.registerTool("recall", { description: "Recall from memory", inputSchema: { query: z.string(), scope: z.record(z.string(), z.string()) } }, async (args) => {
    try {
      const r = await api.recall(args.query, { scope: args.scope });
      return { content: [{ type: "text", text: r.answer }] };
    } catch (error) {
      return { isError: true, content: [{ type: "text", text: (error as Error).message }] };
    }
  });
  return mcp;
}

describe("MCP streamable HTTP mounted on the REST server", () => {
  it("serves MCP at /mcp/{ctx} behind the same bearer tokens, as the token's principal", async () => {
    const { memory } = makeMemory({ context: "acme" });
    await memory.ingest({ content: "I live in Lisbon.", scope: alice });
    await memory.ingest({ content: "I live in Berlin.", scope: bob });
    const principal = { id: "alice", grants: [{ scope: alice, permissions: ["read" as const, "write" as const] }] };
    const server = createServer(memory, { auth: { tokens: [{ sha256: hashToken("alice-token"), principal }] } });
    server.mount("/mcp", async (request, caller) => {
      const context = decodeURIComponent(new URL(request.url).pathname.split("/")[2] ?? "");
      const mcp = mcpFor(await caller.memory(context), caller.principal);
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await mcp.connect(transport);
      return transport.handleRequest(request);
    });
    const { url } = await server.listen();

    const client = new Client({ name: "test", version: "0.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp/acme`), { requestInit: { headers: { authorization: "Bearer alice-token" } } }));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["recall"]);
    const mine = await client.callTool({ name: "recall", arguments: { query: "Where do I live?", scope: alice } });
    expect(JSON.stringify(mine.content)).toContain("Lisbon");
    const theirs = await client.callTool({ name: "recall", arguments: { query: "Where do I live?", scope: bob } });
    expect(theirs.isError).toBe(true);
    expect(JSON.stringify(theirs.content)).toContain("lacks `read`");
    await client.close();

    const anonymous = new Client({ name: "test", version: "0.0.0" });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp/acme`)))).rejects.toThrow();
    const unknown = await fetch(`${url}/mcp/nope`, { method: "POST", headers: { authorization: "Bearer alice-token", "content-type": "application/json" }, body: "{}" });
    expect(unknown.status).toBe(404);
    await server.close();
  });
});
