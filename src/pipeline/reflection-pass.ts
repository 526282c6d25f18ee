import type { Core } from "../core.js";
import { PRIORITY, type Scheduler } from "../lifecycle/scheduler.js";
import { budgetedCall } from "../lifecycle/budget.js";
import { oppositeAttribute } from "../models/attributes.js";
import { batchReflectionPrompt, type ReflectionInput, type ReflectionRecord } from "../models/prompts/reflection.js";
import { toId, tryParseId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { NeighbourDecision, RecordRow, TraceActor } from "../store/store.js";

/** What the background reconciliation pass uses (the scheduler it runs on, and a budgeted model call). */
export type ReflectionPassDeps = Pick<Core, "store" | "queue" | "models" | "now">;

/** Neighbours offered per new record at most. */
const NEIGHBOURS = 5;
/**
 * A neighbour of another subject or attribute is offered to the model only above this cosine similarity: a
 * near restatement the synchronous reconciler's exact-text check missed. Below it, two records with different
 * subjects or attributes cannot contradict each other by the reconciler's own rules (models/attributes.ts), so
 * a call about them is money spent on "unrelated" (at 0.35, the previous bar, it was 2.1 calls a LoCoMo turn).
 */
export const HIGH_SIMILARITY = 0.9;
/** New records per model call at most: one prompt stays well under any model's context. */
const RECORDS_PER_CALL = 20;
/** Backlog items taken up per pass. */
const BACKLOG_BATCH = 100;

export interface PassItem {
  recordId: number;
  actor: TraceActor;
  parentTrace: number;
}

/** Records waiting for the next pass, per instance: the new records of every turn ingested meanwhile. */
const waiting = new WeakMap<Scheduler, PassItem[]>();

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
 * The background reconciliation pass (reflection stage). The new records of a turn join those of the turns
 * ingested while the pass waits its turn on the scheduler; one job then compares them all with the records
 * they could conflict with (same subject and attribute or its opposite, or a near restatement) and asks the
 * model about every such pair in one call (RECORDS_PER_CALL records a call). A record with no such candidate
 * costs nothing. The decisions are applied through the reconciler. A call the budget cannot afford leaves its
 * records in the backlog for a later window; a model failure changes nothing and is logged.
 */
export function scheduleReflection(core: ReflectionPassDeps, recordIds: readonly number[], actor: TraceActor, parentTrace: number): void {
  if (recordIds.length === 0) return;
  const items = waiting.get(core.queue);
  const added = recordIds.map((recordId) => ({ recordId, actor, parentTrace }));
  if (items) {
    items.push(...added);
  } else {
    // Set before `defer`: the queue may start the job at once, and it takes what is waiting.
    waiting.set(core.queue, added);
    core.queue.defer(
      () => {
        const batch = waiting.get(core.queue) ?? [];
        waiting.delete(core.queue);
        return reconcileInBackground(core, batch);
      },
      PRIORITY.reflection,
      "Background reconciliation (records left as written)",
    );
  }
}

/** Takes up the backlog the budget left (oldest first) when the window can afford it. */
export async function drainBacklog(core: ReflectionPassDeps): Promise<number> {
  let done = 0;
  while (!core.queue.stopped) {
    const items = await core.store.takeFromBacklog(BACKLOG_BATCH);
    if (items.length === 0) break;
    const deferred = await core.queue.add(() => reconcileInBackground(core, items), { priority: PRIORITY.reflection });
    done += items.length - deferred;
    if (deferred > 0) break;
  }
  return done;
}

/** Runs the pass over `items`; resolves with how many the budget deferred to the backlog. */
export async function reconcileInBackground(core: ReflectionPassDeps, items: readonly PassItem[]): Promise<number> {
  const candidates = await findCandidates(core, items);
  let deferred = 0;
  for (let i = 0; i < candidates.length; i += RECORDS_PER_CALL) {
    if (core.queue.stopped) {
      // Closing: what is left waits in the backlog for the next open.
      deferred += await defer(core, candidates.slice(i));
      break;
    }
    const chunk = candidates.slice(i, i + RECORDS_PER_CALL);
    const result = await budgetedCall(core, "reflection", "reconciliation", batchReflectionPrompt, {
      items: chunk.map((c) => ({ record: view(c.record), neighbours: c.neighbours.map(view) }) satisfies ReflectionInput),
    });
    if (!result) {
      deferred += await defer(core, candidates.slice(i));
      break;
    }
    const byRecord = new Map(chunk.map((c) => [toId("record", c.record.id), c]));
    const decisions = new Map<number, NeighbourDecision[]>();
    for (const d of result.value.decisions) {
      const c = byRecord.get(d.record_id);
      const n = tryParseId("record", d.neighbour_id);
      // Only pairs we offered: a model cannot reach outside the neighbours it was shown.
      if (!c || n === undefined || !c.neighbours.some((x) => x.id === n) || d.relation === "unrelated") continue;
      const list = decisions.get(c.record.id) ?? [];
      if (!list.some((x) => x.neighbour === n)) list.push({ neighbour: n, relation: d.relation, reason: d.reason });
      decisions.set(c.record.id, list);
    }
    for (const c of chunk) {
      const list = decisions.get(c.record.id);
      if (!list) continue;
      const record = c.record;
      // The engine tells the vector index of what the decisions changed (a superseded record's vector goes).
      await core.store.applyNeighbourDecisions({
        recordId: record.id,
        decisions: list,
        actor: c.item.actor,
        scope: parseScopeKey(record.scope_key),
        now: core.now(),
        parentTrace: c.item.parentTrace,
        provenance: {
          prompt: `${batchReflectionPrompt.name}@${batchReflectionPrompt.version}`,
          usage: result.usage,
          batch: chunk.map((x) => toId("record", x.record.id)),
        },
      });
    }
  }
  return deferred;
}

interface Candidate {
  item: PassItem;
  record: RecordRow;
  neighbours: RecordRow[];
}

async function defer(core: ReflectionPassDeps, rest: readonly Candidate[]): Promise<number> {
  await core.store.addToBacklog(rest.map((c) => c.item), core.now());
  return rest.length;
}

/**
 * Each still-current record with the live records of its scope it could conflict with: the same subject and
 * attribute (or its opposite) first, then near restatements (store: never beyond the record's own scope, so the
 * cost does not grow with the rest of the Context).
 */
async function findCandidates(core: ReflectionPassDeps, items: readonly PassItem[]): Promise<Candidate[]> {
  const { store } = core;
  // A record's first item wins (its actor and parent trace).
  const firsts = new Map<number, PassItem>();
  for (const item of items) if (!firsts.has(item.recordId)) firsts.set(item.recordId, item);
  const rows = new Map((await store.getRecords([...firsts.keys()])).map((r) => [r.id, r]));
  const records = [...firsts.values()].flatMap((item) => {
    const record = rows.get(item.recordId);
    return record && record.status === "current" && record.kind !== "observation" ? [{ item, record }] : [];
  });
  const found = await store.neighbourCandidates(
    records.map(({ record }) => {
      const opposite = record.attribute ? oppositeAttribute(record.attribute) : undefined;
      return {
        recordId: record.id,
        scopeKey: record.scope_key,
        subject: record.subject && record.attribute ? record.subject : null,
        attributes: record.subject && record.attribute ? (opposite ? [record.attribute, opposite] : [record.attribute]) : [],
        model: record.embedding_model,
      };
    }),
    HIGH_SIMILARITY,
  );
  const out: Candidate[] = [];
  for (const { item, record } of records) {
    const near = new Map<number, number>();
    const candidates = found.get(record.id);
    for (const id of candidates?.sameSlot ?? []) near.set(id, 2); // ranks before any similarity
    for (const hit of candidates?.similar ?? []) if (!near.has(hit.id)) near.set(hit.id, hit.similarity);
    if (near.size === 0) continue;
    const chosen = [...near].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, NEIGHBOURS).map(([id]) => id);
    const byId = new Map((await store.getRecords(chosen)).map((r) => [r.id, r]));
    const neighbours = chosen.flatMap((id) => byId.get(id) ?? []).filter((n) => n.status === "current" || n.status === "flagged");
    if (neighbours.length > 0) out.push({ item, record, neighbours });
  }
  return out;
}
