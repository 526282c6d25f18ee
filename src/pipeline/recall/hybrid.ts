import type { Core } from "../../core.js";
import type { QueryUnderstanding } from "../../models/prompts/query-understanding.js";
import type { ChunkRow, PassageRow, RecordRow } from "../../store/store.js";
import { tryParseId } from "../../store/ids.js";
import { combSum, normalizeScores } from "./fuse.js";
import { dispatchRecords } from "./dispatch.js";
import { turnTimeFactor, timeCues } from "./time-cues.js";

/** What tier-3 retrieval uses: the store's channels, and whether traces feed back into ranking. */
export type RetrieveDeps = Pick<Core, "store" | "feedback">;

/** Past queries at least this similar lend the records they returned a boost (ranking feedback)… */
const FEEDBACK_SIMILAR = 0.8;
/** …among the most recent this many in scope. */
const FEEDBACK_RECENT = 2_000;
/** At most this many document chunks go to the response model alongside the records. */
const CHUNKS = 3;

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
  /** The live passages of the candidates' turns, by turn id (a record's speaker is its turn's). */
  turns: ReadonlyMap<number, PassageRow>;
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
export async function retrieve(core: RetrieveDeps, input: RetrievalInput): Promise<Retrieval> {
  const { store } = core;
  const text = { query: input.query, keywords: input.understanding.keywords };
  const passageHits = await store.passageCandidates({ text, scopeKeys: input.scopeKeys, now: input.now, candidates: CANDIDATES });
  const channels = await store.recordCandidates({
    filter: { scopeKeys: input.scopeKeys, now: input.now },
    text: { ...text, subjects: input.understanding.subjects, attributes: input.understanding.attributes },
    ...(input.vector ? { vector: { model: input.embeddingModel, vector: input.vector, enough: Math.min(CANDIDATES, input.limit * 2) } } : {}),
    turnIds: passageHits.map((p) => p.id),
    candidates: CANDIDATES,
  });
  const vector = { list: channels.vector, path: channels.vectorPath };
  const { fts, graph } = channels;

  const weights = channelWeights(input.embeddingModel);
  const recordScores = combSum(
    [normalizeScores(vector.list, "absolute"), normalizeScores(fts, "max"), normalizeScores(graph, "max")],
    [weights.vector, weights.fts, weights.graph],
  );
  const rawPassageScores = normalizeScores(passageHits, "max");
  // The records extracted from a matching passage are candidates too: what the turn says, they say.
  for (const id of channels.ofTurns) if (!recordScores.has(id)) recordScores.set(id, 0);
  // Importance as the caller last saw it: with the reinforcements of reads not yet committed (the engine's).
  const rows = await store.getRecords([...recordScores.keys()]);
  const turnIds = [...new Set([...passageHits.map((p) => p.id), ...rows.map(turnOf).filter((t): t is number => t !== undefined)])];
  const passages = new Map((await store.livePassages(turnIds, input.scopeKeys, input.now)).map((p) => [p.id, p]));
  // What the question says about time scales each candidate turn: its passage and the records it holds.
  const turnFactor = turnTimeFactor(timeCues(input.query), passages, weights, store);
  const passageScores = new Map([...rawPassageScores].map(([turn, score]) => [turn, score * turnFactor(turn)]));
  const boosts =
    core.feedback && input.vector
      ? await store.feedbackBoosts({ model: input.embeddingModel, vector: input.vector, scopeKeys: input.scopeKeys, similar: FEEDBACK_SIMILAR, recent: FEEDBACK_RECENT })
      : new Map<number, number>();
  const passageOf = (row: RecordRow) => passageScores.get(turnOf(row) ?? -1) ?? 0;
  const weighted = rows.map((row) => ({
    row,
    score: weigh(row, recordScores.get(row.id)! * turnFactor(turnOf(row)) + weights.passage * passageOf(row), boosts.get(row.id) ?? 0, input.now),
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
    records: await dispatchRecords(store, input.understanding.type, { scopeKeys: input.scopeKeys, now: input.now }, weighted.map((w) => w.row), input.limit),
    results: results.slice(0, input.limit),
    chunks: await store.chunkCandidates({
      text,
      scopeKeys: input.scopeKeys,
      ...(input.vector ? { vector: { model: input.embeddingModel, vector: input.vector } } : {}),
      candidates: CANDIDATES,
      limit: CHUNKS,
    }),
    candidates: { vector: vector.list, fts, graph },
    passages: passageHits,
    turns: passages,
    fused: weighted.map((w) => ({ id: w.row.id, score: round(w.score) })),
    feedback: [...boosts].map(([id, score]) => ({ id, score: round(score) })),
    vectorPath: vector.path,
    chunksFirst: input.understanding.type === "chunk",
  };
}

/** Newer first among equal scores, records before passages of the same id. */
const resultOrder = (r: RetrievalResult) => (r.kind === "record" ? r.row.id * 2 + 1 : r.passage.id * 2);

/** The turn a record was extracted from, if it came from one. */
export function turnOf(row: RecordRow): number | undefined {
  return row.source_kind === "turn" ? tryParseId("turn", row.source_id ?? "") : undefined;
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
    FUSION_WEIGHTS.feedback * Math.min(boost, 2) -
    (row.status === "flagged" || row.kind === "uncertainty" ? 0.03 : 0) -
    0.05 * (1 - row.trust);
  return fused * adjust;
}

/**
 * CombSUM weight of each channel's normalised scores (fuse.ts), tuned on the LoCoMo development split only
 * (bench/tune-fusion.ts). The entity graph is a weaker signal than text and vector similarity; so is the
 * offline hash embedder, which matches shared words only. `hashVector` stands in for `vector` then. Passages
 * weigh most: BM25 over the turns alone beat every record channel (dev R@10 0.613 vs 0.494 for records' FTS);
 * on dev samples 0–1 fused R@10 was 0.564 / 0.576 / 0.592 / 0.617 with passage weight 1 / 2 / 3 / 5. With the
 * turns' neighbour context on (passages.ts), passage 4 with records' FTS at 0.5 and the hash vector at 0.3 made the
 * fusion no worse than the passage channel alone in any category on dev (R@10 0.682 vs 0.676 at 3 / 1 / 0.5).
 * Replaying the bench's reads in order (bench/tune-search.ts: each search reinforces what it returned and
 * writes a trace that feeds ranking back), importance 0.15 let earlier questions' answers crowd later ones:
 * dev R@10 0.703 at 0.15, 0.706 at 0.05 (multi-hop 0.381 → 0.385). `timeAnswer` and `datedTurn`: the question's
 * time cues (time-cues.ts); dev R@10 0.674 with both 0, 0.695 with datedTurn 0.5, 0.699 with timeAnswer 0.3 and
 * datedTurn 0.5, 0.703 with 0.6 and 1 (temporal 0.800 → 0.861, single-hop 0.763 → 0.793), 0.705 with 1 and 1.5.
 */
export const FUSION_WEIGHTS = { vector: 1, hashVector: 0.3, fts: 0.5, graph: 0.2, passage: 4, importance: 0.05, feedback: 0.05, timeAnswer: 0.6, datedTurn: 1 };

function channelWeights(embeddingModel: string) {
  const w = FUSION_WEIGHTS;
  return {
    vector: embeddingModel.startsWith("local:hash") ? w.hashVector : w.vector,
    fts: w.fts,
    graph: w.graph,
    passage: w.passage,
    timeAnswer: w.timeAnswer,
    datedTurn: w.datedTurn,
  };
}

export const round = (x: number) => Math.round(x * 1e4) / 1e4;
