import type { ModelUsage } from "../models/types.js";
import type { Scope } from "./inputs.js";

/**
 * Traces as callers read them: one interface per kind, discriminated by `kind`, so that
 * `if (trace.kind === "decision_trace") trace.payload.outcomes` needs no cast. Payload fields that a principal's
 * view may cut (traces/cut-to-grants.ts) are nullable: `prompt`, `answer`, `insights`, `extraction`, and a
 * `source` or `reused_from` naming what the reader may not read.
 */
interface TraceBase {
  id: string;
  principal: string | null;
  on_behalf_of: string | null;
  session: string | null;
  scope: Record<string, string> | null;
  created_at: string;
  /**
   * True when parts of the trace were cut because they cite what the reader may not read: entries naming such
   * records, chunks, documents, turns or traces are removed, and `prompt`, `answer`, `insights` and `extraction`
   * are null when the trace drew on any of them. Always false for the application.
   */
  redacted: boolean;
}

/** An id with the score it was ranked by. */
export interface ScoredId {
  id: string;
  score: number;
}

/** What a decision did to one record. */
export interface DecisionOutcome {
  record_id: string;
  outcome: "created" | "updated" | "superseded" | "flagged" | "forgotten";
  text: string;
  confidence?: number;
  trust?: number;
  superseded_by?: string;
  /** `state.update`: what the record said before. */
  previous?: { text: string; value: string | null };
}

/** A write: extraction and reconciliation of a turn or document, reflect, a background decision, an edit or a forget. */
export interface DecisionTracePayload {
  /** What wrote: `turn`, `document`, `reflect`, `reflection` (the background pass), `update`, `forget`, … */
  source: { kind: string; id: string | null; key?: string | null; trust?: number } | null;
  scope?: Scope;
  principal?: string | null;
  on_behalf_of?: string | null;
  session?: string | null;
  /** The facts as the extraction stage returned them. */
  extraction?: unknown[] | null;
  provenance?: Record<string, unknown>;
  /** The background pass's decisions about neighbours. */
  decisions?: { neighbour: string; relation: string; reason: string }[];
  outcomes: DecisionOutcome[];
  evicted_cache_entries?: number;
  calibration?: unknown[];
}

/** A ranked read: what each channel found, what was fused and returned. */
export interface RetrievalTracePayload {
  query: string;
  /** How the query was understood (type, subjects, attributes, keywords). */
  understanding: Record<string, unknown>;
  /** What each channel found before fusion. */
  candidates: { vector: ScoredId[]; fts: ScoredId[]; graph: ScoredId[] };
  vector_path: "exact" | "ann" | "none";
  feedback: ScoredId[];
  fused: ScoredId[];
  returned: string[];
  chunks: ScoredId[];
  passages: ScoredId[];
  /** The model of each stage used. */
  model: Record<string, string | undefined>;
}

/**
 * An answer: recall at any tier, reflect (`kind: "reflect"`) or chat (`kind: "chat"`). A cached answer (tiers 1
 * and 2) is recorded in the spec's shape `{ query, tier, cached, similarity, response }`; a tier-3 answer has
 * `message`, `answer` and `used`.
 */
export interface ResponseTracePayload {
  message?: string;
  query?: string;
  kind?: "reflect" | "chat";
  prompt?: string | null;
  answer?: string | null;
  /** A cached answer (tiers 1 and 2): the answer repeated. */
  response?: string | null;
  /** The records the response stage says it used (tier 3): what reinforcement and cache dependencies follow. */
  used?: string[];
  tier?: 1 | 2 | 3;
  cached?: boolean;
  similarity?: number | null;
  /** The response trace a reused answer repeats. */
  reused_from?: string | null;
  /** The records a reused answer cites. */
  records?: string[];
  /** reflect: the observations written from the answer. */
  insights?: string[] | null;
  tokens: { input: number; output: number };
  cost_usd?: number;
  latency_ms?: number;
  usage?: Record<string, ModelUsage>;
  model_calls: number;
}

/** A sweep: decay or expiry (one trace per step of a sweep), consolidation or elaboration. */
export interface SweepTracePayload {
  sweep: "decay" | "expire" | "consolidate" | "elaborate";
  changed?: number;
  /** False when the sweep continues in another step. */
  complete: boolean;
  /** decay: the daily factor per memory category. */
  factors?: Record<string, number>;
  /** expire: cached answers evicted. */
  evicted_cache_entries?: number;
}

export interface DecisionTrace extends TraceBase {
  kind: "decision_trace";
  payload: DecisionTracePayload;
}
export interface RetrievalTrace extends TraceBase {
  kind: "retrieval_trace";
  payload: RetrievalTracePayload;
}
export interface ResponseTrace extends TraceBase {
  kind: "response_trace";
  payload: ResponseTracePayload;
}
export interface SweepTrace extends TraceBase {
  kind: "sweep_trace";
  payload: SweepTracePayload;
}

/** A trace, narrowed by `kind`. */
export type Trace = DecisionTrace | RetrievalTrace | ResponseTrace | SweepTrace;

/** An edge of the trace graph: out (what it considered, returned, created…) or in (what points at it). */
export interface TraceEdge {
  kind: string;
  direction: "out" | "in";
  node: { type: string; id: string };
}

/** `traces.get(id)`: the trace with its edges. */
export type TraceWithEdges = Trace & { edges: TraceEdge[] };
