import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { DedupAnnIndex } from "../ann-index.js";
import { query } from "./connection.js";
import { fromVectorColumn, type VectorSet } from "./vector-sets.js";

/**
 * Snapshots of the in-process hnswlib index of a vector set, kept in the database (`ann_snapshots`, migration 8),
 * so that a new process loads the graph and replays the change log since it instead of inserting every vector again
 * (at 100k records, a build took 79 s). A snapshot is the index file and its sidecar as `DedupAnnIndex.save` writes
 * them, and the change-log position it reflects: every vector change with seq <= `seq` is in it. The change log is
 * never pruned, so any snapshot can be brought up to date.
 */

/** Below this many vectors a build is quick, and a snapshot not worth its bytes. */
export const SNAPSHOT_MIN_VECTORS = 2_000;

export interface Snapshot {
  ann: DedupAnnIndex;
  /** Labels whose vectors changed after the snapshot was saved, replayed onto it. */
  replayed: number;
}

/**
 * Saves `ann` as the set's snapshot at `seq`, unless the database holds one as recent. Writes the index to a
 * temporary directory through `DedupAnnIndex.save` (a file is hnswlib's only output) and uploads it.
 */
export async function saveSnapshot(pool: pg.Pool, context: string, set: VectorSet, ann: DedupAnnIndex, seq: number, now: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spectron-ann-"));
  try {
    const file = path.join(dir, "index");
    const meta = ann.save(file, { lastSeq: seq });
    const data = fs.readFileSync(file);
    await query(
      pool,
      `INSERT INTO ann_snapshots (context, space, model, seq, meta, data, saved_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (context, space, model) DO UPDATE SET seq = EXCLUDED.seq, meta = EXCLUDED.meta, data = EXCLUDED.data, saved_at = EXCLUDED.saved_at
         WHERE ann_snapshots.seq < EXCLUDED.seq`,
      [context, set.space, set.model, seq, JSON.stringify(meta), data, now],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The set's snapshot brought up to the change log's `head` (read in the caller's REPEATABLE READ transaction, so
 * that the snapshot, the log and the vector table agree): each label with a vector change after the snapshot gets
 * its vector as the table holds it now, or leaves the index when the table no longer has it. Undefined when there
 * is no snapshot or it does not load (another dimension, a damaged file): the caller builds from the table.
 */
export async function loadSnapshot(client: pg.PoolClient, context: string, set: VectorSet): Promise<Snapshot | undefined> {
  const [row] = await query<{ seq: number; meta: unknown; data: Buffer }>(
    client,
    "SELECT seq, meta, data FROM ann_snapshots WHERE context = $1 AND space = $2 AND model = $3",
    [context, set.space, set.model],
  );
  if (!row) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "spectron-ann-"));
  let loaded: ReturnType<typeof DedupAnnIndex.load>;
  try {
    const file = path.join(dir, "index");
    fs.writeFileSync(file, row.data);
    fs.writeFileSync(`${file}.json`, typeof row.meta === "string" ? row.meta : JSON.stringify(row.meta));
    loaded = DedupAnnIndex.load(file, { dim: set.dim });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (!loaded) return undefined;
  const changed = await query<{ label: number; embedding: unknown }>(
    client,
    `SELECT c.label, v.embedding FROM (SELECT DISTINCT label FROM change_log
        WHERE context = $1 AND kind = 'vectors' AND space = $2 AND model = $3 AND seq > $4) c
       LEFT JOIN ${set.table} v ON v.context = $1 AND v.label = c.label`,
    [context, set.space, set.model, row.seq],
  );
  const ann = loaded.index;
  for (const c of changed) {
    if (c.embedding === null) ann.remove(c.label);
    else ann.add(c.label, fromVectorColumn(c.embedding));
  }
  return { ann, replayed: changed.length };
}
