import { Command, Option } from "commander";
import type { Spectron } from "../../spectron.js";
import type { StateListOptions, TracesListOptions } from "../../config/schemas.js";
import { SpectronValidationError } from "../../errors.js";
import { collect, openMemory, parseCount, parseScope, writeJson, type GlobalOptions, type Io } from "./cli-context.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";
import { inspect, renderInspected } from "./inspect.js";
import { ingestBatch, parseJsonl, readJsonlSource } from "./ingest-command.js";
import { ProgressBar } from "./progress-bar.js";
import { clip, formatScope } from "./render-tree.js";
import { runSweep, SWEEPS } from "./sweep-command.js";
import { exportCommand, importCommand } from "./transfer-command.js";

declare const __SPECTRON_VERSION__: string | undefined;

/**
 * The `spectron` command line: thin over the SDK. Every action throws what the SDK throws; `main` turns it into
 * a message on stderr and an exit code.
 */
export function createProgram(io: Io, env: Record<string, string | undefined> = {}): Command {
  const program = new Command("spectron")
    .description("Inspect and operate a Spectron memory file: traces, facts, recall, ingest, sweeps, export/import, MCP.")
    .version(typeof __SPECTRON_VERSION__ === "string" ? __SPECTRON_VERSION__ : "0.0.0-dev")
    .option("--db <path>", "SQLite database file (env SPECTRON_DB)", env.SPECTRON_DB ?? "spectron.db")
    .option("--context <name>", "Context name (env SPECTRON_CONTEXT)", env.SPECTRON_CONTEXT ?? "default")
    .option("--json", "machine-readable JSON output on stdout", false)
    .option("--debug", "print stack traces of errors", false)
    .addHelpText("after", `\n${EXIT_CODES_HELP}\n\nExamples:\n  spectron --db memory.db ingest "I moved to Lisbon." --scope user=alice\n  spectron --db memory.db recall "where do I live?" --scope user=alice\n  spectron --db memory.db inspect trace:trace_3\n  cat turns.jsonl | spectron --db memory.db ingest --progress\n  spectron --db memory.db export > backup.jsonl && spectron --db fresh.db import backup.jsonl`)
    .showHelpAfterError("(run spectron --help for usage)");
  program.configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  /** Opens the Context for one command and closes it afterwards, whatever happens. */
  const withMemory = async (cmd: Command, fn: (memory: Spectron, g: GlobalOptions) => Promise<void>) => {
    const g = globals(cmd);
    const memory = openMemory(g);
    try {
      await fn(memory, g);
    } finally {
      await memory.close();
    }
  };

  program
    .command("inspect")
    .description("a readable tree: trace:<id> (a trace and its edges), fact:<id> (a fact, its history and lineage), entity:<name> (an entity's facts)")
    .argument("<target>", "trace:<id> | fact:<id> | entity:<name>")
    .option("--scope <k=v>", "entity: look among the facts visible to this scope, repeatable (default: Context-wide facts)", collect, [])
    .action(async (target: string, o: { scope: string[] }, cmd: Command) =>
      withMemory(cmd, async (memory, g) => {
        const inspected = await inspect(memory, target, parseScope(o.scope));
        if (g.json) writeJson(io, inspected);
        else io.out.write(renderInspected(inspected));
      }),
    );

  program
    .command("traces")
    .description("traces, newest first")
    .addOption(new Option("--kind <kind>", "trace kind").choices(["retrieval_trace", "decision_trace", "response_trace", "sweep_trace"]))
    .option("--session <id>", "only this session's traces")
    .option("--limit <n>", "at most n traces (1–1000)", parseCount("--limit"), 20)
    .option("--cursor <cursor>", "continue from a previous page")
    .action(async (o: { kind?: TracesListOptions["kind"]; session?: string; limit: number; cursor?: string }, cmd: Command) =>
      withMemory(cmd, async (memory, g) => {
        const page = await memory.traces.list({ ...(o.kind ? { kind: o.kind } : {}), ...(o.session ? { session: o.session } : {}), ...(o.cursor ? { cursor: o.cursor } : {}), limit: o.limit });
        if (g.json) return writeJson(io, page);
        for (const t of page.traces) io.out.write(`${t.id}\t${t.kind}\t${t.created_at}\t${formatScope(t.scope)}\t${traceSummary(t.payload as unknown as Record<string, unknown>)}\n`);
        if (page.cursor) io.out.write(`(more: --cursor ${page.cursor})\n`);
        if (page.traces.length === 0) io.err.write("No traces.\n");
      }),
    );

  program
    .command("state")
    .description("facts (records) visible to a scope, newest first")
    .option("--scope <k=v>", "scope dimension, repeatable (--scope org=acme --scope user=alice)", collect, [])
    .option("--expires-before <date>", "only facts expiring before this ISO 8601 date-time")
    .addOption(new Option("--status <status>", "another status than current").choices(["current", "superseded", "flagged", "expired", "forgotten"]))
    .addOption(new Option("--category <category>", "memory category").choices(["identity", "knowledge", "context"]))
    .option("--limit <n>", "at most n facts (1–1000)", parseCount("--limit"), 100)
    .option("--cursor <cursor>", "continue from a previous page")
    .action(async (o: { scope: string[]; expiresBefore?: string; status?: StateListOptions["status"]; category?: StateListOptions["memory_category"]; limit: number; cursor?: string }, cmd: Command) =>
      withMemory(cmd, async (memory, g) => {
        const list = await memory.state.list({
          scope: parseScope(o.scope),
          ...(o.expiresBefore !== undefined ? { expires_before: o.expiresBefore } : {}),
          ...(o.status ? { status: o.status } : {}),
          ...(o.category ? { memory_category: o.category } : {}),
          ...(o.cursor ? { cursor: o.cursor } : {}),
          limit: o.limit,
        });
        if (g.json) return writeJson(io, list);
        for (const r of list.records) {
          io.out.write(`${r.id}\t${r.memory_category}/${r.kind}\t${formatScope(r.scope)}\timportance ${r.importance.toFixed(2)}\texpires ${r.expires_at ?? "never"}\t${clip(r.text, 120)}\n`);
        }
        if (list.cursor) io.out.write(`(more: --cursor ${list.cursor})\n`);
        if (list.records.length === 0) io.err.write("No facts.\n");
      }),
    );

  program
    .command("recall")
    .description("answer a question from memory (three tiers: direct, cached, retrieval + response model)")
    .argument("<question>")
    .option("--scope <k=v>", "scope dimension, repeatable", collect, [])
    .option("--limit <n>", "records to retrieve (1–100)", parseCount("--limit"), 8)
    .action(async (question: string, o: { scope: string[]; limit: number }, cmd: Command) =>
      withMemory(cmd, async (memory, g) => {
        const result = await memory.recall(question, { scope: parseScope(o.scope), limit: o.limit });
        if (g.json) return writeJson(io, result);
        io.out.write(`${result.answer}\n`);
        io.err.write(`tier ${result.tier}${result.cached ? " (cached)" : ""} · ${result.records.length} fact${result.records.length === 1 ? "" : "s"} · ${result.traceId}\n`);
        for (const r of result.records) io.err.write(`  ${r.id}  ${clip(r.text, 120)}\n`);
      }),
    );

  program
    .command("ingest")
    .description("ingest a turn given as an argument, or JSONL turns ({\"content\", \"role\", \"scope\", …} per line) from --file or stdin")
    .argument("[content]", "the turn's text; omit it to read JSONL")
    .option("--scope <k=v>", "scope dimension, repeatable (the default scope of JSONL lines without one)", collect, [])
    .addOption(new Option("--role <role>", "the turn's role").choices(["user", "assistant", "system", "tool"]).default("user"))
    .option("--speaker <name>", "who spoke")
    .option("--file <path>", "JSONL file to read (- for stdin)")
    .option("--progress", "show a progress bar on stderr even when it is not a terminal")
    .action(async (content: string | undefined, o: { scope: string[]; role: "user" | "assistant" | "system" | "tool"; speaker?: string; file?: string; progress?: boolean }, cmd: Command) => {
      const scope = parseScope(o.scope);
      if (content === undefined && o.file === undefined && io.stdin.isTTY) {
        throw new SpectronValidationError("ingest", "a turn's text, --file <path>, or JSONL piped on stdin", "nothing");
      }
      if (content !== undefined && o.file !== undefined) throw new SpectronValidationError("--file", "either a turn's text or --file, not both", o.file);
      const turns = content !== undefined
        ? [{ line: 1, input: { content, scope, role: o.role, ...(o.speaker ? { speaker: o.speaker } : {}) } }]
        : parseJsonl(await readJsonlSource(o.file, io.stdin), scope);
      await withMemory(cmd, async (memory, g) => {
        const bar = content === undefined && (o.progress || io.err.isTTY) ? new ProgressBar(io.err) : undefined;
        let results;
        try {
          results = await ingestBatch(memory, turns, bar ? (p) => bar.update(p) : undefined);
        } finally {
          bar?.finish();
        }
        if (g.json) return writeJson(io, content !== undefined ? results[0] : { ingested: results.length, results });
        for (const r of results) {
          io.out.write(`${r.turnId}\t${r.records.length} fact${r.records.length === 1 ? "" : "s"}\t${r.traceId}\n`);
          for (const rec of r.records) io.out.write(`  ${rec.outcome.padEnd(10)} ${rec.id}  ${clip(rec.text, 110)}\n`);
        }
        if (content === undefined) io.err.write(`Ingested ${results.length} turn${results.length === 1 ? "" : "s"}.\n`);
      });
    });

  program
    .command("sweep")
    .description(`run a lifecycle sweep now: ${SWEEPS.join(" | ")}`)
    .addArgument(program.createArgument("<kind>", "the sweep").choices(SWEEPS))
    .action(async (kind: (typeof SWEEPS)[number], _o, cmd: Command) =>
      withMemory(cmd, async (memory, g) => {
        const result = await runSweep(memory, kind);
        if (g.json) return writeJson(io, result);
        io.out.write(`${kind}: ${JSON.stringify(result)}\n`);
      }),
    );

  program
    .command("export")
    .description("write the Context as JSONL (settings without secrets, turns, facts with history, traces, documents, graph, vectors)")
    .option("--out <path>", "write to a file instead of stdout")
    .action(async (o: { out?: string }, cmd: Command) => exportCommand(globals(cmd), io, o));

  program
    .command("import")
    .description("load a JSONL export into this Context, which must not exist yet in the target file")
    .argument("[file]", "the export (default: stdin)")
    .action(async (file: string | undefined, _o, cmd: Command) => importCommand(globals(cmd), io, file));

  program
    .command("mcp")
    .description("serve the Model Context Protocol over stdio (for Claude Desktop, Cursor and other MCP hosts); logs go to stderr")
    .option("--scope <k=v>", "default scope of tool calls that give none, repeatable", collect, [])
    .option("--principal-file <path>", "act as this principal (a JSON file { id, grants }) instead of the application")
    // Loaded when run: the MCP SDK and the HTTP server take longer to load than most commands take to run.
    .action(async (o: { scope: string[]; principalFile?: string }, cmd: Command) =>
      (await import("./mcp-command.js")).mcpCommand(globals(cmd), io, { ...o, version: program.version() ?? "0.0.0" }),
    );

  program
    .command("serve")
    .description("serve the REST API under /api/v1/{ctx} and MCP over streamable HTTP at /mcp/{ctx}; SIGINT/SIGTERM close it gracefully")
    .option("--port <n>", "port (0: any free port)", (v: string) => {
      if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65_535) throw new SpectronValidationError("--port", "a port from 0 to 65,535", v);
      return Number(v);
    }, 8787)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--tokens <file>", "bearer tokens file { \"tokens\": [{ \"sha256\", \"principal\", \"contexts\"? }] }")
    .option("--no-auth", "serve every request as the application, without tokens (say it explicitly)")
    .action(async (o: { port: number; host: string; tokens?: string; auth: boolean }, cmd: Command) =>
      (await import("./serve-command.js")).serveCommand(globals(cmd), io, { ...o, version: program.version() ?? "0.0.0" }),
    );

  return program;
}

/** One line about a trace: what it was about. */
function traceSummary(payload: Record<string, unknown>): string {
  for (const key of ["query", "question", "sweep"]) {
    const v = payload[key];
    if (typeof v === "string") return `${key}: ${clip(v, 80)}`;
  }
  const source = payload.source as { kind?: unknown } | undefined;
  if (source && typeof source.kind === "string") return `source: ${source.kind}`;
  return "";
}
