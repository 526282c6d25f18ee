import type { Core } from "../../core.js";
import { sql } from "../../store/database.js";
import { LIVE_PASSAGE, passageIndexSize } from "../../store/passages.js";
import { CANDIDATES, round, type Candidate, type RetrievalInput } from "./hybrid.js";
import { ftsQuery, queryTerms } from "./normalize.js";
import { stem, stemmedWords } from "./stem.js";

/**
 * Up to this many turns in the caller's scopes, passages are scored here by BM25 with the scope's own turns
 * as the corpus (~1 µs a turn): FTS5 would score every match in the file first and drop what the caller
 * cannot see afterwards. Above it, the FTS5 passage index (Porter-stemmed) with a visibility join.
 */
export const PASSAGE_SCAN_LIMIT = 2_000;

/**
 * Passages (stored turns) for the query, best first, with BM25 scores: every turn stays within reach even
 * when extraction wrote nothing for it ("…for my cat Luna?"). Only live passages (store/passages.ts).
 */
export function passageCandidates(core: Core, input: RetrievalInput): Candidate[] {
  const terms = queryTerms(input.query, input.understanding.keywords);
  if (terms.length === 0) return [];
  const { db, context } = core;
  const marks = input.scopeKeys.map(() => "?").join(",");
  const inScope = sql(db, `SELECT id FROM turns t WHERE t.context = ? AND t.scope_key IN (${marks}) LIMIT ${PASSAGE_SCAN_LIMIT + 1}`)
    .all(context, ...input.scopeKeys) as { id: number }[];
  if (inScope.length === 0) return [];
  if (inScope.length <= PASSAGE_SCAN_LIMIT) {
    const rows = sql(
      db,
      `SELECT t.id, t.content FROM turns t WHERE t.context = ? AND t.scope_key IN (${marks}) AND ${LIVE_PASSAGE}`,
    ).all(context, ...input.scopeKeys, input.now, input.now) as { id: number; content: string }[];
    return bm25(rows.map((r) => ({ id: r.id, words: stemmedWords(r.content) })), [...new Set(terms.map(stem))]);
  }
  // Terms in more than a fifth of the file's turns (or 5,000) say little and cost much; FTS5 stems the rest.
  const limit = Math.max(50, Math.min(passageIndexSize(db) * 0.2, 5_000));
  const common = sql(db, "SELECT doc FROM turns_fts_vocab WHERE term = ?");
  const kept = terms.filter((t) => ((common.get(stem(t)) as { doc: number } | undefined)?.doc ?? 0) <= limit);
  const match = ftsQuery(kept.join(" "));
  if (!match) return [];
  const rows = sql(
    db,
    `SELECT f.rowid AS id, bm25(turns_fts) AS score FROM turns_fts f JOIN turns t ON t.id = f.rowid
      WHERE turns_fts MATCH ? AND t.context = ? AND t.scope_key IN (${marks}) AND ${LIVE_PASSAGE}
      ORDER BY score LIMIT ?`,
  ).all(match, context, ...input.scopeKeys, input.now, input.now, CANDIDATES) as { id: number; score: number }[];
  return rows.map((r) => ({ id: r.id, score: round(-r.score) }));
}

/** Okapi BM25 (k1 1.2, b 0.75) of `docs` for `terms`, the documents themselves as the corpus; top CANDIDATES. */
export function bm25(docs: readonly { id: number; words: readonly string[] }[], terms: readonly string[]): Candidate[] {
  if (docs.length === 0 || terms.length === 0) return [];
  const k1 = 1.2;
  const b = 0.75;
  const avg = docs.reduce((n, d) => n + d.words.length, 0) / docs.length || 1;
  const tfs = docs.map((d) => {
    const tf = new Map<string, number>();
    for (const w of d.words) if (terms.includes(w)) tf.set(w, (tf.get(w) ?? 0) + 1);
    return tf;
  });
  const df = new Map(terms.map((t) => [t, tfs.filter((tf) => tf.has(t)).length]));
  const scored: Candidate[] = [];
  docs.forEach((d, i) => {
    let score = 0;
    for (const [t, tf] of tfs[i]!) {
      const n = df.get(t)!;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * d.words.length) / avg));
    }
    if (score > 0) scored.push({ id: d.id, score: round(score) });
  });
  return scored.sort((x, y) => y.score - x.score || y.id - x.id).slice(0, CANDIDATES);
}
