import { sql, type Db } from "./database.js";

export type NodeType = "record" | "trace" | "turn" | "entity" | "chunk" | "document" | "session" | "query";

export interface EdgeRow {
  id: number;
  context: string;
  src_type: NodeType;
  src_id: number;
  kind: string;
  dst_type: NodeType;
  dst_id: string;
  weight: number | null;
  created_at: number;
}

export function addEdge(
  db: Db,
  context: string,
  src: { type: NodeType; id: number },
  kind: string,
  dst: { type: NodeType; id: number | string },
  now: number,
  weight: number | null = null,
): void {
  sql(db, 
    "INSERT INTO edges (context, src_type, src_id, kind, dst_type, dst_id, weight, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(context, src.type, src.id, kind, dst.type, String(dst.id), weight, now);
}

export function edgesFrom(db: Db, type: NodeType, id: number): EdgeRow[] {
  return sql(db, "SELECT * FROM edges WHERE src_type = ? AND src_id = ? ORDER BY id").all(type, id) as EdgeRow[];
}

export function edgesTo(db: Db, type: NodeType, id: number | string): EdgeRow[] {
  return sql(db, "SELECT * FROM edges WHERE dst_type = ? AND dst_id = ? ORDER BY id").all(type, String(id)) as EdgeRow[];
}

export function normalizeEntity(name: string): string {
  return name.toLowerCase().replace(/\s+/g, " ").trim();
}

/** Links a record to the named entities it mentions, creating entities on first sight. */
export function linkEntities(db: Db, context: string, recordId: number, names: readonly string[], now: number): number[] {
  const ids: number[] = [];
  for (const name of new Set(names.map((n) => n.trim()).filter(Boolean))) {
    const norm = normalizeEntity(name);
    sql(db, "INSERT INTO entities (context, name, norm_name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING").run(
      context,
      name,
      norm,
      now,
    );
    const { id } = sql(db, "SELECT id FROM entities WHERE context = ? AND norm_name = ?").get(context, norm) as { id: number };
    sql(db, "INSERT OR IGNORE INTO record_entities (record_id, entity_id) VALUES (?, ?)").run(recordId, id);
    ids.push(id);
  }
  return ids;
}

export function entityIdsByName(db: Db, context: string, names: readonly string[]): number[] {
  if (names.length === 0) return [];
  const norms = [...new Set(names.map(normalizeEntity))];
  return (
    sql(db, `SELECT id FROM entities WHERE context = ? AND norm_name IN (${norms.map(() => "?").join(",")})`)
      .all(context, ...norms) as { id: number }[]
  ).map((r) => r.id);
}

export function entityNamesOf(db: Db, recordId: number): string[] {
  return (
    sql(db, "SELECT e.norm_name FROM record_entities re JOIN entities e ON e.id = re.entity_id WHERE re.record_id = ?")
      .all(recordId) as { norm_name: string }[]
  ).map((r) => r.norm_name);
}

/** The entities linked to any of `recordIds`, each once. */
export function entityIdsOfRecords(db: Db, recordIds: readonly number[]): number[] {
  if (recordIds.length === 0) return [];
  return (
    sql(db, `SELECT DISTINCT entity_id FROM record_entities WHERE record_id IN (${recordIds.map(() => "?").join(",")}) ORDER BY entity_id`)
      .all(...recordIds) as { entity_id: number }[]
  ).map((r) => r.entity_id);
}
