/**
 * A child process for the crash tests (test/resume.test.ts): opens a Spectron on a file against the fake
 * provider and starts one job, then stays alive until the test SIGKILLs it. Arguments: one JSON object.
 *
 *   { path, openaiURL, clock, action: "reindex" | "add" | "open", title?, text? }
 *
 * The Context is made by the test beforehand (its models are stored). The clock is fixed (the injected `clock`
 * option), so that lease timestamps are deterministic.
 */
import { Spectron } from "../../src/index.js";

const args = JSON.parse(process.argv[2]!) as { path: string; openaiURL: string; clock: number; action: "reindex" | "add" | "open"; title?: string; text?: string };
const memory = new Spectron({
  context: "crash",
  path: args.path,
  clock: () => args.clock,
  providers: { openai: { apiKey: "sk-test", baseURL: args.openaiURL } },
  provider: { maxRetries: 0, timeoutMs: 600_000 },
  schedule: { decay: false, expire: false, retry: false },
});
if (args.action === "reindex") await memory.knowledge.reindex();
// The add never returns: the test kills the process while its embedding request hangs.
if (args.action === "add") void memory.knowledge.add({ title: args.title!, text: args.text!, scope: { user: "alice" } });
process.stdout.write("started\n");
setInterval(() => {}, 60_000);
