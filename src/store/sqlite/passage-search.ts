import { sql } from "../database.js";
import { LIVE_PASSAGE, passageIndexSize } from "../passages.js";
import type { QueryText, Scored } from "../store.js";
import { ftsQuery, queryTerms } from "../../pipeline/recall/normalize.js";
import { PASSAGE_SCAN_LIMIT, scorePassages } from "../../pipeline/recall/passages.js";
import { stem } from "../../pipeline/recall/stem.js";
import type { SearchParts } from "./record-search.js";

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Passages (stored turns) for the query, best first, with BM25 scores: every turn stays within reach even
 * when extraction wrote nothing for it ("…for my cat Luna?"). Only live passages (store/passages.ts). A small
 * scope is scored in process with its own turns as the corpus; a large one through FTS5 with a visibility join.
 */
export function passageCandidates(
  p: SearchParts,
  q: { text: QueryText; scopeKeys: readonly string[]; now: number; candidates: number },
): Scored[] {
  const terms = queryTerms(q.text.query, q.text.keywords);
  if (terms.length === 0) return [];
  const { db, context } = p;
  const marks = q.scopeKeys.map(() => "?").join(",");
  const inScope = sql(db, `SELECT id FROM turns t WHERE t.context = ? AND t.scope_key IN (${marks}) LIMIT ${PASSAGE_SCAN_LIMIT + 1}`)
    .all(context, ...q.scopeKeys) as { id: number }[];
  if (inScope.length === 0) return [];
  if (inScope.length <= PASSAGE_SCAN_LIMIT) {
    const rows = sql(
      db,
      `SELECT t.id, t.content, t.speaker FROM turns t WHERE t.context = ? AND t.scope_key IN (${marks}) AND ${LIVE_PASSAGE}`,
    ).all(context, ...q.scopeKeys, q.now, q.now) as { id: number; content: string; speaker: string | null }[];
    return scorePassages(db, rows, terms, q.candidates);
  }
  // Terms in more than a fifth of the file's turns (or 5,000) say little and cost much; FTS5 stems the rest.
  const limit = Math.max(50, Math.min(passageIndexSize(db) * 0.2, 5_000));
  const common = sql(db, "SELECT doc FROM turns_fts_vocab WHERE term = ?");
  // The vocabulary holds Porter stems; the word itself or its light stem is usually one of them.
  const docs = (term: string) => (common.get(term) as { doc: number } | undefined)?.doc ?? 0;
  const kept = terms.filter((t) => Math.max(docs(t), docs(stem(t))) <= limit);
  const match = ftsQuery(kept.join(" "));
  if (!match) return [];
  const rows = sql(
    db,
    `SELECT f.rowid AS id, bm25(turns_fts) AS score FROM turns_fts f JOIN turns t ON t.id = f.rowid
      WHERE turns_fts MATCH ? AND t.context = ? AND t.scope_key IN (${marks}) AND ${LIVE_PASSAGE}
      ORDER BY score LIMIT ?`,
  ).all(match, context, ...q.scopeKeys, q.now, q.now, q.candidates) as { id: number; score: number }[];
  return rows.map((r) => ({ id: r.id, score: round(-r.score) }));
}
