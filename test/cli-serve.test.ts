import { spawn } from "node:child_process";
import { once } from "node:events";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { builtBin, childEnv, runBin } from "./cli-build.js";
import { tempDir } from "./helpers.js";

// `spectron serve` as a child process: the REST API and MCP over streamable HTTP on 127.0.0.1, closed by SIGTERM.
const tmp = tempDir();
let bin: string;
beforeAll(async () => {
  bin = await builtBin();
}, 600_000); // the one `npm run build` the test files share (build-once.ts), when the sources changed since the last build
afterAll(() => tmp.cleanup());

describe("spectron serve", { timeout: 120_000 }, () => {
  test("without --tokens or --no-auth it refuses to start (exit 1)", async () => {
    const run = await runBin(bin, ["--db", tmp.path, "serve"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Invalid `--tokens`");
  });

  test("serves REST and MCP, and SIGTERM closes it gracefully with exit 0", async () => {
    const child = spawn(process.execPath, [bin, "--db", tmp.path, "--context", "acme", "serve", "--no-auth", "--port", "0"], { env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        const m = /spectron serve: (http:\/\/127\.0\.0\.1:\d+)\/api\/v1\/acme/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on("exit", () => reject(new Error(`exited early: ${stderr}`)));
    });
    const posted = await fetch(`${url}/api/v1/acme/turns`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ content: "I live in Lisbon.", scope: { user: "alice" } }) });
    expect(posted.status).toBeLessThan(300);

    const client = new Client({ name: "test", version: "0.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp/acme`)));
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["forget", "inspect_trace", "recall", "reflect", "remember", "search"]);
    const recalled = await client.callTool({ name: "recall", arguments: { query: "where do I live?", scope: { user: "alice" } } });
    expect(JSON.stringify(recalled.content)).toContain("Lisbon");
    await client.close();

    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toContain("spectron serve: SIGTERM, closing\nspectron serve: closed\n");
    expect(stdout).toBe("");
  });
});
