import { openDatabase, type Db } from "./database.js";
import { SpectronValidationError } from "../errors.js";
import { getVector, putVector, type VectorSpace } from "./vectors.js";

/**
 * Export and import of one Context as JSONL: a header line, one line per row of every table that holds the
 * Context's data (settings without secrets, turns, records with their history, entities and their links, graph
 * edges, traces, documents and chunks, source trust), one line per stored vector of records and chunks, and an
 * `end` line with the counts (an export without it was cut short and is refused). The response cache is not
 * exported: it is derived, and refills.
 *
 * Ids are kept as they are (record, trace and turn ids appear inside histories, payloads and edges), so an import
 * goes into a file that holds none of those ids: a fresh file, typically. The Context may take a new name.
 */
export const EXPORT_FORMAT = "spectron-export";
export const EXPORT_VERSION = 1;

/** Derived or process-local tables that an export leaves out. */
const SKIPPED = new Set(["cache_entries", "cache_deps", "cache_chunk_deps", "cache_topics", "queries", "vector_changes", "reindex_done", "schema_migrations"]);
/** Tables without a `context` column whose rows belong to a Context through a parent row. */
const CHILDREN: Record<string, { parent: string; key: string }> = { record_entities: { parent: "records", key: "record_id" } };
const VECTOR_SPACES: VectorSpace[] = ["records", "chunks"];

export type ExportLine =
  | { type: typeof EXPORT_FORMAT; version: number; context: string; schema: number }
  | { type: "row"; table: string; row: Record<string, unknown> }
  | { type: "vector"; space: VectorSpace; model: string; label: number; vector: string }
  | { type: "end"; counts: Record<string, number> };

function columnsOf(db: Db, table: string): string[] {
  return (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
}

/**
 * The ordinary tables that hold Context data: a `context` column, not FTS shadow tables, not derived. Vector tables
 * (`vectors_*`; `vec_*` were sqlite-vec's before migration 8) travel as `vector` lines.
 */
function contextTables(db: Db): string[] {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name").all() as { name: string }[])
    .map((t) => t.name)
    .filter((name) => !SKIPPED.has(name) && !name.startsWith("sqlite_") && !/_fts(_|$)|^vec_|^vectors_/.test(name));
  return tables.filter((t) => t !== "contexts" && columnsOf(db, t).includes("context"));
}

function encode(value: unknown): unknown {
  return Buffer.isBuffer(value) ? { $base64: value.toString("base64") } : value;
}

function decode(value: unknown): unknown {
  if (typeof value === "object" && value !== null && "$base64" in value) return Buffer.from(String((value as { $base64: unknown }).$base64), "base64");
  return value;
}

/** The settings row without what must not leave the file: sealed provider keys and a running reindex's lease. */
function exportedSettings(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row, providers_sealed: null, providers_configured: "[]" };
  if (typeof row.reindex === "string") {
    const { owner: _owner, heartbeat: _heartbeat, ...reindex } = JSON.parse(row.reindex) as Record<string, unknown>;
    out.reindex = JSON.stringify(reindex);
  }
  return out;
}

/**
 * The export's lines, read in one read transaction the caller holds (a consistent snapshot). Returns undefined
 * when the Context does not exist.
 */
export function* exportContext(db: Db, context: string): Generator<ExportLine> {
  const settings = db.prepare("SELECT * FROM contexts WHERE name = ?").get(context) as Record<string, unknown> | undefined;
  if (!settings) return;
  const schema = (db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number }).v;
  yield { type: EXPORT_FORMAT, version: EXPORT_VERSION, context, schema };
  const counts: Record<string, number> = { contexts: 1 };
  yield { type: "row", table: "contexts", row: exportedSettings(settings) };
  for (const table of contextTables(db)) {
    counts[table] = 0;
    for (const row of db.prepare(`SELECT * FROM "${table}" WHERE context = ?`).iterate(context) as Iterable<Record<string, unknown>>) {
      counts[table] += 1;
      yield { type: "row", table, row: Object.fromEntries(Object.entries(row).map(([k, v]) => [k, encode(v)])) };
    }
  }
  for (const [table, { parent, key }] of Object.entries(CHILDREN)) {
    counts[table] = 0;
    const rows = db.prepare(`SELECT c.* FROM "${table}" c JOIN "${parent}" p ON p.id = c."${key}" WHERE p.context = ?`).all(context) as Record<string, unknown>[];
    for (const row of rows) {
      counts[table] += 1;
      yield { type: "row", table, row };
    }
  }
  counts.vectors = 0;
  for (const space of VECTOR_SPACES) {
    const rows = db.prepare(`SELECT id, embedding_model AS model FROM "${space}" WHERE context = ? AND embedding_model IS NOT NULL`).all(context) as { id: number; model: string }[];
    for (const { id, model } of rows) {
      const vector = getVector(db, space, model, id);
      if (!vector) continue;
      counts.vectors += 1;
      yield { type: "vector", space, model, label: id, vector: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64") };
    }
  }
  yield { type: "end", counts };
}

/**
 * Writes export lines into `db`, under the Context name `context`, inside the caller's write transaction (so
 * that a failure anywhere leaves nothing). Feed it every line, then call `finish()`, which refuses an export
 * without its `end` line. Validates what the file names: tables and columns must exist in this schema.
 */
export class ContextImporter {
  private header = false;
  private ended = false;
  private readonly tables: Set<string>;
  private readonly columns = new Map<string, Set<string>>();
  readonly counts: Record<string, number> = {};

  constructor(
    private readonly db: Db,
    private readonly context: string,
  ) {
    this.tables = new Set(["contexts", ...contextTables(db), ...Object.keys(CHILDREN)]);
    if (db.prepare("SELECT 1 FROM contexts WHERE name = ?").get(context)) {
      throw new SpectronValidationError("--context", "a Context that does not exist yet in the target file", context, "Import into a new Context name or a fresh file.");
    }
  }

  add(line: number, value: unknown): void {
    const field = `line ${line}`;
    if (typeof value !== "object" || value === null) throw new SpectronValidationError(field, "an export line (a JSON object)", value);
    const l = value as ExportLine;
    if (!this.header) {
      if (l.type !== EXPORT_FORMAT) throw new SpectronValidationError(field, `the header of a Spectron export ({"type": "${EXPORT_FORMAT}", …})`, value);
      if (l.version !== EXPORT_VERSION) throw new SpectronValidationError(`${field}.version`, `export format version ${EXPORT_VERSION}`, l.version, "Import it with the Spectron version that exported it.");
      this.header = true;
      return;
    }
    if (this.ended) throw new SpectronValidationError(field, "nothing after the `end` line", value);
    if (l.type === "end") {
      for (const [table, n] of Object.entries(l.counts ?? {})) {
        if ((this.counts[table] ?? 0) !== n) throw new SpectronValidationError(`${field}.counts.${table}`, `${this.counts[table] ?? 0} (the lines read)`, n, "The export is damaged.");
      }
      this.ended = true;
      return;
    }
    if (l.type === "vector") {
      if (!VECTOR_SPACES.includes(l.space) || typeof l.model !== "string" || !Number.isSafeInteger(l.label) || typeof l.vector !== "string") {
        throw new SpectronValidationError(field, "a vector line { space, model, label, vector }", value);
      }
      const bytes = Buffer.from(l.vector, "base64");
      putVector(this.db, this.context, l.space, l.model, l.label, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
      this.counts.vectors = (this.counts.vectors ?? 0) + 1;
      return;
    }
    if (l.type !== "row" || typeof l.table !== "string" || typeof l.row !== "object" || l.row === null) throw new SpectronValidationError(field, "a row, vector or end line", value);
    if (!this.tables.has(l.table)) throw new SpectronValidationError(`${field}.table`, `a table of this schema (${[...this.tables].join(", ")})`, l.table, "The export may come from a newer Spectron.");
    let known = this.columns.get(l.table);
    if (!known) this.columns.set(l.table, (known = new Set(columnsOf(this.db, l.table))));
    const row: Record<string, unknown> = { ...l.row };
    if (l.table === "contexts") row.name = this.context;
    else if ("context" in row) row.context = this.context;
    const names = Object.keys(row);
    for (const name of names) if (!known.has(name)) throw new SpectronValidationError(`${field}.row.${name}`, `a column of table \`${l.table}\``, name, "The export may come from a newer Spectron.");
    try {
      this.db.prepare(`INSERT INTO "${l.table}" (${names.map((n) => `"${n}"`).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`).run(...names.map((n) => decode(row[n])));
    } catch (error) {
      if (/UNIQUE|PRIMARY KEY/.test(String((error as { code?: unknown }).code) + String((error as Error).message))) {
        throw new SpectronValidationError(field, `a row whose id is free in table \`${l.table}\` of the target file`, row.id ?? row, "Import into a fresh file: ids are kept as exported.");
      }
      throw error;
    }
    this.counts[l.table] = (this.counts[l.table] ?? 0) + 1;
  }

  finish(): Record<string, number> {
    if (!this.header) throw new SpectronValidationError("import", "a Spectron export", "an empty input");
    if (!this.ended) throw new SpectronValidationError("import", "an export ending with its `end` line", "an export cut short", "Export again.");
    return this.counts;
  }
}

/**
 * A database file on a connection of its own, for `spectron export` and `spectron import` (no Spectron instance,
 * no ANN index: an import's vectors reach the indexes from the change log when an instance next opens them).
 */
export class TransferFile {
  private readonly db: Db;

  /** Opens (or creates) the file, migrated (`openDatabase`). */
  constructor(path: string) {
    this.db = openDatabase(path);
  }

  /** The Context's export lines, read in one snapshot: a read transaction held while the caller iterates. */
  *exportLines(context: string): Generator<ExportLine> {
    this.db.exec("BEGIN");
    try {
      yield* exportContext(this.db, context);
    } finally {
      this.db.exec("COMMIT");
    }
  }

  /**
   * Starts an all-or-nothing import into the new Context `context`, in one write transaction: feed every line to
   * `add`, then `commit()` (which refuses an export cut short); `abandon()` after a failure writes nothing.
   */
  startImport(context: string): { add(line: number, value: unknown): void; commit(): Record<string, number>; abandon(): void } {
    const { db } = this;
    db.exec("BEGIN IMMEDIATE");
    const abandon = () => {
      if (db.inTransaction) db.exec("ROLLBACK");
    };
    let importer: ContextImporter;
    try {
      // Foreign keys are checked at commit: rows arrive table by table, not in dependency order.
      db.pragma("defer_foreign_keys = ON");
      importer = new ContextImporter(db, context);
    } catch (error) {
      abandon();
      throw error;
    }
    return {
      add: (line, value) => importer.add(line, value),
      commit: () => {
        const counts = importer.finish();
        db.exec("COMMIT");
        return counts;
      },
      abandon,
    };
  }

  close(): void {
    this.db.close();
  }
}
