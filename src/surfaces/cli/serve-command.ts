import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { SpectronValidationError } from "../../errors.js";
import { createServer } from "../rest/server.js";
import { createMcpServer } from "../mcp/mcp-server.js";
import { openMemory, type GlobalOptions, type Io } from "./cli-context.js";

export interface ServeOptions {
  port: number;
  host: string;
  tokens?: string;
  /** false with `--no-auth`: every request is served as the application (full access). */
  auth: boolean;
  version: string;
}

/**
 * `spectron serve`: the REST API (`createServer`) over the Context, with MCP over streamable HTTP at
 * `/mcp/{ctx}` behind the same bearer tokens (stateless: one MCP server per request, as the token's principal).
 * SIGINT or SIGTERM closes it gracefully (requests in flight finish, then the instance closes).
 */
export async function serveCommand(g: GlobalOptions, io: Io, o: ServeOptions): Promise<void> {
  if (o.auth && o.tokens === undefined) {
    throw new SpectronValidationError("--tokens", "a tokens file { \"tokens\": [{ \"sha256\", \"principal\" }] }, or --no-auth to serve without authentication", "nothing");
  }
  const memory = openMemory(g, { background: true });
  let server: ReturnType<typeof createServer>;
  try {
    server = createServer(memory, { auth: o.auth ? { file: o.tokens! } : false });
  } catch (error) {
    await memory.close();
    throw error;
  }
  server.mount("/mcp", async (request, caller) => {
    const context = decodeURIComponent(new URL(request.url).pathname.split("/")[2] ?? "");
    const mcp = createMcpServer(await caller.memory(context), { ...(caller.principal ? { principal: caller.principal } : {}), version: o.version });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await mcp.connect(transport);
    return transport.handleRequest(request);
  });
  let stop: () => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    const on = (signal: string) => () => resolve(signal);
    const onInt = on("SIGINT");
    const onTerm = on("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    stop = () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    };
  });
  try {
    const listening = await server.listen({ port: o.port, host: o.host });
    io.err.write(`spectron serve: ${listening.url}/api/v1/${g.context} (MCP: ${listening.url}/mcp/${g.context})${o.auth ? "" : " WITHOUT authentication"}\n`);
    const signal = await stopped;
    io.err.write(`spectron serve: ${signal}, closing\n`);
  } finally {
    stop();
    await server.close();
  }
  io.err.write("spectron serve: closed\n");
}
