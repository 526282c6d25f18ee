// A child process for test/multiproc.test.ts: one Spectron on a file that another process uses too. Driven over
// the fork IPC channel; every reply is a plain object (errors reduced to name, code and message).
import { Spectron } from "../../src/index.js";

type Command =
  | { op: "open"; path: string; context: string; at?: number }
  | { op: "ingest"; contents: string[]; scope: Record<string, string> }
  | { op: "query"; queries: string[]; scope: Record<string, string>; limit: number }
  | { op: "close"; at?: number };

let memory: Spectron | undefined;

function describe(error: unknown) {
  const e = error as { name?: string; code?: unknown; message?: string; retryable?: unknown };
  return { name: e?.name ?? typeof error, code: e?.code ?? null, retryable: e?.retryable ?? null, message: String(e?.message ?? error) };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.op) {
    case "open":
      // Spin to a wall-clock instant the parent chose, so that several children open at once.
      while (command.at !== undefined && Date.now() < command.at);
      memory = new Spectron({ context: command.context, path: command.path, providers: {}, schedule: { decay: false, expire: false, retry: false } });
      return { opened: true };
    case "ingest": {
      const errors = [];
      let ok = 0;
      for (const content of command.contents) {
        try {
          await memory!.ingest({ content, scope: command.scope });
          ok++;
        } catch (error) {
          errors.push(describe(error));
        }
      }
      return { ok, errors };
    }
    case "query": {
      const results = [];
      for (const q of command.queries) {
        const records = await memory!.query(q, { scope: command.scope, limit: command.limit });
        const trace = (await memory!.traces.list({ kind: "retrieval_trace", limit: 1 })).traces[0]!;
        const payload = trace.payload as { vector_path: string; candidates: { vector: { id: string }[] } };
        const vectorTop = [];
        for (const c of payload.candidates.vector.slice(0, 5)) vectorTop.push((await memory!.state.get(c.id)).text);
        results.push({ query: q, top: records.map((r) => r.text), vectorPath: payload.vector_path, vectorTop });
      }
      return { results };
    }
    case "close": {
      while (command.at !== undefined && Date.now() < command.at);
      const report = await memory!.close();
      return { closed: true, report: report ?? null };
    }
  }
}

process.on("message", (command: Command & { id: number }) => {
  handle(command).then(
    (result) => process.send!({ id: command.id, result }),
    (error: unknown) => process.send!({ id: command.id, error: describe(error) }),
  );
});
process.send!({ ready: true });
