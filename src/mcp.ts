/**
 * `spectron/mcp`: the Model Context Protocol server over a Spectron instance (`spectron mcp` and `spectron serve`
 * run it), to serve from your own process over any transport. Its own entry point, so that the main entry does
 * not load the MCP SDK.
 *
 * @example
 * import { createMcpServer } from "spectron/mcp";
 * import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
 * await createMcpServer(memory, { defaultScope: { user: "alice" } }).connect(new StdioServerTransport());
 */
export { createMcpServer, type McpMemory, type McpServerOptions } from "./surfaces/mcp/mcp-server.js";
