import type { Core } from "../core.js";
import { PRIORITY } from "../core.js";
import { reflectionPrompt, type ReflectionRecord } from "../models/prompts/reflection.js";
import { toId, tryParseId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { NeighbourDecision, RecordRow, TraceActor } from "../store/store.js";

/** The store's exact-search line for a scope (store/sqlite/record-search.ts): never search exactly below it. */
const EXACT_SCOPE_LIMIT = 300;

const NEIGHBOURS = 5;
/** Neighbours less similar than this are not worth a model call. */
const MIN_SIMILARITY = 0.35;
/**
 * Up to this many live records in the record's scope, its neighbours are found by an exact scan of that scope
 * (~0.3 µs a vector already in memory) rather than hnswlib filtered to it: a filter that passes one scope's
 * share of a large Context makes hnswlib visit most of the graph, so ingest slowed as other users' data grew
 * (LoCoMo: 4.2 ms a turn for the first conversation in a shared store, 26.6 ms for the tenth). The same bound
 * as exactSearch's point lookups: above it, it scans the whole Context partition. Never below EXACT_SCOPE_LIMIT,
 * where nearestRecords searches exactly anyway.
 */
const SCOPE_EXACT_LIMIT = 2_000;

const view = (r: RecordRow): ReflectionRecord => ({
  id: toId("record", r.id),
  text: r.text,
  subject: r.subject,
  attribute: r.attribute,
  value: r.value,
  created_at: new Date(r.created_at).toISOString(),
  confidence: r.confidence,
});

/**
 * The background reconciliation pass (reflection stage): each new record is compared with its nearest live
 * neighbours in the same scope; the model's decisions (duplicate, contradicts, conflict) are applied through
 * the reconciler. Runs on the scheduler after ingest returns; `memory.idle()` waits for it. A model failure
 * changes nothing (the records stay as the synchronous reconciler left them) and is logged.
 */
export function scheduleReflection(core: Core, recordIds: readonly number[], actor: TraceActor, parentTrace: number): void {
  if (recordIds.length === 0) return;
  core.queue.defer(() => reflect(core, recordIds, actor, parentTrace), PRIORITY.reflection, "Background reconciliation (records left as written)");
}

async function reflect(core: Core, recordIds: readonly number[], actor: TraceActor, parentTrace: number): Promise<void> {
  const { store } = core;
  // Exact scans only for a scope that is a small share of the file (MAX(id) bounds it without a scan): when it
  // is most of it, hnswlib's filter passes most of the graph and its search stays cheap.
  const fileSize = await store.maxRecordId();
  const exactLimit = Math.max(EXACT_SCOPE_LIMIT, Math.min(SCOPE_EXACT_LIMIT, Math.floor(fileSize / 4)));
  for (const id of recordIds) {
    const record = await store.getRecord(id);
    if (!record || record.status !== "current" || !record.embedding_model) continue;
    const vector = await store.recordVector(id, record.embedding_model);
    if (!vector) continue;
    const near = (
      await store.nearestRecords({
        model: record.embedding_model,
        vector,
        k: NEIGHBOURS,
        filter: { scopeKeys: [record.scope_key], now: core.now(), exceptId: id, includeExpired: true },
        exactLimit,
      })
    ).hits.filter((h) => 1 - h.distance >= MIN_SIMILARITY);
    if (near.length === 0) continue;
    const neighbours = (await store.getRecords(near.map((h) => h.label))).sort((a, b) => near.findIndex((h) => h.label === a.id) - near.findIndex((h) => h.label === b.id));
    const result = await core.model("reflection").generate(reflectionPrompt, { record: view(record), neighbours: neighbours.map(view) });
    core.recordUsage("reflection", result.usage);
    const allowed = new Set(neighbours.map((n) => n.id));
    const decisions: NeighbourDecision[] = [];
    for (const d of result.value.decisions) {
      const n = tryParseId("record", d.neighbour_id);
      // Only ids we offered: a model cannot reach outside the neighbours it was shown.
      if (n !== undefined && allowed.has(n) && d.relation !== "unrelated") decisions.push({ neighbour: n, relation: d.relation, reason: d.reason });
    }
    if (decisions.length === 0) continue;
    await store.applyNeighbourDecisions({
      recordId: id,
      decisions,
      actor,
      scope: parseScopeKey(record.scope_key),
      now: core.now(),
      parentTrace,
      provenance: { prompt: `${reflectionPrompt.name}@${reflectionPrompt.version}`, usage: result.usage },
    });
  }
}
