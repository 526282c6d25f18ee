import type pg from "pg";
import type { StoreChange, VectorSpace } from "../store.js";
import type { VectorChange } from "../vector-index.js";
import { query } from "./connection.js";
import { fromVectorColumn, type VectorSet } from "./vector-sets.js";

/** The channel every instance LISTENs on; the payload is the Context that committed. */
export const CHANNEL = "spectron_changes";

/** Advisory lock key (any constant) held from a transaction's change-log append to its commit. */
const CHANGE_LOG_LOCK = 0x5350_434c; // "SPCL"

/** One entry a transaction appends to the change log. */
export type LoggedEntry =
  | { kind: "vectors"; space: VectorSpace; model: string; label: number; op: "add" | "remove" }
  | { kind: "settings" }
  | { kind: "cache"; ids: readonly number[] }
  | { kind: "records"; ids: readonly number[] };

interface LogRow {
  seq: number;
  kind: LoggedEntry["kind"];
  space: VectorSpace | null;
  model: string | null;
  label: number | null;
  op: "add" | "remove" | null;
  ids: number[] | null;
  origin: string;
}

/**
 * Appends a transaction's entries to the change log and notifies the other instances (the NOTIFY is delivered at
 * commit, and not at all on rollback). Call it last in the transaction: it takes an advisory lock held to the
 * commit, so change-log rows commit in seq order and a reader that has read up to seq N never misses a row with a
 * lower seq committed later. Returns the seq of each entry.
 */
export async function appendChanges(client: pg.PoolClient, context: string, origin: string, entries: readonly LoggedEntry[], now: number): Promise<number[]> {
  if (entries.length === 0) return [];
  await query(client, "SELECT pg_advisory_xact_lock($1)", [CHANGE_LOG_LOCK]);
  const rows = await query<{ seq: number }>(
    client,
    `INSERT INTO change_log (context, kind, space, model, label, op, ids, origin, created_at)
       SELECT $1, e->>'kind', e->>'space', e->>'model', (e->>'label')::bigint, e->>'op',
              CASE WHEN e->'ids' IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text(e->'ids')::bigint) END, $2, $3
         FROM json_array_elements($4::json) WITH ORDINALITY AS entries(e, n)
         ORDER BY n
     RETURNING seq`,
    [context, origin, now, JSON.stringify(entries)],
  );
  await query(client, "SELECT pg_notify($1, $2)", [CHANNEL, context]);
  return rows.map((r) => r.seq).sort((a, b) => a - b);
}

/**
 * Follows the change log for one Context: `poll` reads what other instances (in this process or another) committed
 * since the last read and hands it to `emit` as StoreChanges, in commit order; a LISTEN connection calls `poll` as
 * soon as another instance commits. NOTIFY is only the wake-up: `poll` reads the log itself, so a notification
 * lost with a dropped connection costs latency (until the next `poll`), never a change.
 */
export class ChangeFeed {
  private cursor = 0;
  private listener: pg.PoolClient | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly context: string,
    /** This instance's id: its own entries were emitted at commit and are skipped here. */
    readonly origin: string,
    private readonly vectorSet: (space: VectorSpace, model: string) => Promise<VectorSet | undefined>,
    /** The in-process index that follows a set's changes (a database without pgvector), if one is open. */
    private readonly followed: (space: VectorSpace, model: string) => ((changes: readonly VectorChange[]) => void) | undefined,
    private readonly emit: (change: StoreChange) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts at the log's current end (what exists already is in the database the instance reads) and LISTENs. */
  async start(): Promise<void> {
    const [row] = await query<{ seq: number | null }>(this.pool, "SELECT max(seq) AS seq FROM change_log WHERE context = $1", [this.context]);
    this.cursor = row?.seq ?? 0;
    await this.listen();
  }

  /** The seq of the last change read. */
  get position(): number {
    return this.cursor;
  }

  /**
   * Reads every change committed since the last read: hands vector changes to the followed indexes and emits
   * the other instances' changes. Concurrent calls share one read, and a
   * call made while a read runs gets another read after it (that read may have started before the commit).
   */
  poll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          await this.readOnce();
        } while (this.again && !this.closed);
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  private async readOnce(): Promise<void> {
    const rows = await query<LogRow>(
      this.pool,
      "SELECT seq, kind, space, model, label, op, ids, origin FROM change_log WHERE context = $1 AND seq > $2 ORDER BY seq LIMIT 10000",
      [this.context, this.cursor],
    );
    if (rows.length === 0) return;
    // Runs of vector entries of one set become one change, with the vectors of the labels added. The in-process
    // indexes take every run, this instance's own included (the log is the one order they follow); subscribers
    // take the other instances' changes only (they had this instance's own at commit).
    let i = 0;
    while (i < rows.length) {
      const row = rows[i]!;
      if (row.kind !== "vectors") {
        if (row.origin !== this.origin) this.emit(toChange(row));
        i++;
        continue;
      }
      let j = i;
      while (j < rows.length && rows[j]!.kind === "vectors" && rows[j]!.space === row.space && rows[j]!.model === row.model) j++;
      const group = rows.slice(i, j);
      const foreign = group.filter((r) => r.origin !== this.origin);
      const followed = this.followed(row.space!, row.model!);
      if (followed || foreign.length > 0) {
        const changes = await this.withVectors(row.space!, row.model!, group);
        followed?.(changes);
        const foreignSeqs = new Set(foreign.map((r) => r.seq));
        const theirs = changes.filter((c) => foreignSeqs.has(c.seq));
        if (theirs.length > 0) this.emit({ kind: "vectors", space: row.space!, model: row.model!, changes: theirs });
      }
      i = j;
    }
    this.cursor = rows[rows.length - 1]!.seq;
    if (rows.length === 10000) this.again = true;
  }

  /** The group's changes, each add with the vector stored now (absent when removed since: a later entry says so). */
  private async withVectors(space: VectorSpace, model: string, rows: readonly LogRow[]): Promise<VectorChange[]> {
    const set = await this.vectorSet(space, model);
    const added = [...new Set(rows.filter((r) => r.op === "add").map((r) => r.label!))];
    const vectors = new Map<number, Float32Array>();
    if (set && added.length > 0) {
      const found = await query<{ label: number; embedding: unknown }>(this.pool, `SELECT label, embedding FROM ${set.table} WHERE label = ANY($1::bigint[])`, [added]);
      for (const f of found) vectors.set(f.label, fromVectorColumn(f.embedding));
    }
    const changes: VectorChange[] = [];
    for (const r of rows) {
      if (r.op === "remove") changes.push({ seq: r.seq, label: r.label!, op: "remove" });
      else {
        const vector = vectors.get(r.label!);
        // Removed again by a later change (which follows in the log): nothing to add.
        if (vector) changes.push({ seq: r.seq, label: r.label!, op: "add", vector });
      }
    }
    return changes;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = await this.pool.connect();
    const lost = (error?: unknown) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.removeAllListeners("notification");
      client.release(true);
      if (this.closed) return;
      if (error) this.onError(error);
      // Reconnect, and read what was committed while no one listened.
      setTimeout(() => void this.listen().then(() => this.poll()).catch((e: unknown) => this.onError(e)), 100).unref();
    };
    client.on("notification", (message) => {
      if (message.channel === CHANNEL && message.payload === this.context) void this.poll().catch((e: unknown) => this.onError(e));
    });
    client.on("error", lost);
    client.on("end", () => lost());
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.listener;
    this.listener = undefined;
    if (client) {
      await client.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
      client.removeAllListeners();
      client.release();
    }
    await this.polling?.catch(() => undefined);
  }
}

function toChange(row: LogRow): StoreChange {
  switch (row.kind) {
    case "settings":
      return { kind: "settings" };
    case "cache":
      return { kind: "cache", evicted: row.ids ?? [] };
    case "records":
      return { kind: "records", ids: row.ids ?? [] };
    default:
      throw new Error(`Unexpected change kind ${row.kind}.`);
  }
}

