import { sql, sqlPluck, type Db } from "../database.js";
import { entityIdsByName } from "../graph.js";
import { live, visibleRecordsSql, visibleWhere, type Visible } from "../records.js";
import type { RecordCandidates, RecordCandidatesQuery, RecordFilter, Scored, VectorHit } from "../store.js";
import { exactSearch } from "../vectors.js";
import { toId } from "../ids.js";
import { ftsQuery, queryTerms } from "../../pipeline/recall/normalize.js";
import type { VectorIndexes } from "./vector-indexes.js";

// Tier-3 record channels on SQLite: vector (hnswlib, or exact for small scopes), FTS5 BM25 (or BM25 computed
// here over a small scope), and the entity graph. Fusion and weighing stay in the pipeline (recall/hybrid.ts).

/**
 * Up to this many visible records, exact search (sqlite-vec distance over their rows, ~4 µs a row) is
 * cheaper than the ANN index; above it, the hnswlib index is searched with the visible ids as a filter.
 */
export const EXACT_SCOPE_LIMIT = 300;
/**
 * Above this many visible records their ids are not read up front (~0.25 µs each): hits from the whole Context
 * are over-fetched and checked for visibility by primary key instead.
 */
export const FILTER_SCOPE_LIMIT = 50_000;

/** What the searches read: the connection, the Context and its ANN indexes. */
export interface SearchParts {
  db: Db;
  context: string;
  indexes: VectorIndexes;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** A RecordFilter as SQL. */
export function toVisible(context: string, filter: RecordFilter): Visible {
  if (filter.exceptId === undefined && !filter.includeExpired) return visibleRecordsSql(context, filter.scopeKeys, filter.now);
  const where = [`context = ?`, `scope_key IN (${filter.scopeKeys.map(() => "?").join(",")})`, live()];
  const params: unknown[] = [context, ...filter.scopeKeys];
  if (filter.exceptId !== undefined) (where.push("id != ?"), params.push(filter.exceptId));
  if (!filter.includeExpired) (where.push("(expires_at IS NULL OR expires_at > ?)"), params.push(filter.now));
  return visibleWhere(where.join(" AND "), params);
}

/**
 * Every record channel for one query, plus the visible live records extracted from the matching turns
 * (`turnIds`): one pass over the visible set, shared by the channels.
 */
export function recordCandidates(p: SearchParts, q: RecordCandidatesQuery): RecordCandidates {
  const visible = toVisible(p.context, q.filter);
  const ids = visibleIds(p, visible);
  // A filter for the ANN and full-text hits, unless so many are visible that a lookup per hit is cheaper.
  const allowed = ids.length <= FILTER_SCOPE_LIMIT ? new IdSet(ids) : undefined;
  const terms = queryTerms(q.text.query, q.text.keywords);
  let vector: Scored[] = [];
  let vectorPath: RecordCandidates["vectorPath"] = "none";
  if (q.vector) {
    const { hits, path } = nearestRecords(p, q.vector.model, q.vector.vector, q.candidates, visible, q.vector.enough, ids, allowed);
    vector = hits.map((h) => ({ id: h.label, score: round(1 - h.distance) }));
    vectorPath = path;
  }
  const fts = ids.length <= EXACT_SCOPE_LIMIT ? lexicalCandidates(p, terms, ids, q.candidates) : ftsCandidates(p, terms, q, allowed, visible);
  const graph = graphCandidates(p, q, visible, ids, allowed);
  return { vector, fts, graph, vectorPath, ofTurns: recordsOfTurns(p, q.turnIds ?? [], allowed, visible) };
}

/** Visible live records extracted from any of `turnIds`. */
function recordsOfTurns(p: SearchParts, turnIds: readonly number[], allowed: IdSet | undefined, visible: Visible): number[] {
  if (turnIds.length === 0) return [];
  const ids = sqlPluck(p.db, `SELECT id FROM records WHERE source_kind = 'turn' AND source_id IN (${turnIds.map(() => "?").join(",")}) AND ${live()}`)
    .all(...turnIds.map((t) => toId("turn", t))) as number[];
  const keep = allowed ?? filterVisible(p, ids, visible);
  return ids.filter((id) => keep.has(id));
}

/** Ids of the visible records, up to one past FILTER_SCOPE_LIMIT (beyond that only "many" matters). */
function visibleIds(p: SearchParts, visible: Visible): number[] {
  return readIds(p, `${visible.sql} LIMIT ${FILTER_SCOPE_LIMIT + 1}`, visible.params);
}

/**
 * The ids a `SELECT id …` returns, gathered into one JSON array by SQLite: for tens of thousands of rows that
 * is a third cheaper than a row object (or plucked value) each.
 */
function readIds(p: SearchParts, select: string, params: unknown[]): number[] {
  return JSON.parse(sqlPluck(p.db, `SELECT json_group_array(id) FROM (${select})`).get(...params) as string) as number[];
}

/**
 * Membership of record ids as a bitset over 0…max id: built several times faster than a Set of tens of
 * thousands of numbers, and as fast to test.
 */
export class IdSet {
  private readonly bits: Uint32Array;

  constructor(ids: readonly number[]) {
    let max = 0;
    for (const id of ids) if (id > max) max = id;
    this.bits = new Uint32Array((max >>> 5) + 1);
    for (const id of ids) this.bits[id >>> 5]! |= 1 << (id & 31);
  }

  has(id: number): boolean {
    const word = id >>> 5;
    return word < this.bits.length && (this.bits[word]! & (1 << (id & 31))) !== 0;
  }
}

/**
 * The `k` nearest records among those `visible` selects: exact search when few are visible (vectors read by
 * primary key), else hnswlib filtered to the visible ids; above FILTER_SCOPE_LIMIT the index is
 * over-fetched first. Exact search also when the index is not ready. `exactLimit` moves the line between the
 * two: a caller whose `visible` is one scope of a large Context (the background pass) raises it, because
 * hnswlib's filtered search walks the whole graph when the filter passes a small share of it.
 */
export function nearestRecords(
  p: SearchParts,
  model: string,
  vector: Float32Array,
  k: number,
  visible: Visible,
  enough = k,
  ids = visibleIds(p, visible),
  allowed = ids.length <= FILTER_SCOPE_LIMIT ? new IdSet(ids) : undefined,
  exactLimit = EXACT_SCOPE_LIMIT,
): { hits: VectorHit[]; path: "exact" | "ann" } {
  if (ids.length > exactLimit) {
    const index = p.indexes.get("records", model);
    if (!allowed) {
      // Too many visible records to read their ids first: the Context's nearest, over-fetched, usually hold
      // enough visible ones (a question about Context-wide notes); when they do not (a question about the
      // caller's own few records), the ids are read after all and the graph searched with them as a filter.
      const fetch = k * 10;
      const hits = index.search(vector, fetch);
      if (hits) {
        const visibleHits = filterVisible(p, hits.map((h) => h.label), visible);
        const kept = hits.filter((h) => visibleHits.has(h.label)).slice(0, k);
        if (kept.length >= enough || hits.length < fetch) return { hits: kept, path: "ann" };
        allowed = new IdSet(readIds(p, visible.sql, visible.params));
      }
    }
    if (allowed) {
      const filter = allowed;
      const hits = index.search(vector, k, (label) => filter.has(label));
      if (hits) return { hits, path: "ann" };
    }
  }
  // `ids` holds every visible record unless there are more than FILTER_SCOPE_LIMIT (read up to one past it).
  return { hits: exactSearch(p.db, p.context, "records", model, vector, k, ids.length <= FILTER_SCOPE_LIMIT ? ids : visible), path: "exact" };
}

export function filterVisible(p: SearchParts, ids: number[], visible: Visible): Set<number> {
  if (ids.length === 0) return new Set();
  // NOT INDEXED: one primary-key lookup per id. Otherwise SQLite, misjudging how many rows the scope index
  // holds, walks every visible record and tests each against the list.
  const found = sqlPluck(p.db, `SELECT id FROM records NOT INDEXED WHERE id IN (${ids.map(() => "?").join(",")}) AND ${visible.where}`)
    .all(...ids, ...visible.params) as number[];
  return new Set(found);
}

/**
 * BM25 over a small visible set, computed here with the set as the corpus: FTS5 would score every match in
 * the whole Context first (a common term matches most of it) and only then drop what the caller cannot see.
 */
function lexicalCandidates(p: SearchParts, terms: readonly string[], ids: number[], candidates: number): Scored[] {
  if (terms.length === 0 || ids.length === 0) return [];
  const rows = sql(p.db, `SELECT id, text FROM records WHERE id IN (${ids.map(() => "?").join(",")})`).all(...ids) as { id: number; text: string }[];
  const docs = rows.map((r) => ({ id: r.id, words: r.text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean) }));
  const avg = docs.reduce((n, d) => n + d.words.length, 0) / docs.length || 1;
  const k1 = 1.2;
  const b = 0.75;
  const scored: Scored[] = [];
  const df = new Map(terms.map((t) => [t, docs.filter((d) => d.words.includes(t)).length]));
  for (const d of docs) {
    let score = 0;
    for (const t of terms) {
      const tf = d.words.filter((w) => w === t).length;
      if (tf === 0) continue;
      const n = df.get(t)!;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * d.words.length) / avg));
    }
    if (score > 0) scored.push({ id: d.id, score: round(score) });
  }
  return scored.sort((a, b2) => b2.score - a.score || b2.id - a.id).slice(0, candidates);
}

/** Share of a Context's records above which a term is too common to search by (it says little, costs much). */
const COMMON_TERM_SHARE = 0.2;
/** …and above which, whatever the share: scoring every match of such a term costs ~1 ms per 5,000 rows. */
const COMMON_TERM_DOCS = 5_000;

function ftsCandidates(p: SearchParts, queryTerms: readonly string[], q: RecordCandidatesQuery, allowed: IdSet | undefined, visible: Visible): Scored[] {
  const CANDIDATES = q.candidates;
  // The full-text index spans every Context in the file; the highest record id bounds its size without a scan.
  const total = (sqlPluck(p.db, "SELECT MAX(id) FROM records").get() as number | null) ?? 0;
  const limit = Math.max(50, Math.min(total * COMMON_TERM_SHARE, COMMON_TERM_DOCS));
  const docs = sqlPluck(p.db, "SELECT doc FROM records_fts_vocab WHERE term = ?");
  const terms = queryTerms.filter((t) => ((docs.get(t) as number | undefined) ?? 0) <= limit);
  const match = ftsQuery(terms.join(" "));
  if (!match) return [];
  // The best matches first, visibility after: looking up every match's record costs twice what scoring it does.
  // A fetch scores every match, so there is one, generous enough to serve a scope that sees a tenth of them.
  const fetch = CANDIDATES * 10;
  const hits = sql(p.db, "SELECT rowid AS id, bm25(records_fts) AS score FROM records_fts WHERE records_fts MATCH ? ORDER BY score LIMIT ?")
    .all(match, fetch) as { id: number; score: number }[];
  const keep = allowed ?? filterVisible(p, hits.map((h) => h.id), visible);
  const kept = hits.filter((h) => keep.has(h.id)).slice(0, CANDIDATES);
  if (kept.length === CANDIDATES || hits.length < fetch) return kept.map((r) => ({ id: r.id, score: round(-r.score) }));
  // Few of the best matches are visible: score only the visible ones. A join, not `rowid IN (subquery)`, which
  // SQLite re-runs per match (quadratic on common terms).
  const rows = sql(
    p.db,
    `SELECT f.rowid AS id, bm25(records_fts) AS score FROM records_fts f JOIN records r ON r.id = f.rowid
      WHERE records_fts MATCH ? AND r.context = ? AND r.scope_key IN (${q.filter.scopeKeys.map(() => "?").join(",")})
        AND ${live("r")} AND (r.expires_at IS NULL OR r.expires_at > ?)
      ORDER BY score LIMIT ?`,
  ).all(match, p.context, ...q.filter.scopeKeys, q.filter.now, CANDIDATES) as { id: number; score: number }[];
  return rows.map((r) => ({ id: r.id, score: round(-r.score) }));
}


/** Entities linked to more records than this are hubs: not followed in graph expansion. */
const HUB_DEGREE = 200;
/** Entity links read per graph step before the visibility filter. */
const GRAPH_SCAN = 2_000;

/**
 * Records about what the query names: the subject's asked-for attributes, records linked to the named
 * entities, and one hop out to records sharing an entity with those.
 */
function graphCandidates(
  p: SearchParts,
  q: RecordCandidatesQuery,
  visible: Visible,
  ids: number[],
  /** The visible ids as a set, when the scope is small enough to hold them (FILTER_SCOPE_LIMIT). */
  visibleSet: IdSet | undefined,
): Scored[] {
  const { db, context } = p;
  const CANDIDATES = q.candidates;
  const input = { scopeKeys: q.filter.scopeKeys, now: q.filter.now };
  const out = new Map<number, number>();
  const { subjects, attributes } = q.text;
  const keyMarks = input.scopeKeys.map(() => "?").join(",");
  if (subjects.length > 0 && attributes.length > 0) {
    // Spelled out rather than `id IN (visible)`, so that the (context, scope_key, subject, attribute) index serves it.
    const rows = sql(
      db,
      `SELECT id FROM records WHERE context = ? AND scope_key IN (${keyMarks})
         AND subject IN (${subjects.map(() => "?").join(",")}) AND attribute IN (${attributes.map(() => "?").join(",")})
         AND ${live()} AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY created_at DESC LIMIT ?`,
    ).all(context, ...input.scopeKeys, ...subjects, ...attributes, input.now, CANDIDATES) as { id: number }[];
    rows.forEach((r) => out.set(r.id, 1));
  }
  const names = [...subjects.filter((s) => s !== "user" && s !== "assistant"), ...q.text.keywords];
  const entityIds = entityIdsByName(db, context, names);
  if (entityIds.length === 0) return [...out].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
  // Visibility is checked against the id set when there is one (an index-only scan, then a Set lookup);
  // only a large scope falls back to the SQL filter.
  const keep = (rows: { id: number }[]): number[] => {
    if (visibleSet) return rows.map((r) => r.id).filter((id) => visibleSet.has(id)).slice(0, CANDIDATES);
    // Checked a slice at a time (one primary-key lookup each), stopping once there are enough.
    const kept: number[] = [];
    for (let i = 0; i < rows.length && kept.length < CANDIDATES; i += 4 * CANDIDATES) {
      const slice = rows.slice(i, i + 4 * CANDIDATES).map((r) => r.id);
      const allowed = filterVisible(p, slice, visible);
      kept.push(...slice.filter((id) => allowed.has(id)));
    }
    return kept.slice(0, CANDIDATES);
  };
  const marks = entityIds.map(() => "?").join(",");
  // A small scope is searched from its own records' links (the (record_id, entity_id) key); scanning an
  // entity's links would read every record of a hub entity such as a city.
  const small = ids.length <= EXACT_SCOPE_LIMIT;
  const idMarks = small ? ids.map(() => "?").join(",") : "";
  const direct = small
    ? ids.length === 0
      ? []
      : (sqlPluck(db, `SELECT DISTINCT record_id FROM record_entities WHERE record_id IN (${idMarks}) AND entity_id IN (${marks}) ORDER BY record_id DESC LIMIT ${CANDIDATES}`).all(
          ...ids,
          ...entityIds,
        ) as number[])
    : keep(
        sql(db, `SELECT DISTINCT record_id AS id FROM record_entities WHERE entity_id IN (${marks}) ORDER BY record_id DESC LIMIT ${GRAPH_SCAN}`).all(
          ...entityIds,
        ) as { id: number }[],
      );
  direct.forEach((id) => out.has(id) || out.set(id, 0.8));
  // One hop: records sharing a less common entity with those. Hub entities (linked to very many records) say
  // little about relatedness and would make the join explode, so they are skipped.
  if (direct.length > 0) {
    const near = `WITH near AS (
           SELECT DISTINCT re.entity_id AS id FROM record_entities re
            WHERE re.record_id IN (${direct.map(() => "?").join(",")}) AND re.entity_id NOT IN (${marks})
         ), small AS (
           SELECT id FROM near WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM record_entities x WHERE x.entity_id = near.id LIMIT ${HUB_DEGREE + 1})) <= ${HUB_DEGREE}
         )`;
    const hop = small
      ? (sqlPluck(db, `${near} SELECT DISTINCT record_id FROM record_entities WHERE record_id IN (${idMarks}) AND entity_id IN (SELECT id FROM small) LIMIT ${CANDIDATES}`).all(
          ...direct,
          ...entityIds,
          ...ids,
        ) as number[])
      : keep(
          sql(db, `${near} SELECT DISTINCT record_id AS id FROM record_entities WHERE entity_id IN (SELECT id FROM small) LIMIT ${GRAPH_SCAN}`).all(
            ...direct,
            ...entityIds,
          ) as { id: number }[],
        );
    hop.forEach((id) => out.has(id) || out.set(id, 0.5));
  }
  return [...out].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
