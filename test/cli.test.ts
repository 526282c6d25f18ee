import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { builtBin, runBin, runBinIntoClosedPipe } from "./cli-build.js";
import { tempDir } from "./helpers.js";
import { Spectron } from "../src/index.js";

// The CLI as it ships: the bin built by tsup from tsup.config.ts, spawned as a child process against a temporary
// SQLite file, local models only (no provider keys in the child's environment).
let bin: string;
const tmp = tempDir();
const db = tmp.path;
const spectron = (args: string[], options?: { stdin?: string }) => runBin(bin, ["--db", db, "--context", "acme", ...args], options);

beforeAll(async () => {
  bin = await builtBin();
}, 600_000); // the one `npm run build` the test files share (build-once.ts), when the sources changed since the last build
afterAll(() => tmp.cleanup());

const json = <T,>(text: string) => JSON.parse(text) as T;
type Ingested = { turnId: string; traceId: string; records: { id: string; text: string; outcome: string }[] };

describe("spectron CLI", { timeout: 120_000 }, () => {
  let lisbon: string;
  let porto: Ingested;

  test("--help lists the commands and the exit codes; a usage error exits 1", async () => {
    const [help, unknown, missing] = await Promise.all([runBin(bin, ["--help"]), runBin(bin, ["--db", db, "frobnicate"]), runBin(bin, ["--db", db, "recall"])]);
    expect(help.code).toBe(0);
    for (const command of ["inspect", "traces", "state", "recall", "ingest", "sweep", "export", "import", "mcp", "serve"]) expect(help.stdout).toMatch(new RegExp(`\\n  ${command} `));
    expect(help.stdout).toContain("Exit codes:");
    expect(help.stdout).toMatch(/2\s+not found/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("missing required argument 'question'");
  });

  test("ingest a turn: human output by default, the IngestResult with --json", async () => {
    const first = await spectron(["ingest", "I moved to Lisbon last month. My cat is called Miso.", "--scope", "user=alice"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^turn_\d+\t\d+ facts\ttrc_\d+\n/);
    expect(first.stdout).toMatch(/created\s+rec_\d+\s+User lives in Lisbon\./);
    lisbon = /created\s+(rec_\d+)\s+User lives in Lisbon\./.exec(first.stdout)![1]!;
    const second = await spectron(["--json", "ingest", "I now live in Porto.", "--scope", "user=alice"]);
    expect(second.code).toBe(0);
    porto = json<Ingested>(second.stdout);
    expect(porto.turnId).toMatch(/^turn_\d+$/);
    expect(porto.records.map((r) => [r.outcome, r.id === lisbon ? "lisbon" : r.text])).toEqual(
      expect.arrayContaining([["superseded", "lisbon"], ["created", "User lives in Porto."]]),
    );
  });

  test("ingest JSONL from stdin: every line is checked before any is written; progress goes to stderr with --progress", async () => {
    const bad = await spectron(["ingest"], { stdin: '{"content": "My sister is called Ines.", "scope": {"user": "bob"}}\nnot json\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("line 2");
    expect(bad.stderr).not.toMatch(/\n\s+at /); // a message, never a stack
    const before = json<{ records: unknown[] }>((await spectron(["--json", "state", "--scope", "user=bob"])).stdout);
    expect(before.records).toHaveLength(0);

    const lines = [
      { content: "My sister is called Ines.", scope: { user: "bob" } },
      { content: "I work at Globex as a designer." },
      { content: "I prefer tea over coffee.", role: "user" },
    ];
    const ok = await spectron(["--json", "ingest", "--scope", "user=bob", "--progress"], { stdin: lines.map((l) => JSON.stringify(l)).join("\n") + "\n" });
    expect(ok.code).toBe(0);
    const out = json<{ ingested: number; results: Ingested[] }>(ok.stdout);
    expect(out.ingested).toBe(3);
    expect(ok.stderr).toContain("ingest");
    expect(ok.stderr).toContain("3/3 100%");
    const bob = json<{ records: { text: string; scope: Record<string, string> }[] }>((await spectron(["--json", "state", "--scope", "user=bob"])).stdout);
    expect(bob.records.map((r) => r.text)).toEqual(expect.arrayContaining(["User's sister is called Ines.", "User likes tea.", "User works at Globex."]));
    expect(bob.records.every((r) => r.scope.user === "bob")).toBe(true);

    // A line the SDK rejects stops the batch there and names the line; exit 1 (validation).
    const rejected = await spectron(["ingest"], { stdin: '{"content": "   "}\n' });
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain("line 1: Invalid `input.content`");
  });

  test("state, recall and traces, human and --json", async () => {
    const [state, recall, traces, badScope] = await Promise.all([
      spectron(["state", "--scope", "user=alice"]),
      spectron(["--json", "recall", "where do I live?", "--scope", "user=alice"]),
      spectron(["--json", "traces", "--kind", "decision_trace", "--limit", "2"]),
      spectron(["state", "--scope", "user"]),
    ]);
    expect(state.code).toBe(0);
    expect(state.stdout).toMatch(/rec_\d+\tidentity\/attribute\t\{user=alice\}\timportance 1\.00\texpires never\tUser lives in Porto\./);
    expect(state.stdout).not.toContain("User lives in Lisbon."); // superseded
    expect(recall.code).toBe(0);
    expect(json<{ answer: string }>(recall.stdout).answer).toContain("Porto");
    const page = json<{ traces: { kind: string }[]; cursor: string | null }>(traces.stdout);
    expect(page.traces).toHaveLength(2);
    expect(page.traces.every((t) => t.kind === "decision_trace")).toBe(true);
    expect(page.cursor).not.toBeNull();
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toContain("Invalid `--scope`: expected a dimension and a value as k=v");

    const human = await spectron(["recall", "where do I live?", "--scope", "user=alice"]);
    expect(human.stdout).toBe("You live in Porto.\n");
    expect(human.stderr).toMatch(/tier \d/);
  });

  test("inspect trace, fact and entity; not found exits 2", async () => {
    const [trace, fact, entity, missing, bad, missingEntity] = await Promise.all([
      spectron(["inspect", `trace:${porto.traceId}`]),
      spectron(["inspect", `fact:${lisbon}`]),
      spectron(["inspect", "entity:Miso", "--scope", "user=alice"]),
      spectron(["inspect", "trace:trc_99999"]),
      spectron(["inspect", "rec_1"]),
      spectron(["inspect", "entity:Zanzibar", "--scope", "user=alice"]),
    ]);
    expect(trace.code).toBe(0);
    expect(trace.stdout).toMatch(new RegExp(`^${porto.traceId}  decision_trace  `));
    expect(trace.stdout).toContain("├─ payload");
    expect(trace.stdout).toMatch(/→ superseded \(1\)\n\s+│?\s*└─ record rec_\d+  "User lives in Lisbon\."/);
    expect(trace.stdout).toMatch(/→ created \(1\)/);

    expect(fact.code).toBe(0);
    expect(fact.stdout).toContain(`${lisbon}  "User lives in Lisbon."`);
    expect(fact.stdout).toContain("status: superseded");
    expect(fact.stdout).toMatch(/history \(2\)\n│  ├─ \S+  created\n│  └─ \S+  superseded/);
    expect(fact.stdout).toMatch(/superseded by \(1\)\n\s+└─ rec_\d+ \[identity\/attribute, current\] User lives in Porto\./);
    expect(fact.stdout).toMatch(/source: turn turn_\d+/);

    expect(entity.code).toBe(0);
    expect(entity.stdout).toMatch(/^entity "Miso": 1 fact\n└─ rec_\d+ \[context\/attribute, current\] User's cat is called Miso\./);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("spectron: No trace `trc_99999` in this Context (or it is outside the caller's scope).\n");
    expect(bad.code).toBe(1);
    expect(missingEntity.code).toBe(2);

    const asJson = json<{ kind: string; record: { id: string }; supersededBy: { text: string }[] }>((await spectron(["--json", "inspect", `fact:${lisbon}`])).stdout);
    expect(asJson).toMatchObject({ kind: "fact", record: { id: lisbon }, supersededBy: [{ text: "User lives in Porto." }] });
  });

  test("sweep decay and expire run through the SDK and leave sweep traces", async () => {
    const decay = await spectron(["--json", "sweep", "decay"]);
    expect(decay.code).toBe(0);
    const result = json<{ changed: number; traceId: string }>(decay.stdout);
    expect(result.traceId).toMatch(/^trc_\d+$/);
    const trace = await spectron(["--json", "inspect", `trace:${result.traceId}`]);
    expect(json<{ trace: { kind: string; payload: { sweep: string } } }>(trace.stdout).trace).toMatchObject({ kind: "sweep_trace", payload: { sweep: "decay" } });
    const expire = await spectron(["sweep", "expire"]);
    expect(expire.code).toBe(0);
    expect(expire.stdout).toMatch(/^expire: \{"changed":0,"traceId":"trc_\d+"\}\n$/);
    const [unknown, consolidate, elaborate] = await Promise.all([spectron(["sweep", "compact"]), spectron(["--json", "sweep", "consolidate"]), spectron(["--json", "sweep", "elaborate"])]);
    expect(unknown.code).toBe(1);
    // Consolidation and elaboration run through memory.lifecycle and answer with their sweep traces.
    for (const run of [consolidate, elaborate]) {
      expect(run.code).toBe(0);
      const { traceId } = json<{ traceId: string }>(run.stdout);
      const t = await spectron(["--json", "inspect", `trace:${traceId}`]);
      expect(json<{ trace: { kind: string } }>(t.stdout).trace.kind).toBe("sweep_trace");
    }
  });

  test("ingest --file: JSONL from a file, no progress bar when stderr is not a terminal; --expires-before is validated", async () => {
    const file = join(tmp.dir, "turns.jsonl");
    writeFileSync(file, `${JSON.stringify({ content: "My brother is called Rui.", scope: { user: "carol" } })}\n\n`);
    const [run, badDate] = await Promise.all([spectron(["ingest", "--file", file]), spectron(["state", "--expires-before", "tomorrow"])]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^turn_\d+\t\d+ facts?\ttrc_\d+\n/);
    expect(run.stderr).toBe("Ingested 1 turn.\n");
    expect(badDate.code).toBe(1);
    expect(badDate.stderr).toContain("Invalid `options.expires_before`");
    const missing = await spectron(["ingest", "--file", join(tmp.dir, "nope.jsonl")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Invalid `--file`: expected a readable file");
  });

  test("a storage failure exits 3, with the message and no stack (the stack with --debug)", async () => {
    const dir = join(tmp.dir, "a-directory");
    mkdirSync(dir);
    const [plain, debug] = await Promise.all([runBin(bin, ["--db", dir, "state"]), runBin(bin, ["--db", dir, "--debug", "state"])]);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/^spectron: .+\n$/);
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  test("--json errors: one JSON line with code, name and exit code on stderr", async () => {
    const run = await spectron(["--json", "inspect", "fact:rec_99999"]);
    expect(run.code).toBe(2);
    const last = run.stderr.trim().split("\n").at(-1)!;
    expect(JSON.parse(last)).toEqual({ error: { code: "not_found", name: "NotFoundError", message: expect.stringContaining("rec_99999"), exitCode: 2 } });
  });

  test("a reader that closes the pipe early (`spectron --help | head -1`) is no error: exit 0, nothing on stderr", async () => {
    // Help (written by commander) and a command's own output (export: many lines, after opening the file).
    const runs = await Promise.all([["--help"], ["--db", db, "--context", "acme", "export"]].map((args) => runBinIntoClosedPipe(bin, args)));
    expect(runs).toEqual([
      { code: 0, stderr: "" },
      { code: 0, stderr: "" },
    ]);
    // The export ran to its end and closed the file properly: the Context opens and reads as before.
    expect((await spectron(["--json", "state", "--scope", "user=alice"])).code).toBe(0);
  });

  test("export → import into a fresh file round-trips the Context: facts with history, traces, turns, documents, vectors", async () => {
    // A document too (documents and chunks, their vectors): added through the SDK, on the same file.
    {
      await using memory = new Spectron({ context: "acme", path: db, providers: {}, schedule: false });
      await memory.knowledge.add({ title: "Ops handbook", text: "Backups are kept for 35 days. Restores are done by the support team on request.", scope: { user: "alice" } });
    }
    const exported = await spectron(["export"]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; table?: string; row?: Record<string, unknown> });
    expect(lines[0]).toMatchObject({ type: "spectron-export", version: 1, context: "acme" });
    expect(lines.at(-1)).toMatchObject({ type: "end" });
    const settings = lines.find((l) => l.table === "contexts")!.row!;
    expect(settings.providers_sealed).toBeNull();
    expect(lines.some((l) => l.type === "vector")).toBe(true);

    const file = join(tmp.dir, "export.jsonl");
    writeFileSync(file, exported.stdout);
    const fresh = join(tmp.dir, "fresh.db");
    const imported = await runBin(bin, ["--db", fresh, "--context", "acme", "--json", "import", file]);
    expect(imported.code).toBe(0);
    expect(json<{ counts: Record<string, number> }>(imported.stdout).counts).toMatchObject({ contexts: 1, records: expect.any(Number), traces: expect.any(Number), vectors: expect.any(Number) });

    // Exported again from the fresh file: the same lines.
    const again = await runBin(bin, ["--db", fresh, "--context", "acme", "export"]);
    expect(again.stdout).toBe(exported.stdout);

    // The imported Context works through the SDK: records with history, recall from the imported vectors.
    await using copy = new Spectron({ context: "acme", path: fresh, providers: {}, schedule: false });
    const original = await spectron(["--json", "inspect", `fact:${lisbon}`]);
    expect((await copy.state.get(lisbon)).history).toEqual(json<{ record: { history: unknown } }>(original.stdout).record.history);
    expect((await copy.recall("where do I live?", { scope: { user: "alice" } })).answer).toContain("Porto");
    expect((await copy.query("tea or coffee", { scope: { user: "bob" } })).map((r) => r.text)).toContain("User likes tea.");
    expect((await copy.knowledge.list()).map((d) => [d.title, d.status])).toEqual([["Ops handbook", "indexed"]]);
    expect((await copy.recall("How long are backups kept?", { scope: { user: "alice" } })).chunks.map((c) => c.title)).toContain("Ops handbook");

    // Into a file where the Context exists: refused, nothing written (exit 1). A truncated export: refused too.
    const twice = await runBin(bin, ["--db", fresh, "--context", "acme", "import", file]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("a Context that does not exist yet in the target file");
    const cut = join(tmp.dir, "cut.jsonl");
    writeFileSync(cut, exported.stdout.split("\n").slice(0, 5).join("\n"));
    const truncated = await runBin(bin, ["--db", join(tmp.dir, "other.db"), "--context", "acme", "import", cut]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain("an export cut short");
    const empty = await runBin(bin, ["--db", join(tmp.dir, "other.db"), "--context", "acme", "--json", "state"]);
    expect(json<{ records: unknown[] }>(empty.stdout).records).toHaveLength(0);
    expect(readFileSync(file, "utf8")).toBe(exported.stdout);
  });
});
