import { stem, stemmedWords } from "./stem.js";

/**
 * Up to this many turns in the caller's scopes, passages are scored here by BM25 with the scope's own turns
 * as the corpus (~1 µs a turn): FTS5 would score every match in the file first and drop what the caller
 * cannot see afterwards. Above it, the engine's full-text passage index (Porter-stemmed) with a visibility join.
 */
export const PASSAGE_SCAN_LIMIT = 2_000;

/**
 * Passage scoring, tuned on the LoCoMo development split only (bench/tune-fusion.ts). `speaker`: weight of the
 * speaker's name as a field of the passage ("what did Caroline…" matches Caroline's turns that do not name her);
 * `feedbackDocs`/`feedbackTerms`/`feedbackWeight`: pseudo-relevance feedback, the query expanded with the most
 * telling terms of its best passages and scored again (RM3-style, each added term at `feedbackWeight`); off
 * (`feedbackDocs: 0`): on dev samples 0–1 it lowered fused R@10 from 0.626 to 0.592. `context`: weight of the
 * neighbouring turns' words (document expansion, `withContext`); `k1`, `b`: BM25's. On dev samples 0–2, fused R@10
 * 0.619 with context 0 and b 0.75, 0.649 with context 0.3, 0.665 with context 0.3 and b 0.5 (multi-hop 0.377 →
 * 0.381, temporal 0.839 → 0.861, open-domain 0.237 = 0.237, single-hop 0.645 → 0.723). Speaker 1 rather than 0.5,
 * with the time cues of hybrid.ts on (bench/tune-search.ts, dev samples 0–4): fused R@10 0.706 → 0.707, multi-hop
 * 0.385 → 0.396 (the passage channel alone 0.383 → 0.387), temporal 0.867 → 0.861.
 */
export const PASSAGE_SCORING = { speaker: 1, context: 0.3, k1: 1.2, b: 0.5, feedbackDocs: 0, feedbackTerms: 5, feedbackWeight: 0.3 };

/**
 * BM25 of a small scope's passages (stored turns) for the query terms, best first, at most `candidates`: the
 * scope's own turns as the corpus. `cacheKey` (the connection) keys the cache of tokenized turns.
 */
export function scorePassages(
  cacheKey: object,
  rows: readonly { id: number; content: string; speaker: string | null }[],
  terms: readonly string[],
  candidates: number,
): { id: number; score: number }[] {
  const docs = withContext([...rows].sort((a, b) => a.id - b.id).map((r) => tokenized(cacheKey, r)));
  return withFeedback(docs, [...new Set(terms.map(stem))], candidates);
}

/** Turns as stemmed words, per database, the most recent TOKENIZED_TURNS: a turn's content never changes. */
const tokens = new WeakMap<object, Map<number, Doc>>();
const TOKENIZED_TURNS = 50_000;

function tokenized(db: object, r: { id: number; content: string; speaker: string | null }): Doc {
  let cache = tokens.get(db);
  if (!cache) tokens.set(db, (cache = new Map()));
  let doc = cache.get(r.id);
  if (!doc) {
    doc = { id: r.id, words: stemmedWords(r.content), field: r.speaker ? stemmedWords(r.speaker) : [] };
    if (cache.size >= TOKENIZED_TURNS) cache.delete(cache.keys().next().value!);
    cache.set(r.id, doc);
  }
  return doc;
}

interface Doc {
  id: number;
  words: readonly string[];
  /** A second field (the speaker), scored at PASSAGE_SCORING.speaker. */
  field: readonly string[];
  /** The turns just before and after in the scope (document expansion), scored at PASSAGE_SCORING.context. */
  context?: readonly string[];
}

/**
 * Each turn with the words of its neighbours in the scope (the turn before and the one after, in the order
 * they were stored) as a context field: an answer often leaves its topic to the question it answers ("Where?"
 * "Lisbon."), and a conversation's turns are read in order. Off when PASSAGE_SCORING.context is 0. Only the
 * in-process scoring of a small scope has it; the FTS5 path of a large one scores each turn alone.
 */
function withContext(docs: readonly Doc[]): Doc[] {
  if (PASSAGE_SCORING.context === 0) return [...docs];
  return docs.map((d, i) => ({ ...d, context: [...(docs[i - 1]?.words ?? []), ...(docs[i + 1]?.words ?? [])] }));
}

/** BM25 of the docs for the terms, then again with the query expanded by pseudo-relevance feedback. */
function withFeedback(docs: readonly Doc[], terms: readonly string[], candidates: number): Scored[] {
  const o = PASSAGE_SCORING;
  const first = bm25(docs, new Map(terms.map((t) => [t, 1])), candidates);
  if (o.feedbackDocs === 0 || o.feedbackTerms === 0 || first.length === 0) return first;
  const byId = new Map(docs.map((d) => [d.id, d]));
  const df = new Map<string, number>();
  for (const d of docs) for (const w of new Set(d.words)) df.set(w, (df.get(w) ?? 0) + 1);
  // Terms of the best passages, weighted by their share of each passage and their rarity in the corpus.
  const weight = new Map<string, number>();
  for (const c of first.slice(0, o.feedbackDocs)) {
    const d = byId.get(c.id)!;
    for (const w of d.words) {
      if (terms.includes(w) || STOP_STEMS.has(w) || w.length < 3) continue;
      const idf = Math.log(1 + docs.length / (df.get(w) ?? 1));
      weight.set(w, (weight.get(w) ?? 0) + idf / d.words.length);
    }
  }
  const added = [...weight].sort((a, b) => b[1] - a[1]).slice(0, o.feedbackTerms).map(([w]) => w);
  if (added.length === 0) return first;
  return bm25(docs, new Map([...terms.map((t) => [t, 1] as const), ...added.map((t) => [t, o.feedbackWeight] as const)]), candidates);
}

const STOP_STEMS = new Set(
  "the and but for not you your yours our that this these those with have has had was were are been being from they them their there then than what when where which who whom why how about into onto just also very really too its it's i'm i've i'll we're that's can could would should will shall may might must did does doing done get got go going went know like yeah yes okay well so some any all more most much many one two out up down over again here now only own same such both each few other off on in at by of to is am be do no nor or if as an a me my myself we us he him his she her hers it".split(" ").map(stem),
);

/** Okapi BM25 (PASSAGE_SCORING.k1, .b) of the docs for weighted query terms, the docs themselves as the corpus; top `candidates`. */
function bm25(docs: readonly Doc[], query: ReadonlyMap<string, number>, candidates: number): Scored[] {
  if (docs.length === 0 || query.size === 0) return [];
  const { k1, b } = PASSAGE_SCORING;
  const fieldWeight = PASSAGE_SCORING.speaker;
  const contextWeight = PASSAGE_SCORING.context;
  const length = (d: Doc) => d.words.length + d.field.length;
  const avg = docs.reduce((n, d) => n + length(d), 0) / docs.length || 1;
  const tfs = docs.map((d) => {
    const tf = new Map<string, number>();
    for (const w of d.words) if (query.has(w)) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const w of d.field) if (query.has(w)) tf.set(w, (tf.get(w) ?? 0) + fieldWeight);
    if (d.context) for (const w of d.context) if (query.has(w)) tf.set(w, (tf.get(w) ?? 0) + contextWeight);
    return tf;
  });
  const df = new Map<string, number>();
  for (const tf of tfs) for (const t of tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const scored: Scored[] = [];
  docs.forEach((d, i) => {
    let score = 0;
    for (const [t, tf] of tfs[i]!) {
      const n = df.get(t)!;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (query.get(t)! * idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length(d)) / avg));
    }
    if (score > 0) scored.push({ id: d.id, score: round(score) });
  });
  return scored.sort((x, y) => y.score - x.score || y.id - x.id).slice(0, candidates);
}

interface Scored {
  id: number;
  score: number;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
