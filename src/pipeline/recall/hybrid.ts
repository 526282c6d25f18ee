import { sql, sqlPluck } from "../../store/database.js";
import type { Core } from "../../core.js";
import type { QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import { getRecords, visibleRecordsSql, type RecordRow, type Visible } from "../../store/records.js";
import { exactSearch } from "../../store/vectors.js";
import { combSum, normalizeScores } from "./fuse.js";
import { passageCandidates } from "./passages.js";
import { getLivePassages, type PassageRow } from "../../store/passages.js";
import { toId, tryParseId } from "../../store/ids.js";
import { ftsQuery, queryTerms } from "./normalize.js";
import { feedbackBoosts } from "./feedback.js";
import { chunkCandidates, type ChunkRow } from "./chunks.js";
import { graphCandidates } from "./graph.js";
import { dispatchRecords } from "./dispatch.js";

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
/** Candidates each channel contributes to the fusion. */
export const CANDIDATES = 50;

export interface Candidate {
  id: number;
  score: number;
}

export interface Retrieval {
  records: RecordRow[];
  /**
   * What was found, best first, at most `limit`: a record (with the turn it came from) or, for a turn none of
   * whose records ranks, the passage itself. One result per turn: its best record stands for it.
   */
  results: RetrievalResult[];
  chunks: { row: ChunkRow; score: number }[];
  candidates: { vector: Candidate[]; fts: Candidate[]; graph: Candidate[] };
  /** Passage (turn id) candidates with their BM25 scores. */
  passages: Candidate[];
  fused: Candidate[];
  feedback: Candidate[];
  vectorPath: "exact" | "ann" | "none";
  /** What the query type reads first (dispatch.ts): true for a question about documents. */
  chunksFirst: boolean;
}

export type RetrievalResult =
  | { kind: "record"; row: RecordRow; passage: PassageRow | undefined; score: number }
  | { kind: "passage"; passage: PassageRow; score: number };

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
 * Tier-3 retrieval: vector (ANN, or exact for small scopes), FTS5 BM25 and entity-graph candidates over the
 * records, and BM25 over the passages (the turns they were extracted from), fused by score (fuse.ts) and
 * weighted by importance, recency and trace feedback. No model call.
 */
export function retrieve(core: Core, input: RetrievalInput): Retrieval {
  const { db, context } = core;
  const visible = visibleRecordsSql(context, input.scopeKeys, input.now);
  const ids = visibleIds(core, visible);
  // A filter for the ANN and full-text hits, unless so many are visible that a lookup per hit is cheaper.
  const allowed = ids.length <= FILTER_SCOPE_LIMIT ? new IdSet(ids) : undefined;
  const vector = input.vector ? vectorCandidates(core, input, visible, ids, allowed) : { list: [], path: "none" as const };
  const fts = ids.length <= EXACT_SCOPE_LIMIT ? lexicalCandidates(core, input, ids) : ftsCandidates(core, input, visible, allowed);
  const graph = graphCandidates(core, input, visible, ids, allowed);
  const passageHits = passageCandidates(core, input);

  const weights = channelWeights(input.embeddingModel);
  const recordScores = combSum(
    [normalizeScores(vector.list, "absolute"), normalizeScores(fts, "max"), normalizeScores(graph, "max")],
    [weights.vector, weights.fts, weights.graph],
  );
  const passageScores = normalizeScores(passageHits, "max");
  // The records extracted from a matching passage are candidates too: what the turn says, they say.
  for (const id of recordsOfTurns(core, passageHits.map((p) => p.id), allowed, visible)) if (!recordScores.has(id)) recordScores.set(id, 0);
  // Importance as the caller last saw it: with the reinforcements of reads not yet committed (Core.groupWrite).
  const rows = core.withPendingReinforcement(getRecords(db, context, [...recordScores.keys()]));
  const passages = new Map(getLivePassages(db, context, [...new Set([...passageHits.map((p) => p.id), ...rows.map(turnOf).filter((t): t is number => t !== undefined)])], input.scopeKeys, input.now).map((p) => [p.id, p]));
  const boosts = core.feedback && input.vector ? feedbackBoosts(core, input.vector, input.embeddingModel, input.scopeKeys) : new Map<number, number>();
  const passageOf = (row: RecordRow) => passageScores.get(turnOf(row) ?? -1) ?? 0;
  const weighted = rows.map((row) => ({
    row,
    score: weigh(row, recordScores.get(row.id)! + weights.passage * passageOf(row), boosts.get(row.id) ?? 0, input.now),
  }));
  weighted.sort((a, b) => b.score - a.score || b.row.id - a.row.id);

  const results: RetrievalResult[] = [];
  const turnsTaken = new Set<number>();
  for (const w of weighted) {
    const turn = turnOf(w.row);
    if (turn !== undefined) {
      if (turnsTaken.has(turn)) continue;
      turnsTaken.add(turn);
    }
    results.push({ kind: "record", row: w.row, passage: turn === undefined ? undefined : passages.get(turn), score: round(w.score) });
  }
  for (const [turn, score] of passageScores) {
    const passage = passages.get(turn);
    if (turnsTaken.has(turn) || !passage) continue;
    results.push({ kind: "passage", passage, score: round(weights.passage * score) });
  }
  results.sort((a, b) => b.score - a.score || resultOrder(b) - resultOrder(a));
  return {
    records: dispatchRecords(db, input.understanding.type, visible, weighted.map((w) => w.row), input.limit),
    results: results.slice(0, input.limit),
    chunks: chunkCandidates(core, input),
    candidates: { vector: vector.list, fts, graph },
    passages: passageHits,
    fused: weighted.map((w) => ({ id: w.row.id, score: round(w.score) })),
    feedback: [...boosts].map(([id, score]) => ({ id, score: round(score) })),
    vectorPath: vector.path,
    chunksFirst: input.understanding.type === "chunk",
  };
}

/** Newer first among equal scores, records before passages of the same id. */
const resultOrder = (r: RetrievalResult) => (r.kind === "record" ? r.row.id * 2 + 1 : r.passage.id * 2);

/** The turn a record was extracted from, if it came from one. */
function turnOf(row: RecordRow): number | undefined {
  return row.source_kind === "turn" ? tryParseId("turn", row.source_id ?? "") : undefined;
}

/** Visible live records extracted from any of `turnIds`. */
function recordsOfTurns(core: Core, turnIds: readonly number[], allowed: IdSet | undefined, visible: Visible): number[] {
  if (turnIds.length === 0) return [];
  const ids = sql(
    core.db,
    `SELECT id FROM records WHERE source_kind = 'turn' AND source_id IN (${turnIds.map(() => "?").join(",")}) AND status IN ('current', 'flagged')`,
  )
    .all(...turnIds.map((t) => toId("turn", t)))
    .map((r) => (r as { id: number }).id);
  const keep = allowed ?? filterVisible(core, ids, visible);
  return ids.filter((id) => keep.has(id));
}

const DAY = 86_400_000;

/**
 * Importance and recency scale the fused rank; trace feedback boosts records that answered similar queries;
 * disputed (flagged) records and records of a source with a history of corrections (low trust) are demoted.
 */
function weigh(row: RecordRow, fused: number, boost: number, now: number): number {
  // RRF scores of neighbouring ranks differ by ~1.5% (1/61 vs 1/62), so these adjustments stay within a few
  // percent each: they reorder near-ties, they do not override relevance. (Multiplying by 0.5–1.0 factors did:
  // on LoCoMo it cut recall@10 to less than half of plain RRF.) Importance weighs most (FUSION_WEIGHTS.importance,
  // ±7.5% between importance 0 and 1): on LoCoMo dev samples 0–1, R@10 0.625 with weight 0, 0.626 with 0.04,
  // 0.15 and 0.3 (bench/tune-fusion.ts).
  const recency = Math.exp(-Math.max(0, now - row.created_at) / (30 * DAY));
  const adjust =
    1 +
    FUSION_WEIGHTS.importance * (row.importance - 0.5) +
    0.02 * recency +
    0.05 * Math.min(boost, 2) -
    (row.status === "flagged" || row.kind === "uncertainty" ? 0.03 : 0) -
    0.05 * (1 - row.trust);
  return fused * adjust;
}

/**
 * CombSUM weight of each channel's normalised scores (fuse.ts), tuned on the LoCoMo development split only
 * (bench/tune-fusion.ts). The entity graph is a weaker signal than text and vector similarity; so is the
 * offline hash embedder, which matches shared words only. `hashVector` stands in for `vector` then. Passages
 * weigh most: BM25 over the turns alone beat every record channel (dev R@10 0.613 vs 0.494 for records' FTS);
 * on dev samples 0–1 fused R@10 was 0.564 / 0.576 / 0.592 / 0.617 with passage weight 1 / 2 / 3 / 5.
 */
export const FUSION_WEIGHTS = { vector: 1, hashVector: 0.5, fts: 1, graph: 0.2, passage: 3, importance: 0.15 };

function channelWeights(embeddingModel: string) {
  const w = FUSION_WEIGHTS;
  return { vector: embeddingModel.startsWith("local:hash") ? w.hashVector : w.vector, fts: w.fts, graph: w.graph, passage: w.passage };
}

function vectorCandidates(
  core: Core,
  input: RetrievalInput,
  visible: Visible,
  ids: number[],
  allowed: IdSet | undefined,
): { list: Candidate[]; path: "exact" | "ann" } {
  const { hits, path } = nearestRecords(core, input.embeddingModel, input.vector!, CANDIDATES, visible, Math.min(CANDIDATES, input.limit * 2), ids, allowed);
  return { list: hits.map((h) => ({ id: h.label, score: round(1 - h.distance) })), path };
}

/** Ids of the visible records, up to one past FILTER_SCOPE_LIMIT (beyond that only "many" matters). */
function visibleIds(core: Core, visible: Visible): number[] {
  return readIds(core, `${visible.sql} LIMIT ${FILTER_SCOPE_LIMIT + 1}`, visible.params);
}

/**
 * The ids a `SELECT id …` returns, gathered into one JSON array by SQLite: for tens of thousands of rows that
 * is a third cheaper than a row object (or plucked value) each.
 */
function readIds(core: Core, select: string, params: unknown[]): number[] {
  return JSON.parse(sqlPluck(core.db, `SELECT json_group_array(id) FROM (${select})`).get(...params) as string) as number[];
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
 * The `k` nearest records among those `visible` selects: exact search when few are visible (vectors read from
 * the ANN index's memory), else hnswlib filtered to the visible ids; above FILTER_SCOPE_LIMIT the index is
 * over-fetched first. Exact search also when the index is not ready. `exactLimit` moves the line between the
 * two: a caller whose `visible` is one scope of a large Context (the background pass) raises it, because
 * hnswlib's filtered search walks the whole graph when the filter passes a small share of it.
 */
export function nearestRecords(
  core: Core,
  model: string,
  vector: Float32Array,
  k: number,
  visible: Visible,
  enough = k,
  ids = visibleIds(core, visible),
  allowed = ids.length <= FILTER_SCOPE_LIMIT ? new IdSet(ids) : undefined,
  exactLimit = EXACT_SCOPE_LIMIT,
): { hits: { label: number; distance: number }[]; path: "exact" | "ann" } {
  if (ids.length > exactLimit) {
    const index = core.vectorIndex("records", model);
    if (!allowed) {
      // Too many visible records to read their ids first: the Context's nearest, over-fetched, usually hold
      // enough visible ones (a question about Context-wide notes); when they do not (a question about the
      // caller's own few records), the ids are read after all and the graph searched with them as a filter.
      const fetch = k * 10;
      const hits = index.search(vector, fetch);
      if (hits) {
        const visibleHits = filterVisible(core, hits.map((h) => h.label), visible);
        const kept = hits.filter((h) => visibleHits.has(h.label)).slice(0, k);
        if (kept.length >= enough || hits.length < fetch) return { hits: kept, path: "ann" };
        allowed = new IdSet(readIds(core, visible.sql, visible.params));
      }
    }
    if (allowed) {
      const filter = allowed;
      const hits = index.search(vector, k, (label) => filter.has(label));
      if (hits) return { hits, path: "ann" };
    }
  }
  const index = core.existingIndex("records", model);
  const inMemory = index ? (label: number) => index.vectorOf(label) : undefined;
  return { hits: exactSearch(core.db, core.context, "records", model, vector, k, visible.sql, visible.params, inMemory), path: "exact" };
}

export function filterVisible(core: Core, ids: number[], visible: Visible): Set<number> {
  if (ids.length === 0) return new Set();
  // NOT INDEXED: one primary-key lookup per id. Otherwise SQLite, misjudging how many rows the scope index
  // holds, walks every visible record and tests each against the list.
  const found = sqlPluck(core.db, `SELECT id FROM records NOT INDEXED WHERE id IN (${ids.map(() => "?").join(",")}) AND ${visible.where}`)
    .all(...ids, ...visible.params) as number[];
  return new Set(found);
}

/**
 * BM25 over a small visible set, computed here with the set as the corpus: FTS5 would score every match in
 * the whole Context first (a common term matches most of it) and only then drop what the caller cannot see.
 */
function lexicalCandidates(core: Core, input: RetrievalInput, ids: number[]): Candidate[] {
  const terms = queryTerms(input.query, input.understanding.keywords);
  if (terms.length === 0 || ids.length === 0) return [];
  const rows = sql(core.db, `SELECT id, text FROM records WHERE id IN (${ids.map(() => "?").join(",")})`).all(...ids) as { id: number; text: string }[];
  const docs = rows.map((r) => ({ id: r.id, words: r.text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean) }));
  const avg = docs.reduce((n, d) => n + d.words.length, 0) / docs.length || 1;
  const k1 = 1.2;
  const b = 0.75;
  const scored: Candidate[] = [];
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
  return scored.sort((a, b2) => b2.score - a.score || b2.id - a.id).slice(0, CANDIDATES);
}

/** Share of a Context's records above which a term is too common to search by (it says little, costs much). */
const COMMON_TERM_SHARE = 0.2;
/** …and above which, whatever the share: scoring every match of such a term costs ~1 ms per 5,000 rows. */
const COMMON_TERM_DOCS = 5_000;

function ftsCandidates(core: Core, input: RetrievalInput, visible: Visible, allowed: IdSet | undefined): Candidate[] {
  // The full-text index spans every Context in the file; the highest record id bounds its size without a scan.
  const total = (sqlPluck(core.db, "SELECT MAX(id) FROM records").get() as number | null) ?? 0;
  const limit = Math.max(50, Math.min(total * COMMON_TERM_SHARE, COMMON_TERM_DOCS));
  const docs = sqlPluck(core.db, "SELECT doc FROM records_fts_vocab WHERE term = ?");
  const terms = queryTerms(input.query, input.understanding.keywords).filter((t) => ((docs.get(t) as number | undefined) ?? 0) <= limit);
  const match = ftsQuery(terms.join(" "));
  if (!match) return [];
  // The best matches first, visibility after: looking up every match's record costs twice what scoring it does.
  // A fetch scores every match, so there is one, generous enough to serve a scope that sees a tenth of them.
  const fetch = CANDIDATES * 10;
  const hits = sql(core.db, "SELECT rowid AS id, bm25(records_fts) AS score FROM records_fts WHERE records_fts MATCH ? ORDER BY score LIMIT ?")
    .all(match, fetch) as { id: number; score: number }[];
  const keep = allowed ?? filterVisible(core, hits.map((h) => h.id), visible);
  const kept = hits.filter((h) => keep.has(h.id)).slice(0, CANDIDATES);
  if (kept.length === CANDIDATES || hits.length < fetch) return kept.map((r) => ({ id: r.id, score: round(-r.score) }));
  // Few of the best matches are visible: score only the visible ones. A join, not `rowid IN (subquery)`, which
  // SQLite re-runs per match (quadratic on common terms).
  const rows = sql(
    core.db,
    `SELECT f.rowid AS id, bm25(records_fts) AS score FROM records_fts f JOIN records r ON r.id = f.rowid
      WHERE records_fts MATCH ? AND r.context = ? AND r.scope_key IN (${input.scopeKeys.map(() => "?").join(",")})
        AND r.status IN ('current', 'flagged') AND (r.expires_at IS NULL OR r.expires_at > ?)
      ORDER BY score LIMIT ?`,
  ).all(match, core.context, ...input.scopeKeys, input.now, CANDIDATES) as { id: number; score: number }[];
  return rows.map((r) => ({ id: r.id, score: round(-r.score) }));
}

export const round = (x: number) => Math.round(x * 1e4) / 1e4;
