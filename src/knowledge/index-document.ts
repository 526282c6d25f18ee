import type { Core } from "../core.js";
import { NotFoundError, SpectronError } from "../errors.js";
import { extractionPrompt, type ExtractedFact } from "../models/prompts/extraction.js";
import type { EmbeddingModel } from "../models/types.js";
import type { IngestResult } from "../pipeline/ingest.js";
import type { DocumentRow, Store } from "../store/store.js";
import { toId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import { toPublicRecord } from "../state/public-record.js";
import { reportProgress, type OnProgress } from "../config/progress.js";

/** What indexing a document uses: the extraction and embedding models, the store, the retention rules. */
export type IndexDocumentDeps = Pick<Core, "store" | "models" | "settings" | "now" | "logger">;

export interface KnowledgeAddResult {
  documentId: string;
  chunks: number;
  /** Knowledge records extracted from the document, with their reconciliation outcome. */
  records: IngestResult["records"];
  traceId: string;
}

/**
 * Indexing attempts after which a document is `failed`: the background retry leaves it alone (each attempt
 * pays for an embedding call and one extraction call per chunk), `knowledge.retry()` still tries it. An
 * attempt is counted when it starts, so a document whose indexing crashes the process is not retried forever.
 */
export const MAX_DOCUMENT_ATTEMPTS = 5;

/**
 * Since a process working on a document marks it when an attempt starts and then, after a model call, whenever
 * a quarter of this has passed, a pending document untouched for this long (by the injected clock) has no
 * attempt running anywhere (barring one model call slower than this): the background retry may take it.
 */
export const DOCUMENT_IDLE_MS = 60_000;

/** Documents an attempt in this process is working on, per instance: no second attempt starts beside one. */
const inFlight = new WeakMap<Store, Set<number>>();

function claim(core: IndexDocumentDeps, id: number): boolean {
  let set = inFlight.get(core.store);
  if (!set) inFlight.set(core.store, (set = new Set()));
  if (set.has(id)) return false;
  set.add(id);
  return true;
}

/**
 * The model half of `knowledge.add`, for a stored document whose attempt has been started: embeds its chunks,
 * extracts knowledge facts from each, then in one transaction writes the vectors, reconciles the facts and
 * marks it `indexed`. On a model failure the attempt is recorded as failed (the document stays `pending`, or
 * becomes `failed` after MAX_DOCUMENT_ATTEMPTS) and the error is rethrown. Idempotent: vectors are
 * overwritten, and a document indexed meanwhile (by another process) is left as it is.
 */
export async function indexDocument(core: IndexDocumentDeps, doc: DocumentRow, signal?: AbortSignal, onProgress?: OnProgress): Promise<KnowledgeAddResult> {
  if (!claim(core, doc.id)) throw new SpectronError("internal", `Document ${toId("document", doc.id)} is being indexed by this instance already.`);
  try {
    return await attempt(core, doc, signal, onProgress);
  } finally {
    inFlight.get(core.store)?.delete(doc.id);
  }
}

async function attempt(core: IndexDocumentDeps, doc: DocumentRow, signal: AbortSignal | undefined, onProgress: OnProgress | undefined): Promise<KnowledgeAddResult> {
  const chunks = await core.store.documentChunks(doc.id);
  const pieces = chunks.map((c) => c.text);
  const progress = (phase: "embed" | "extract" | "store", done: number, total: number) => reportProgress(onProgress, { phase, done, total }, core.logger);
  const options = signal ? { signal } : {};
  // At most every quarter of DOCUMENT_IDLE_MS: a commit per chunk would double the cost of a local-model add.
  let touched = core.now();
  const touch = async () => {
    const now = core.now();
    if (now - touched < DOCUMENT_IDLE_MS / 4) return;
    touched = now;
    await core.store.touchDocument(doc.id, now);
  };
  let embedder: EmbeddingModel;
  let chunkVectors: Float32Array[];
  let factVectors: Float32Array[] = [];
  const facts: ExtractedFact[] = [];
  try {
    embedder = core.models.embedder();
    progress("embed", 0, pieces.length);
    const embedded = await embedder.embed(pieces, options);
    core.models.recordUsage("embedding", embedded.usage);
    chunkVectors = embedded.vectors;
    progress("embed", pieces.length, pieces.length);
    await touch();
    const model = core.models.model("extraction");
    for (const [n, piece] of pieces.entries()) {
      const extraction = await model.generate(extractionPrompt, { role: "user", content: piece, source: "document" }, options);
      core.models.recordUsage("extraction", extraction.usage);
      progress("extract", n + 1, pieces.length);
      await touch();
      for (const fact of extraction.value.facts) facts.push({ ...fact, memory_category: "knowledge" });
    }
    if (facts.length > 0) {
      const embeddedFacts = await embedder.embed(facts.map((f) => f.text), options);
      core.models.recordUsage("embedding", embeddedFacts.usage);
      factVectors = embeddedFacts.vectors;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const status = await core.store.failDocumentAttempt(doc.id, message, MAX_DOCUMENT_ATTEMPTS, core.now());
    const documentId = toId("document", doc.id);
    if (status === "failed") {
      core.logger.error(
        `Indexing a document failed ${MAX_DOCUMENT_ATTEMPTS} times or more; it is marked failed and no longer retried in the background (knowledge.retry() tries it again)`,
        { documentId, error: message },
      );
    } else {
      core.logger.warn("Indexing a document failed; it is kept as pending", { documentId, error: message });
    }
    throw error;
  }

  const documentId = toId("document", doc.id);
  const written = await core.store.indexDocument(
    doc.id,
    { model: embedder.id, vectors: chunkVectors },
    {
      scope: parseScopeKey(doc.scope_key),
      scopeKey: doc.scope_key,
      facts,
      vectors: factVectors,
      embeddingModel: embedder.id,
      source: { kind: "document", id: documentId, key: `document:${documentId}`, node: { type: "document", id: doc.id } },
      actor: { principal: doc.principal, onBehalfOf: doc.on_behalf_of, session: doc.session },
      retention: core.settings.current().retention,
      now: core.now(),
      provenance: { prompt: `${extractionPrompt.name}@${extractionPrompt.version}`, document: documentId, chunks: chunks.length },
      metadata: { document: documentId, title: doc.title },
    },
  );
  if (written === "gone") throw new NotFoundError("document", documentId);
  if (written === "indexed") throw new SpectronError("internal", `Document ${documentId} was indexed concurrently (by another process).`);
  progress("store", 1, 1);
  return {
    documentId,
    chunks: chunks.length,
    records: written.outcomes.map(({ record, outcome }) => ({ ...toPublicRecord(record), outcome })),
    traceId: toId("trace", written.traceId),
  };
}

/**
 * Indexes pending documents, oldest first, one after another (never through the queue: this may itself run as a
 * queued job). In the background (`includeFailed` false) it skips documents some process touched in the last
 * DOCUMENT_IDLE_MS and marks `failed` those whose attempts ran out (crashed attempts); `knowledge.retry()`
 * passes `includeFailed` and takes failed documents too. Documents this instance is working on are skipped.
 */
export async function retryDocuments(
  core: IndexDocumentDeps,
  { limit = 100, includeFailed = false, signal }: { limit?: number; includeFailed?: boolean; signal?: AbortSignal } = {},
): Promise<{ indexed: number; failed: number }> {
  const now = core.now();
  const candidates = [
    ...(await core.store.listDocuments({ status: "pending", limit, ...(includeFailed ? {} : { touchedBefore: now - DOCUMENT_IDLE_MS }) })),
    ...(includeFailed ? await core.store.listDocuments({ status: "failed", limit }) : []),
  ].slice(0, limit);
  let indexed = 0;
  let failed = 0;
  for (const doc of candidates) {
    if (signal?.aborted) break;
    if (inFlight.get(core.store)?.has(doc.id)) continue;
    if (!includeFailed && doc.attempts >= MAX_DOCUMENT_ATTEMPTS) {
      // Its last attempt never reported back: the process died during it.
      const error = doc.error ?? `${doc.attempts} indexing attempts did not finish (the process exited during them)`;
      await core.store.failDocumentAttempt(doc.id, error, MAX_DOCUMENT_ATTEMPTS, core.now());
      core.logger.error("A document whose indexing never finished is marked failed (knowledge.retry() tries it again)", { documentId: toId("document", doc.id) });
      continue;
    }
    await core.store.startDocumentAttempt(doc.id, core.now());
    try {
      await indexDocument(core, { ...doc, attempts: doc.attempts + 1 }, signal);
      indexed += 1;
    } catch (error) {
      if (error instanceof NotFoundError) continue;
      failed += 1;
    }
  }
  return { indexed, failed };
}
