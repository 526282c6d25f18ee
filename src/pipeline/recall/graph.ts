import type { Core } from "../../core.js";
import { sql, sqlPluck } from "../../store/database.js";
import { entityIdsByName } from "../../store/graph.js";
import type { Visible } from "../../store/records.js";
import { CANDIDATES, EXACT_SCOPE_LIMIT, filterVisible, type Candidate, type IdSet, type RetrievalInput } from "./hybrid.js";

/** Entities linked to more records than this are hubs: not followed in graph expansion. */
const HUB_DEGREE = 200;
/** Entity links read per graph step before the visibility filter. */
const GRAPH_SCAN = 2_000;

/**
 * Records about what the query names: the subject's asked-for attributes, records linked to the named
 * entities, and one hop out to records sharing an entity with those.
 */
export function graphCandidates(
  core: Core,
  input: RetrievalInput,
  visible: Visible,
  ids: number[],
  /** The visible ids as a set, when the scope is small enough to hold them (retrieve's FILTER_SCOPE_LIMIT). */
  visibleSet: IdSet | undefined,
): Candidate[] {
  const { db, context } = core;
  const out = new Map<number, number>();
  const { subjects, attributes } = input.understanding;
  const keyMarks = input.scopeKeys.map(() => "?").join(",");
  if (subjects.length > 0 && attributes.length > 0) {
    // Spelled out rather than `id IN (visible)`, so that the (context, scope_key, subject, attribute) index serves it.
    const rows = sql(
      db,
      `SELECT id FROM records WHERE context = ? AND scope_key IN (${keyMarks})
         AND subject IN (${subjects.map(() => "?").join(",")}) AND attribute IN (${attributes.map(() => "?").join(",")})
         AND status IN ('current', 'flagged') AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY created_at DESC LIMIT ?`,
    ).all(context, ...input.scopeKeys, ...subjects, ...attributes, input.now, CANDIDATES) as { id: number }[];
    rows.forEach((r) => out.set(r.id, 1));
  }
  const names = [...subjects.filter((s) => s !== "user" && s !== "assistant"), ...input.understanding.keywords];
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
      const allowed = filterVisible(core, slice, visible);
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
