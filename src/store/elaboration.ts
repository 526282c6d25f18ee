import { sql, type Db } from "./database.js";

/** Two entities (ids, a < b) in one scope, with the records that brought them up. */
export interface EntityPair {
  scopeKey: string;
  a: number;
  b: number;
  /** Traces (co-occurrence) or document–turn bridges that brought the pair up. */
  count: number;
  evidence: number[];
  /** For a document–turn bridge: the entity both mention. */
  via?: number;
}

/**
 * A live turn record and a live document record that mention the same entity (`via`), with the other entities
 * each links (`via` left out).
 */
export interface DocumentTurnBridge {
  turnRecord: number;
  docRecord: number;
  via: number;
  scopeKey: string;
  /** The turn record's subject ("user" for the speaker). */
  subject: string | null;
  turnEntities: number[];
  docEntities: number[];
}

const TRACE_EDGES = "('considered', 'created', 'updated', 'superseded', 'flagged')";

/**
 * Entities examined together: for each of the last `traces` decision traces, the entities of the records it
 * considered, created, updated or retired, paired within each scope. Pairs seen in at least `minCount`
 * traces, most frequent first.
 */
export function coConsidered(db: Db, context: string, traces: number, minCount: number): EntityPair[] {
  const rows = sql(
    db,
    `WITH recent AS (SELECT id FROM traces WHERE context = ? AND kind = 'decision_trace' ORDER BY id DESC LIMIT ?)
     SELECT recent.id AS trace, r.id AS record, r.scope_key, re.entity_id AS entity FROM recent
       JOIN edges e ON e.src_type = 'trace' AND e.src_id = recent.id AND e.kind IN ${TRACE_EDGES} AND e.dst_type = 'record'
       JOIN records r ON r.id = CAST(e.dst_id AS INTEGER) AND r.status IN ('current', 'flagged')
       JOIN record_entities re ON re.record_id = r.id`,
  ).all(context, traces) as CoConsideredRow[];
  return pairCoConsidered(rows, minCount);
}

/** One entity of one record a decision trace examined (the rows `coConsidered` pairs). */
export interface CoConsideredRow {
  trace: number;
  record: number;
  scope_key: string;
  entity: number;
}

/**
 * The pairing rule of `coConsidered`, engine-neutral (every engine reads the rows its own way): entities of one
 * trace and scope paired (a < b), counted over traces, kept from `minCount`, most frequent first.
 */
export function pairCoConsidered(rows: readonly CoConsideredRow[], minCount: number): EntityPair[] {
  // trace → scope → entity → records
  const byTrace = new Map<string, Map<number, Set<number>>>();
  for (const row of rows) {
    const key = `${row.trace}\u0000${row.scope_key}`;
    let entities = byTrace.get(key);
    if (!entities) byTrace.set(key, (entities = new Map()));
    let records = entities.get(row.entity);
    if (!records) entities.set(row.entity, (records = new Set()));
    records.add(row.record);
  }
  const pairs = new Map<string, EntityPair>();
  for (const [key, entities] of byTrace) {
    const scopeKey = key.slice(key.indexOf("\u0000") + 1);
    const ids = [...entities.keys()].sort((x, y) => x - y);
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = ids[i]!;
        const b = ids[j]!;
        const k = `${scopeKey}\u0000${a}\u0000${b}`;
        let pair = pairs.get(k);
        if (!pair) pairs.set(k, (pair = { scopeKey, a, b, count: 0, evidence: [] }));
        pair.count++;
        for (const r of [...entities.get(a)!, ...entities.get(b)!]) if (!pair.evidence.includes(r)) pair.evidence.push(r);
      }
    }
  }
  return [...pairs.values()].filter((p) => p.count >= minCount).sort((x, y) => y.count - x.count || x.a - y.a || x.b - y.b);
}

/**
 * Facts a document and a conversation connect: a live turn record and a live document record that mention the
 * same entity (`via`), pairing the turn record's subject or other entities with the document record's other
 * entities. Most recent turn records first, at most `limit` rows read.
 */
export function documentTurnBridges(db: Db, context: string, limit: number): { turnRecord: number; docRecord: number; via: number; scopeKey: string; subject: string | null }[] {
  return sql(
    db,
    `SELECT t.id AS turnRecord, d.id AS docRecord, rt.entity_id AS via, t.scope_key AS scopeKey, t.subject AS subject
       FROM records t
       JOIN record_entities rt ON rt.record_id = t.id
       JOIN record_entities rd ON rd.entity_id = rt.entity_id AND rd.record_id != t.id
       JOIN records d ON d.id = rd.record_id AND d.context = t.context AND d.source_kind = 'document' AND d.status = 'current'
     WHERE t.context = ? AND t.source_kind = 'turn' AND t.status = 'current'
     ORDER BY t.id DESC LIMIT ?`,
  ).all(context, limit) as { turnRecord: number; docRecord: number; via: number; scopeKey: string; subject: string | null }[];
}

export function entityIdsOfRecord(db: Db, recordId: number): number[] {
  return (sql(db, "SELECT entity_id FROM record_entities WHERE record_id = ?").all(recordId) as { entity_id: number }[]).map((r) => r.entity_id);
}

/** Display names of entities, by id. */
export function entityNames(db: Db, ids: readonly number[]): Map<number, string> {
  if (ids.length === 0) return new Map();
  const rows = sql(db, `SELECT id, name FROM entities WHERE id IN (${ids.map(() => "?").join(",")})`).all(...ids) as { id: number; name: string }[];
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The entity of a normalised name, created if new (e.g. "user" for the speaker's own connections). */
export function entityIdOf(db: Db, context: string, name: string, normName: string, now: number): number {
  sql(db, "INSERT INTO entities (context, name, norm_name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING").run(context, name, normName, now);
  return (sql(db, "SELECT id FROM entities WHERE context = ? AND norm_name = ?").get(context, normName) as { id: number }).id;
}

/**
 * Whether the two entities are linked already: a live record mentions both, or an earlier elaboration related
 * them or found nothing to relate (an entity → entity edge either way, so a pair is proposed once).
 */
export function entitiesLinked(db: Db, a: number, b: number): boolean {
  const byRecord = sql(
    db,
    `SELECT 1 FROM record_entities x JOIN record_entities y ON y.record_id = x.record_id AND y.entity_id = ?
       JOIN records r ON r.id = x.record_id AND r.status IN ('current', 'flagged') WHERE x.entity_id = ? LIMIT 1`,
  ).get(b, a);
  if (byRecord) return true;
  return !!sql(
    db,
    `SELECT 1 FROM edges WHERE src_type = 'entity' AND dst_type = 'entity' AND (kind LIKE 'relation:%' OR kind = 'elaboration:none')
       AND ((src_id = ? AND dst_id = ?) OR (src_id = ? AND dst_id = ?)) LIMIT 1`,
  ).get(a, String(b), b, String(a));
}
