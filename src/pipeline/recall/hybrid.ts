import type { Core } from "../../core.js";
import type { QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import { entityIdsByName } from "../../store/graph.js";
import { countVisible, getRecords, visibleRecordsSql, type RecordRow } from "../../store/records.js";
import { exactSearch } from "../../store/vectors.js";
import { reciprocalRankFusion } from "./fuse.js";
import { ftsQuery } from "./normalize.js";
import { feedbackBoosts } from "./feedback.js";

/** Below this many visible records, exact sqlite-vec search beats filtering the Context-wide ANN index. */
export const EXACT_SCOPE_LIMIT = 2_000;
const CANDIDATES = 50;

export interface Candidate {
  id: number;
  score: number;
}

export interface ChunkRow {
  id: number;
  document_id: number;
  scope_key: string;
  ord: number;
  text: string;
  title: string;
}

/** At most this many document chunks go to the response model alongside the records. */
const CHUNKS = 3;

export interface Retrieval {
  records: RecordRow[];
  chunks: { row: ChunkRow; score: number }[];
  candidates: { vector: Candidate[]; fts: Candidate[]; graph: Candidate[] };
  fused: Candidate[];
  feedback: Candidate[];
  vectorPath: "exact" | "ann" | "none";
}

export interface RetrievalInput {
  query: string;
  vector: Float32Array | undefined;
  embeddingModel: string;
  understanding: QueryUnderstanding;
  scopeKeys: readonly string[];
  limit: number;
  now: number;
}

/**
 * Tier-3 retrieval: vector (ANN, or exact for small scopes), FTS5 BM25 and entity-graph candidates, fused
 * with RRF and weighted by importance, recency and trace feedback. No model call.
 */
export function retrieve(core: Core, input: RetrievalInput): Retrieval {
  const { db, context } = core;
  const visible = visibleRecordsSql(context, input.scopeKeys, input.now);
  const vector = input.vector ? vectorCandidates(core, input, visible) : { list: [], path: "none" as const };
  const fts = ftsCandidates(core, input, visible);
  const graph = graphCandidates(core, input, visible);

  const fusedScores = reciprocalRankFusion([vector.list.map((c) => c.id), fts.map((c) => c.id), graph.map((c) => c.id)]);
  const rows = getRecords(db, context, [...fusedScores.keys()]);
  const boosts = core.feedback && input.vector ? feedbackBoosts(core, input.vector, input.embeddingModel, input.scopeKeys) : new Map<number, number>();
  const weighted = rows.map((row) => ({ row, score: weigh(row, fusedScores.get(row.id)!, boosts.get(row.id) ?? 0, input.now) }));
  weighted.sort((a, b) => b.score - a.score || b.row.id - a.row.id);
  return {
    records: weighted.slice(0, input.limit).map((w) => w.row),
    chunks: chunkCandidates(core, input),
    candidates: { vector: vector.list, fts, graph },
    fused: weighted.map((w) => ({ id: w.row.id, score: round(w.score) })),
    feedback: [...boosts].map(([id, score]) => ({ id, score: round(score) })),
    vectorPath: vector.path,
  };
}

const DAY = 86_400_000;

/**
 * Importance and recency scale the fused rank; trace feedback boosts records that answered similar queries;
 * disputed (flagged) records and records of a source with a history of corrections (low trust) are demoted.
 */
function weigh(row: RecordRow, fused: number, boost: number, now: number): number {
  const recency = 0.8 + 0.2 * Math.exp(-Math.max(0, now - row.created_at) / (30 * DAY));
  const importance = 0.5 + 0.5 * row.importance;
  const dispute = row.status === "flagged" || row.kind === "uncertainty" ? 0.7 : 1;
  return fused * importance * recency * (1 + Math.min(boost, 2) * 0.25) * dispute * (0.5 + 0.5 * row.trust);
}

function vectorCandidates(
  core: Core,
  input: RetrievalInput,
  visible: { sql: string; params: unknown[] },
): { list: Candidate[]; path: "exact" | "ann" } {
  const vector = input.vector!;
  const small = countVisible(core.db, core.context, input.scopeKeys, input.now) <= EXACT_SCOPE_LIMIT;
  if (!small) {
    const index = core.vectorIndex("records", input.embeddingModel);
    // Over-fetch, then keep what this caller may see; widen once before falling back to exact search.
    for (const k of [CANDIDATES * 4, CANDIDATES * 40]) {
      const hits = index.search(vector, k);
      if (!hits) break;
      const allowed = filterVisible(core, hits.map((h) => h.label), visible);
      const list = hits.filter((h) => allowed.has(h.label)).slice(0, CANDIDATES).map((h) => ({ id: h.label, score: round(1 - h.distance) }));
      if (list.length >= Math.min(CANDIDATES, input.limit * 2) || hits.length < k) return { list, path: "ann" };
    }
  }
  const hits = exactSearch(core.db, "records", input.embeddingModel, vector, CANDIDATES, visible.sql, visible.params);
  return { list: hits.map((h) => ({ id: h.label, score: round(1 - h.distance) })), path: "exact" };
}

function filterVisible(core: Core, ids: number[], visible: { sql: string; params: unknown[] }): Set<number> {
  if (ids.length === 0) return new Set();
  const rows = core.db
    .prepare(`SELECT id FROM (${visible.sql}) WHERE id IN (${ids.map(() => "?").join(",")})`)
    .all(...visible.params, ...ids) as { id: number }[];
  return new Set(rows.map((r) => r.id));
}

function ftsCandidates(core: Core, input: RetrievalInput, visible: { sql: string; params: unknown[] }): Candidate[] {
  const match = ftsQuery(input.query, input.understanding.keywords);
  if (!match) return [];
  const rows = core.db
    .prepare(
      `SELECT f.rowid AS id, bm25(records_fts) AS score FROM records_fts f
        WHERE records_fts MATCH ? AND f.rowid IN (${visible.sql}) ORDER BY score LIMIT ?`,
    )
    .all(match, ...visible.params, CANDIDATES) as { id: number; score: number }[];
  return rows.map((r) => ({ id: r.id, score: round(-r.score) }));
}

/**
 * Records about what the query names: the subject's asked-for attributes, records linked to the named
 * entities, and one hop out to records sharing an entity with those.
 */
function graphCandidates(core: Core, input: RetrievalInput, visible: { sql: string; params: unknown[] }): Candidate[] {
  const { db, context } = core;
  const out = new Map<number, number>();
  const { subjects, attributes } = input.understanding;
  if (subjects.length > 0 && attributes.length > 0) {
    const rows = db
      .prepare(
        `SELECT id FROM records WHERE id IN (${visible.sql})
           AND subject IN (${subjects.map(() => "?").join(",")}) AND attribute IN (${attributes.map(() => "?").join(",")})
         ORDER BY created_at DESC LIMIT ?`,
      )
      .all(...visible.params, ...subjects, ...attributes, CANDIDATES) as { id: number }[];
    rows.forEach((r) => out.set(r.id, 1));
  }
  const names = [...subjects.filter((s) => s !== "user" && s !== "assistant"), ...input.understanding.keywords];
  const entityIds = entityIdsByName(db, context, names);
  if (entityIds.length > 0) {
    const marks = entityIds.map(() => "?").join(",");
    const direct = db
      .prepare(`SELECT DISTINCT record_id AS id FROM record_entities WHERE entity_id IN (${marks}) AND record_id IN (${visible.sql}) LIMIT ?`)
      .all(...entityIds, ...visible.params, CANDIDATES) as { id: number }[];
    direct.forEach((r) => out.has(r.id) || out.set(r.id, 0.8));
    const hop = db
      .prepare(
        `SELECT DISTINCT re2.record_id AS id FROM record_entities re1
           JOIN record_entities re2 ON re2.entity_id = re1.entity_id
          WHERE re1.record_id IN (SELECT record_id FROM record_entities WHERE entity_id IN (${marks}))
            AND re2.record_id IN (${visible.sql}) LIMIT ?`,
      )
      .all(...entityIds, ...visible.params, CANDIDATES) as { id: number }[];
    hop.forEach((r) => out.has(r.id) || out.set(r.id, 0.5));
  }
  return [...out].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}

/**
 * Document chunks for the query: BM25 and vector (ANN over the Context, or exact for a small scope) fused
 * with RRF. Only when the Context has chunks at all.
 */
function chunkCandidates(core: Core, input: RetrievalInput): { row: ChunkRow; score: number }[] {
  const { db, context } = core;
  const marks = input.scopeKeys.map(() => "?").join(",");
  const visibleSql = `SELECT id FROM chunks WHERE context = ? AND scope_key IN (${marks})`;
  const params = [context, ...input.scopeKeys];
  const count = (db.prepare(`SELECT COUNT(*) AS n FROM (${visibleSql} LIMIT ${EXACT_SCOPE_LIMIT + 1})`).get(...params) as { n: number }).n;
  if (count === 0) return [];
  const match = ftsQuery(input.query, input.understanding.keywords);
  const fts = match
    ? (db
        .prepare(`SELECT rowid AS id FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN (${visibleSql}) ORDER BY bm25(chunks_fts) LIMIT ?`)
        .all(match, ...params, CANDIDATES) as { id: number }[]).map((r) => r.id)
    : [];
  let vector: number[] = [];
  if (input.vector) {
    const hits =
      count > EXACT_SCOPE_LIMIT ? core.vectorIndex("chunks", input.embeddingModel).search(input.vector, CANDIDATES * 4) : null;
    if (hits) {
      const allowed = new Set(
        (db.prepare(`${visibleSql} AND id IN (${hits.map(() => "?").join(",") || "NULL"})`).all(...params, ...hits.map((h) => h.label)) as { id: number }[]).map((r) => r.id),
      );
      vector = hits.filter((h) => allowed.has(h.label)).map((h) => h.label);
    } else {
      vector = exactSearch(db, "chunks", input.embeddingModel, input.vector, CANDIDATES, visibleSql, params).map((h) => h.label);
    }
  }
  const fused = [...reciprocalRankFusion([vector, fts])].sort((a, b) => b[1] - a[1]).slice(0, CHUNKS);
  if (fused.length === 0) return [];
  const rows = db
    .prepare(
      `SELECT c.id, c.document_id, c.scope_key, c.ord, c.text, d.title FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE c.id IN (${fused.map(() => "?").join(",")})`,
    )
    .all(...fused.map(([id]) => id)) as ChunkRow[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return fused.filter(([id]) => byId.has(id)).map(([id, score]) => ({ row: byId.get(id)!, score: round(score) }));
}

export const round = (x: number) => Math.round(x * 1e4) / 1e4;
