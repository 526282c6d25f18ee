// A child process for test/postgres/sdk-two-process.test.ts: one Spectron on a PostgreSQL database that another
// process opens too (the public `store` option), driven over the fork IPC channel. Replies are plain objects.
import { Spectron } from "../../src/index.js";
import { postgresStore } from "../../src/postgres.js";

type Command =
  | { op: "open"; url: string; context: string; now: number }
  | { op: "ingest"; scope: Record<string, string>; content: string; now: number }
  | { op: "query"; scope: Record<string, string>; text: string; now: number }
  | { op: "recall"; scope: Record<string, string>; text: string; now: number }
  | { op: "close" };

let memory: Spectron | undefined;
let now = 0;

async function handle(command: Command): Promise<unknown> {
  if (command.op !== "open" && command.op !== "close") now = command.now;
  switch (command.op) {
    case "open":
      now = command.now;
      memory = new Spectron({
        context: command.context,
        store: postgresStore({ connectionString: command.url, max: 4 }),
        clock: () => now,
        providers: {},
        schedule: { decay: false, expire: false, retry: false, consolidate: false, elaborate: false },
      });
      await memory.config.get(); // waits for the store to open
      return {};
    case "ingest": {
      const result = await memory!.ingest({ content: command.content, scope: command.scope });
      return { records: result.records.map((r) => r.text) };
    }
    case "query":
      return (await memory!.query(command.text, { scope: command.scope })).map((r) => r.text);
    case "recall": {
      const r = await memory!.recall(command.text, { scope: command.scope });
      return { answer: r.answer, tier: r.tier };
    }
    case "close":
      await memory?.close();
      return {};
  }
}

process.on("message", (m: Command & { id: number }) => {
  handle(m).then(
    (result) => process.send!({ id: m.id, result }),
    (error: unknown) => process.send!({ id: m.id, error: { message: error instanceof Error ? error.message : String(error) } }),
  );
});
process.send!({ ready: true });
