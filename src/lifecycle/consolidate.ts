import type { Core } from "../core.js";
import { REINFORCEMENT } from "../config/defaults.js";
import { NO_ANSWER } from "../models/local/composer.js";
import { backgroundPrompt } from "../models/prompts/background.js";
import { toId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { Cluster, RecordRow, TraceActor } from "../store/store.js";
import { budgetedCall } from "./budget.js";

/** What consolidation uses: a budgeted background call, the embedding model, the retention rules, the scheduler. */
export type ConsolidateDeps = Pick<Core, "store" | "models" | "settings" | "queue" | "now">;

/** Live facts about one subject's attribute in one scope that make a cluster worth an observation. */
const MIN_CLUSTER = 2;
/** Clusters summarised per sweep at most (the most recently grown first); the next sweep takes the rest. */
const CLUSTERS_PER_SWEEP = 50;
/** Members shown to the model per cluster at most (the most recent). */
const MEMBERS_PER_CLUSTER = 12;
/** Response traces read per sweep for reinforcement; the next sweep continues from the last one read. */
const ANSWERS_PER_SWEEP = 5_000;
const CATEGORY_RANK = { context: 0, knowledge: 1, identity: 2 } as const;

/** An observation's attribute: one per summarised attribute, single-valued, so a newer summary supersedes the last. */
export const observationAttribute = (attribute: string) => `${attribute}.summary`;

export interface ConsolidateResult {
  /** Observation records written (created, or an identical one restated). */
  observations: number;
  /** Records reinforced because answers used them since the last consolidation. */
  reinforced: number;
  /** Clusters the budget left for a later window. */
  deferred: number;
  traceId: string;
}

/**
 * Consolidation (source.kind "consolidation"): related facts (live records of one scope about the same subject
 * and attribute) become one observation record written through the reconciler, with `derived_from` its
 * members, `proof_count` the sum of theirs and a history entry naming them; a newer summary of the same cluster
 * supersedes the older one. The summaries are the `background` stage's work, under the budget. The sweep first
 * reinforces the records answers used since the last consolidation (importance × 1.1 per answer, capped at 1),
 * so that what answers rely on outlives what they never touched under decay. Writes a sweep_trace, parent of
 * each observation's decision_trace.
 */
export async function consolidate(core: ConsolidateDeps, actor: TraceActor): Promise<ConsolidateResult> {
  const { store } = core;
  const started = core.now();
  const { sweepId, reinforced, answers, through } = await store.beginConsolidation({
    actor,
    now: started,
    answers: ANSWERS_PER_SWEEP,
    factor: REINFORCEMENT,
    noAnswer: NO_ANSWER,
  });

  const clusters = await store.consolidationClusters({ now: started, minSize: MIN_CLUSTER, limit: CLUSTERS_PER_SWEEP });
  const written: string[] = [];
  let deferred = 0;
  let unchanged = 0;
  for (const [i, cluster] of clusters.entries()) {
    if (core.queue.stopped) break;
    const members = inOrder(cluster.ids.slice(-MEMBERS_PER_CLUSTER), await store.getRecords(cluster.ids.slice(-MEMBERS_PER_CLUSTER)));
    if (members.length < MIN_CLUSTER || (await alreadySummarised(core, cluster, members))) {
      unchanged++;
      continue;
    }
    const result = await budgetedCall(core, "background", "consolidation", backgroundPrompt, {
      records: members.map((m) => ({ id: toId("record", m.id), text: m.text })),
    });
    if (!result) {
      deferred = clusters.length - i;
      break;
    }
    const id = await writeObservation(core, cluster, members, result.value, actor, sweepId, {
      prompt: `${backgroundPrompt.name}@${backgroundPrompt.version}`,
      usage: result.usage,
    });
    if (id !== undefined) written.push(toId("record", id));
  }
  await store.updateTracePayload(sweepId, {
    sweep: "consolidate",
    observations: written,
    clusters: clusters.length,
    unchanged,
    deferred,
    reinforced,
    answers_read: answers,
    through_response_trace: through,
    complete: deferred === 0 && !core.queue.stopped,
  });
  return { observations: written.length, reinforced, deferred, traceId: toId("trace", sweepId) };
}

/** `rows` in the order of `ids` (the store does not keep it). */
function inOrder(ids: readonly number[], rows: readonly RecordRow[]): RecordRow[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** A live observation of the cluster already derives from exactly these members: nothing new to say. */
async function alreadySummarised(core: ConsolidateDeps, cluster: Cluster, members: readonly RecordRow[]): Promise<boolean> {
  const ids = members.map((m) => toId("record", m.id)).sort();
  const observations = await core.store.liveRecordsOfSlot({ scopeKey: cluster.scopeKey, subject: cluster.subject, attribute: observationAttribute(cluster.attribute) });
  return observations.some((o) => {
    const from = (JSON.parse(o.derived_from) as string[]).slice().sort();
    return o.source_kind === "consolidation" && from.length === ids.length && from.every((x, i) => x === ids[i]);
  });
}

async function writeObservation(
  core: ConsolidateDeps,
  cluster: Cluster,
  members: readonly RecordRow[],
  summary: { observation: string; confidence: number },
  actor: TraceActor,
  sweepId: number,
  provenance: Record<string, unknown>,
): Promise<number | undefined> {
  const text = summary.observation.trim();
  if (!text) return undefined;
  const embedder = core.models.embedder();
  const embedded = await embedder.embed([text], { signal: core.queue.signal });
  core.models.recordUsage("embedding", embedded.usage);
  const category = members.reduce((best, m) => (CATEGORY_RANK[m.memory_category] > CATEGORY_RANK[best] ? m.memory_category : best), members[0]!.memory_category);
  const names = await core.store.entityNames(members.map((m) => m.id));
  const entities = [...new Set(members.flatMap((m) => names.get(m.id) ?? []))];
  const { recordId } = await core.store.writeObservation({
    facts: {
      scope: parseScopeKey(cluster.scopeKey),
      scopeKey: cluster.scopeKey,
      facts: [
        {
          kind: "observation",
          memory_category: category,
          subject: cluster.subject,
          attribute: observationAttribute(cluster.attribute),
          value: text,
          cardinality: "one",
          text,
          confidence: summary.confidence,
          entities,
        },
      ],
      derivedFrom: members.map((m) => m.id),
      vectors: embedded.vectors,
      embeddingModel: embedder.id,
      source: { kind: "consolidation", id: toId("trace", sweepId), key: null, node: { type: "trace", id: sweepId } },
      actor,
      retention: core.settings.current().retention,
      now: core.now(),
      provenance,
      parentTrace: sweepId,
    },
    members: members.map((m) => m.id),
    proofCount: members.reduce((s, m) => s + m.proof_count, 0),
  });
  return recordId;
}
