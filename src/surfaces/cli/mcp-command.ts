import { readFile } from "node:fs/promises";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Principal } from "../../config/schemas.js";
import { SpectronValidationError } from "../../errors.js";
import { createMcpServer } from "../mcp/mcp-server.js";
import { openMemory, parseScope, type GlobalOptions, type Io } from "./cli-context.js";

/**
 * `spectron mcp`: the MCP server over stdio until the client closes stdin (or SIGINT/SIGTERM). stdout carries
 * protocol frames only; everything else goes to stderr.
 */
export async function mcpCommand(g: GlobalOptions, io: Io, o: { scope: string[]; principalFile?: string; version: string }): Promise<void> {
  const defaultScope = parseScope(o.scope);
  const principal = o.principalFile ? await readPrincipal(o.principalFile) : undefined;
  const memory = openMemory(g, { background: true });
  try {
    const server = createMcpServer(memory, { defaultScope, ...(principal ? { principal } : {}), version: o.version });
    const transport = new StdioServerTransport(io.stdin as NodeJS.ReadStream, io.out as NodeJS.WriteStream);
    const closed = new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
    });
    const stop = () => void server.close();
    io.stdin.once("end", stop);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await server.connect(transport);
    io.err.write(`spectron mcp: Context \`${g.context}\` in ${g.db}, over stdio${principal ? ` as ${principal.id}` : ""}\n`);
    await closed;
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  } finally {
    await memory.close();
  }
}

async function readPrincipal(path: string): Promise<Principal> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new SpectronValidationError("--principal-file", "a readable JSON file", path, error.code ? `(${error.code})` : undefined);
  });
  try {
    // memory.as() validates the principal itself (id, grants) and fails with the SDK's message.
    return JSON.parse(text) as Principal;
  } catch {
    throw new SpectronValidationError("--principal-file", "a JSON object { id, grants }", text);
  }
}
