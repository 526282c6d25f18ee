import type { Scope } from "../../store/scope.js";
import type { TraceActor } from "../../store/store.js";
import type { MemoryRecord } from "../../state/public-record.js";

export interface RecallResult {
  answer: string;
  /** 1: direct lookup, 2: semantic response cache, 3: hybrid retrieval + response model. */
  tier: 1 | 2 | 3;
  cached: boolean;
  /** Cosine similarity to the reused query (tier 2). */
  similarity?: number;
  records: MemoryRecord[];
  /** Document chunks the answer drew on (tier 3), or that the reused answer cited. */
  chunks: RecalledChunk[];
  traceId: string;
}

export interface RecalledChunk {
  id: string;
  document_id: string;
  title: string;
  text: string;
}

export interface RecallRequest {
  query: string;
  scope: Scope;
  /** Record scope keys this caller reads at `scope` (access.readableScopeKeys). */
  readable: string[];
  /** Where this caller's answers are cached (access.cacheScopeKey): the exact scope, plus its grants' digest. */
  cacheKey: string;
  limit: number;
  actor: TraceActor;
  signal?: AbortSignal;
}

