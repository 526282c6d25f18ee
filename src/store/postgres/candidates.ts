import type pg from "pg";
import { queryTerms } from "../../pipeline/recall/normalize.js";
import { normalizeEntity } from "../graph.js";
import type { RecordCandidates, RecordCandidatesQuery, Scored } from "../store.js";
import { query } from "./connection.js";
import type { FollowedIndex } from "./followed-index.js";
import { nearestRecords } from "./nearest.js";
import { visibleCondition } from "./records-sql.js";
import type { VectorSet } from "./vector-sets.js";

/** Up to this many visible records, the vector channel is exact (as hybrid.ts's EXACT_SCOPE_LIMIT on SQLite). */
const EXACT_SCOPE_LIMIT = 300;
/** Entities linked to more records than this are hubs: not followed one hop out (as graph.ts on SQLite). */
const HUB_DEGREE = 200;

/**
 * Tier-3 record channels on PostgreSQL, each filtered to the visible records inside its query: vector (exact for
 * small scopes, else the ANN index), full text (`ts_rank_cd` over the GIN-indexed `tsvector`, the query's salient
 * terms OR-ed; SQLite ranks by BM25), and the entity graph (the asked-for attributes 1, records naming a query
 * entity 0.8, one hop out through a non-hub entity 0.5), plus the visible live records of the matching turns.
 */
export async function recordCandidates(
  pool: pg.Pool,
  context: string,
  set: VectorSet | undefined,
  index: FollowedIndex | undefined,
  q: RecordCandidatesQuery,
): Promise<RecordCandidates> {
  const visible = visibleCondition(context, q.filter, 1);
  const n = visible.values.length;
  // The channels are independent statements: sent at once, each on a pooled connection of its own, so that the
  // server ranks the full-text matches while it walks the entity graph (a Context-wide query waited for each in
  // turn: ~140 ms of ts_rank_cd, then ~45 ms of graph, then the vector channel's statements).
  const vectorChannel = async () =>
    q.vector && set
      ? nearestRecords(pool, context, set, index, { model: q.vector.model, vector: q.vector.vector, k: q.candidates, filter: q.filter, enough: q.vector.enough, exactLimit: EXACT_SCOPE_LIMIT })
      : undefined;

  const terms = queryTerms(q.text.query, q.text.keywords);
  const ftsChannel = async () =>
    terms.length === 0
      ? []
      : query<Scored>(
          pool,
          `WITH q AS (SELECT string_agg(quote_literal(t), ' | ')::tsquery AS query FROM unnest($${n + 1}::text[]) AS t)
           SELECT r.id, ts_rank_cd(r.tsv, q.query)::float8 AS score FROM records r, q
            WHERE r.tsv @@ q.query AND ${visible.sql} ORDER BY score DESC, r.id DESC LIMIT $${n + 2}`,
          [...visible.values, terms, q.candidates],
        );

  const subjects = q.text.subjects;
  const attributes = q.text.attributes;
  const slotChannel = async () =>
    subjects.length > 0 && attributes.length > 0
      ? query<{ id: number }>(
          pool,
          `SELECT r.id FROM records r WHERE ${visible.sql} AND r.subject = ANY($${n + 1}::text[]) AND r.attribute = ANY($${n + 2}::text[])
            ORDER BY r.created_at DESC LIMIT $${n + 3}`,
          [...visible.values, [...subjects], [...attributes], q.candidates],
        )
      : [];
  const names = [...new Set([...subjects.filter((s) => s !== "user" && s !== "assistant"), ...q.text.keywords].map(normalizeEntity))];
  const entityChannel = async (): Promise<{ direct: { id: number }[]; hop: { id: number }[] }> => {
    if (names.length === 0) return { direct: [], hop: [] };
    const direct = await query<{ id: number }>(
      pool,
      `SELECT DISTINCT r.id FROM entities e JOIN record_entities re ON re.entity_id = e.id JOIN records r ON r.id = re.record_id
        WHERE e.context = $1 AND e.norm_name = ANY($${n + 1}::text[]) AND ${visible.sql} ORDER BY r.id DESC LIMIT $${n + 2}`,
      [...visible.values, names, q.candidates],
    );
    if (direct.length === 0) return { direct, hop: [] };
    const hop = await query<{ id: number }>(
      pool,
      `WITH near AS (
         SELECT DISTINCT re.entity_id AS id FROM record_entities re JOIN entities e ON e.id = re.entity_id
          WHERE re.record_id = ANY($${n + 1}::bigint[]) AND NOT (e.norm_name = ANY($${n + 2}::text[]))
       ), small AS (
         SELECT id FROM near WHERE (SELECT count(*) FROM (SELECT 1 FROM record_entities x WHERE x.entity_id = near.id LIMIT ${HUB_DEGREE + 1}) AS l) <= ${HUB_DEGREE}
       )
       SELECT DISTINCT r.id FROM record_entities re JOIN records r ON r.id = re.record_id
        WHERE re.entity_id IN (SELECT id FROM small) AND ${visible.sql} ORDER BY r.id DESC LIMIT $${n + 3}`,
      [...visible.values, direct.map((r) => r.id), names, q.candidates],
    );
    return { direct, hop };
  };

  const turnsChannel = async () =>
    q.turnIds && q.turnIds.length > 0
      ? (await query<{ id: number }>(
          pool,
          `SELECT r.id FROM records r WHERE r.source_kind = 'turn' AND r.source_id = ANY($${n + 1}::text[]) AND ${visible.sql} ORDER BY r.id`,
          [...visible.values, q.turnIds.map((t) => `turn_${t}`)],
        )).map((r) => r.id)
      : [];

  const [vector, fts, slot, entities, ofTurns] = await Promise.all([vectorChannel(), ftsChannel(), slotChannel(), entityChannel(), turnsChannel()]);
  // The graph's scores in the order the statements ran one after another: the asked-for slot 1, a named entity
  // 0.8, one hop out 0.5, each id at its first (highest) score.
  const graph = new Map<number, number>();
  slot.forEach((r) => graph.set(r.id, 1));
  entities.direct.forEach((r) => graph.has(r.id) || graph.set(r.id, 0.8));
  entities.hop.forEach((r) => graph.has(r.id) || graph.set(r.id, 0.5));

  return {
    vector: vector ? vector.hits.map((h) => ({ id: h.label, score: 1 - h.distance })) : [],
    fts,
    graph: [...graph].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score),
    vectorPath: vector ? vector.path : "none",
    ofTurns,
  };
}
