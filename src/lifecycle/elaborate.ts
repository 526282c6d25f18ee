import type { Core } from "../core.js";
import { elaborationPrompt, type ElaborationPair } from "../models/prompts/elaboration.js";
import { toId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { EntityPair, TraceActor } from "../store/store.js";
import { budgetedCall } from "./budget.js";

/** What elaboration uses: a budgeted background call, the embedding model, the retention rules, the scheduler. */
export type ElaborateDeps = Pick<Core, "store" | "models" | "settings" | "queue" | "now">;

/** Recent decision traces read for co-occurrence. */
const TRACES_READ = 5_000;
/** Traces in which two entities must have come up together before a link is proposed. */
const MIN_CO_OCCURRENCE = 2;
/** Turn records read for document–turn bridges. */
const BRIDGE_ROWS = 2_000;
/** Pairs proposed per sweep at most, and per model call. */
const PAIRS_PER_SWEEP = 60;
const PAIRS_PER_CALL = 12;
const EVIDENCE_PER_PAIR = 4;

export interface ElaborateResult {
  /** Relation records written. */
  relations: number;
  /** Pairs the model found nothing to relate (not proposed again). */
  rejected: number;
  /** Pairs the budget left for a later window. */
  deferred: number;
  traceId: string;
}

/**
 * Elaboration (source.kind "elaboration"): entities that decision traces examined together (in at
 * least two traces, `decision_trace.considered` co-occurrence) and entities a document and a conversation
 * connect through a third, when no record links them yet, go to the `background` stage in batches; each
 * relation it proposes is written through the reconciler as a `relation` record (subject, `attribute` the
 * relation, `value` the other entity, `derived_from` the evidence), with an entity → entity edge; a pair it
 * finds nothing for gets an `elaboration:none` edge so that it is not asked again. Writes a sweep_trace, parent
 * of each relation's decision_trace.
 */
export async function elaborate(core: ElaborateDeps, actor: TraceActor): Promise<ElaborateResult> {
  const { store } = core;
  const started = core.now();
  const sweepId = await store.startSweep({ actor, payload: { sweep: "elaborate", complete: false }, now: started });
  const pairs = await candidatePairs(core);
  const names = await store.entityNamesById([...new Set(pairs.flatMap((p) => [p.a, p.b, ...(p.via !== undefined ? [p.via] : [])]))]);
  const written: string[] = [];
  let rejected = 0;
  let deferred = 0;
  for (let i = 0; i < pairs.length; i += PAIRS_PER_CALL) {
    if (core.queue.stopped) break;
    const chunk = pairs.slice(i, i + PAIRS_PER_CALL);
    const shown: ElaborationPair[] = [];
    for (const [j, p] of chunk.entries()) {
      const ids = p.evidence.slice(0, EVIDENCE_PER_PAIR);
      const byId = new Map((await store.getRecords(ids)).map((r) => [r.id, r]));
      const evidence = ids.flatMap((id) => byId.get(id) ?? []).map((r) => ({ id: toId("record", r.id), text: r.text }));
      shown.push({ id: `p${j + 1}`, a: names.get(p.a) ?? String(p.a), b: names.get(p.b) ?? String(p.b), ...(p.via !== undefined ? { via: names.get(p.via) ?? "" } : {}), evidence });
    }
    const result = await budgetedCall(core, "background", "elaboration", elaborationPrompt, { pairs: shown });
    if (!result) {
      deferred = pairs.length - i;
      break;
    }
    const provenance = { prompt: `${elaborationPrompt.name}@${elaborationPrompt.version}`, usage: result.usage };
    for (const [j, pair] of chunk.entries()) {
      const proposal = result.value.proposals.find((p) => p.pair_id === shown[j]!.id);
      const relation = proposal?.relation.trim().toLowerCase().replace(/[^a-z0-9_]+/g, "_");
      if (!proposal || !relation || relation === "none" || !proposal.text.trim()) {
        await store.rejectEntityPair({ a: pair.a, b: pair.b, now: core.now() });
        rejected++;
        continue;
      }
      const id = await writeRelation(core, pair, shown[j]!, relation, proposal.text.trim(), proposal.confidence, actor, sweepId, provenance);
      if (id !== undefined) written.push(toId("record", id));
    }
  }
  await store.updateTracePayload(sweepId, {
    sweep: "elaborate",
    candidates: pairs.length,
    relations: written,
    rejected,
    deferred,
    complete: deferred === 0 && !core.queue.stopped,
  });
  return { relations: written.length, rejected, deferred, traceId: toId("trace", sweepId) };
}

/** Co-considered pairs first, then document–turn bridges; only pairs no record or earlier elaboration links. */
async function candidatePairs(core: ElaborateDeps): Promise<EntityPair[]> {
  const { store } = core;
  const out: EntityPair[] = [];
  const seen = new Set<string>();
  const take = async (p: EntityPair) => {
    const key = `${p.scopeKey}\u0000${Math.min(p.a, p.b)}\u0000${Math.max(p.a, p.b)}`;
    if (p.a === p.b || seen.has(key) || out.length >= PAIRS_PER_SWEEP || (await store.entitiesLinked(p.a, p.b))) return;
    seen.add(key);
    out.push(p);
  };
  for (const p of await store.coConsideredPairs({ traces: TRACES_READ, minCount: MIN_CO_OCCURRENCE })) await take(p);
  if (out.length >= PAIRS_PER_SWEEP) return out;
  const bridges = await store.documentTurnBridges(BRIDGE_ROWS);
  if (bridges.length === 0) return out;
  const userEntity = await store.ensureEntity({ name: "User", normName: "user", now: core.now() });
  for (const b of bridges) {
    const own = b.subject === "user" ? [...b.turnEntities, userEntity] : b.turnEntities;
    for (const x of own) for (const y of b.docEntities) await take({ scopeKey: b.scopeKey, a: x, b: y, count: 1, evidence: [b.turnRecord, b.docRecord], via: b.via });
    if (out.length >= PAIRS_PER_SWEEP) break;
  }
  return out;
}

async function writeRelation(
  core: ElaborateDeps,
  pair: EntityPair,
  shown: ElaborationPair,
  relation: string,
  text: string,
  confidence: number,
  actor: TraceActor,
  sweepId: number,
  provenance: Record<string, unknown>,
): Promise<number | undefined> {
  const embedder = core.models.embedder();
  const embedded = await embedder.embed([text], { signal: core.queue.signal });
  core.models.recordUsage("embedding", embedded.usage);
  const subject = shown.a.toLowerCase() === "user" ? "user" : shown.a.toLowerCase();
  const result = await core.store.writeRelation({
    facts: {
      scope: parseScopeKey(pair.scopeKey),
      scopeKey: pair.scopeKey,
      facts: [
        {
          kind: "relation",
          memory_category: "knowledge",
          subject,
          attribute: relation,
          value: shown.b,
          cardinality: "many",
          text,
          confidence,
          entities: [...(subject === "user" ? [] : [shown.a]), shown.b, ...(shown.via ? [shown.via] : [])],
        },
      ],
      derivedFrom: pair.evidence.slice(0, EVIDENCE_PER_PAIR),
      vectors: embedded.vectors,
      embeddingModel: embedder.id,
      source: { kind: "elaboration", id: toId("trace", sweepId), key: null, node: { type: "trace", id: sweepId } },
      actor,
      retention: core.settings.current().retention,
      now: core.now(),
      provenance,
      parentTrace: sweepId,
    },
    a: pair.a,
    b: pair.b,
    relation,
  });
  return result.outcomes.find((o) => o.outcome === "created" || o.outcome === "updated")?.record.id;
}
