import type pg from "pg";
import { INITIAL_IMPORTANCE } from "../../config/defaults.js";
import { expiresAt } from "../../lifecycle/retention.js";
import { oppositeAttribute } from "../../models/attributes.js";
import { calibratedTrust } from "../../pipeline/calibration.js";
import type { Correction } from "../sources.js";
import { decisionEdges, decisionPayload, entitiesOf, recordTopics, restatement, retirement, standing, valueDuplicate } from "../reconcile-rules.js";
import { normalizeEntity, type NodeType } from "../graph.js";
import { toId } from "../ids.js";
import { appendHistory, normalizeText, type RecordRow } from "../records.js";
import { parseScopeKey, scopeContains } from "../scope.js";
import type { FactsWrite, FactsWritten, Outcome } from "../store.js";
import type { TraceActor, TraceKind } from "../traces.js";
import type { LoggedEntry } from "./change-feed.js";
import { one, query } from "./connection.js";
import { getRecord, RECORD_COLUMNS } from "./records-sql.js";
import { deleteVector, putVector, type VectorSet } from "./vector-sets.js";

/** What a write transaction carries: its client, its Context, and the change-log entries it will append. */
export interface Tx {
  client: pg.PoolClient;
  context: string;
  entries: LoggedEntry[];
  /** The vector set of (records, model), created before the transaction began. */
  recordSet(model: string): VectorSet | undefined;
}

export async function insertTrace(tx: Tx, kind: TraceKind, actor: TraceActor, scopeKey: string | null, payload: unknown, now: number): Promise<number> {
  const row = await one<{ id: number }>(
    tx.client,
    "INSERT INTO traces (context, kind, principal, on_behalf_of, session, scope_key, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    [tx.context, kind, actor.principal, actor.onBehalfOf, actor.session, scopeKey, JSON.stringify(payload), now],
  );
  return row!.id;
}

export async function addEdge(tx: Tx, src: { type: NodeType; id: number }, kind: string, dst: { type: NodeType; id: number | string }, now: number, weight: number | null = null): Promise<void> {
  await query(tx.client, "INSERT INTO edges (context, src_type, src_id, kind, dst_type, dst_id, weight, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", [
    tx.context, src.type, src.id, kind, dst.type, String(dst.id), weight, now,
  ]);
}

/** One edge of `addEdges`. */
export interface EdgeInput {
  src: { type: NodeType; id: number };
  kind: string;
  dst: { type: NodeType; id: number | string };
  weight?: number | null;
}

/** Several edges in one statement (one round trip), inserted in the order given. */
export async function addEdges(tx: Tx, edges: readonly EdgeInput[], now: number): Promise<void> {
  if (edges.length === 0) return;
  await query(
    tx.client,
    `INSERT INTO edges (context, src_type, src_id, kind, dst_type, dst_id, weight, created_at)
       SELECT $1, st, si, k, dt, di, w, $2
         FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::float8[]) WITH ORDINALITY AS e(st, si, k, dt, di, w, n)
        ORDER BY n`,
    [
      tx.context,
      now,
      edges.map((e) => e.src.type),
      edges.map((e) => e.src.id),
      edges.map((e) => e.kind),
      edges.map((e) => e.dst.type),
      edges.map((e) => String(e.dst.id)),
      edges.map((e) => e.weight ?? null),
    ],
  );
}

export async function updateRecord(tx: Tx, id: number, fields: Partial<Omit<RecordRow, "id" | "context">>): Promise<void> {
  const keys = Object.keys(fields) as (keyof typeof fields)[];
  if (keys.length === 0) return;
  await query(tx.client, `UPDATE records SET ${keys.map((k, i) => `${k} = $${i + 2}`).join(", ")} WHERE id = $1`, [id, ...keys.map((k) => fields[k])]);
}

async function liveByAttribute(tx: Tx, scopeKey: string, subject: string, attribute: string): Promise<RecordRow[]> {
  // FOR UPDATE: a concurrent writer that read these rows before us must not retire them a second time.
  return query<RecordRow>(
    tx.client,
    `SELECT ${RECORD_COLUMNS} FROM records WHERE context = $1 AND scope_key = $2 AND subject = $3 AND attribute = $4
       AND status IN ('current', 'flagged') ORDER BY id FOR UPDATE`,
    [tx.context, scopeKey, subject, attribute],
  );
}

async function liveByNormText(tx: Tx, scopeKey: string, normText: string): Promise<RecordRow | undefined> {
  return one<RecordRow>(
    tx.client,
    `SELECT ${RECORD_COLUMNS} FROM records WHERE context = $1 AND scope_key = $2 AND norm_text = $3 AND status IN ('current', 'flagged')
       ORDER BY id LIMIT 1 FOR UPDATE`,
    [tx.context, scopeKey, normText],
  );
}

/**
 * Serialises the writers of the same facts across processes: an advisory transaction lock per (scope, subject,
 * attribute) a fact touches (its own attribute and the one it negates) and per normalised text, taken in one
 * sorted order (no deadlock between two writers) before anything is read. A second writer waits until the first
 * commits, then, READ COMMITTED, reads what it wrote: two writers that supersede the same fact at once leave
 * exactly one current.
 */
async function lockFacts(tx: Tx, write: FactsWrite): Promise<void> {
  const keys = new Set<string>();
  for (const fact of write.facts) {
    keys.add(`t\u001f${tx.context}\u001f${write.scopeKey}\u001f${normalizeText(fact.text)}`);
    if (!fact.attribute) continue;
    keys.add(`a\u001f${tx.context}\u001f${write.scopeKey}\u001f${fact.subject}\u001f${fact.attribute}`);
    const opposite = oppositeAttribute(fact.attribute);
    if (opposite) keys.add(`a\u001f${tx.context}\u001f${write.scopeKey}\u001f${fact.subject}\u001f${opposite}`);
  }
  if (keys.size === 0) return;
  await query(tx.client, "SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended(x, 0) AS k FROM unnest($1::text[]) AS x ORDER BY 1) AS keys", [[...keys]]);
}

async function sourceTrust(tx: Tx, key: string | null): Promise<number> {
  if (key === null) return 1;
  return (await one<{ trust: number }>(tx.client, "SELECT trust FROM sources WHERE context = $1 AND key = $2", [tx.context, key]))?.trust ?? 1;
}

async function noteAsserted(tx: Tx, key: string | null, n: number, now: number): Promise<void> {
  if (key === null || n === 0) return;
  await query(
    tx.client,
    `INSERT INTO sources (context, key, asserted, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (context, key) DO UPDATE SET asserted = sources.asserted + EXCLUDED.asserted, updated_at = EXCLUDED.updated_at`,
    [tx.context, key, n, now],
  );
}

export async function noteCorrected(tx: Tx, key: string | null, by: string | null, now: number): Promise<Correction | undefined> {
  if (key === null || key === by) return undefined;
  const row = (await one<{ asserted: number; corrected: number }>(
    tx.client,
    `INSERT INTO sources (context, key, corrected, updated_at) VALUES ($1, $2, 1, $3)
       ON CONFLICT (context, key) DO UPDATE SET corrected = sources.corrected + 1, updated_at = EXCLUDED.updated_at
     RETURNING asserted, corrected`,
    [tx.context, key, now],
  ))!;
  const trust = calibratedTrust(row.asserted, row.corrected);
  await query(tx.client, "UPDATE sources SET trust = $1 WHERE context = $2 AND key = $3", [trust, tx.context, key]);
  await query(tx.client, "UPDATE records SET trust = $1 WHERE context = $2 AND source_key = $3 AND status IN ('current', 'flagged')", [trust, tx.context, key]);
  return { source: key, corrected: row.corrected, trust };
}

async function linkEntities(tx: Tx, recordId: number, names: readonly string[], now: number): Promise<void> {
  const unique = [...new Set(names.map((n) => n.trim()).filter(Boolean))];
  if (unique.length === 0) return;
  const norms = unique.map(normalizeEntity);
  // Three statements for all the names (not three per name). Each reads a snapshot of its own, so the SELECT sees
  // an entity that a concurrent transaction committed while the INSERT waited on it.
  await query(
    tx.client,
    "INSERT INTO entities (context, name, norm_name, created_at) SELECT $1, n, m, $2 FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS e(n, m, i) ORDER BY i ON CONFLICT DO NOTHING",
    [tx.context, now, unique, norms],
  );
  const ids = await query<{ id: number }>(tx.client, "SELECT id FROM entities WHERE context = $1 AND norm_name = ANY($2::text[])", [tx.context, norms]);
  await query(tx.client, "INSERT INTO record_entities (record_id, entity_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING", [recordId, ids.map((r) => r.id)]);
}

/** Deletes cache entries; logs them so that other instances learn of the eviction. */
async function deleteEntries(tx: Tx, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await query(tx.client, "DELETE FROM cache_entries WHERE id = ANY($1::bigint[])", [[...ids]]);
  tx.entries.push({ kind: "cache", ids });
}

/** Evicts the cache entries about any of `topics` in a scope containing `scope` (minus `already`); returns their ids. */
export async function evictByTopics(tx: Tx, topics: readonly string[], scope: Readonly<Record<string, string>>, already: ReadonlySet<number>): Promise<number[]> {
  if (topics.length === 0) return [];
  const byTopic = (await query<{ id: number; scope_key: string }>(
    tx.client,
    "SELECT DISTINCT c.id, c.scope_key FROM cache_topics t JOIN cache_entries c ON c.id = t.cache_id WHERE c.context = $1 AND t.topic = ANY($2::text[])",
    [tx.context, [...topics]],
  )).filter((c) => !already.has(c.id) && scopeContains(parseScopeKey(c.scope_key), scope));
  await deleteEntries(tx, byTopic.map((c) => c.id));
  return byTopic.map((c) => c.id);
}

export async function evictByRecords(tx: Tx, recordIds: readonly number[]): Promise<number[]> {
  if (recordIds.length === 0) return [];
  const ids = (await query<{ cache_id: number }>(tx.client, "SELECT DISTINCT cache_id FROM cache_deps WHERE record_id = ANY($1::bigint[])", [[...recordIds]])).map((r) => r.cache_id);
  await deleteEntries(tx, ids);
  return ids;
}

export async function removeRecordVector(tx: Tx, row: RecordRow): Promise<void> {
  const set = row.embedding_model ? tx.recordSet(row.embedding_model) : undefined;
  if (set && (await deleteVector(tx.client, set, row.id))) tx.entries.push({ kind: "vectors", space: "records", model: set.model, label: row.id, op: "remove" });
}

/**
 * The reconciler's write path on PostgreSQL: the same decisions as sqlite/reconcile.ts (exact duplicates
 * reinforce; a new value of a single-valued attribute supersedes; a hedge against a confident fact flags it),
 * the same trace, edges, calibration and cache eviction, inside the caller's transaction, after `lockFacts`.
 */
export async function reconcile(tx: Tx, input: FactsWrite): Promise<FactsWritten> {
  const { scopeKey, now } = input;
  await lockFacts(tx, input);
  const traceId = await insertTrace(tx, "decision_trace", input.actor, scopeKey, {}, now);
  const outcomes: { record: RecordRow; outcome: Outcome }[] = [];
  const changed = new Set<number>();
  const topics = new Set<string>();
  const considered = new Set<number>();
  const sourceKey = input.source.key;
  const trust = await sourceTrust(tx, sourceKey);
  const corrections: Correction[] = [];

  const retire = async (row: RecordRow, status: "superseded" | "flagged", by: number) => {
    await updateRecord(tx, row.id, retirement(row, status, by, now, traceId));
    if (status === "superseded") {
      const correction = await noteCorrected(tx, row.source_key, sourceKey, now);
      if (correction) corrections.push(correction);
      await removeRecordVector(tx, row);
    }
    changed.add(row.id);
    await addEdge(tx, { type: "trace", id: traceId }, status, { type: "record", id: row.id }, now);
    outcomes.push({ record: (await getRecord(tx.client, tx.context, row.id))!, outcome: status });
  };

  for (const [i, fact] of input.facts.entries()) {
    const vector = input.vectors[i];
    const competitors = fact.attribute ? await liveByAttribute(tx, scopeKey, fact.subject, fact.attribute) : [];
    competitors.forEach((c) => considered.add(c.id));

    const duplicate = valueDuplicate(fact, competitors) ?? (await liveByNormText(tx, scopeKey, normalizeText(fact.text)));
    if (duplicate) {
      considered.add(duplicate.id);
      const { fields, settles } = restatement(duplicate, fact, now, traceId);
      await updateRecord(tx, duplicate.id, fields);
      if (settles) changed.add(duplicate.id);
      await addEdge(tx, { type: "trace", id: traceId }, "updated", { type: "record", id: duplicate.id }, now);
      outcomes.push({ record: (await getRecord(tx.client, tx.context, duplicate.id))!, outcome: "updated" });
      continue;
    }

    const opposite = oppositeAttribute(fact.attribute);
    const opponents = opposite ? await liveByAttribute(tx, scopeKey, fact.subject, opposite) : [];
    opponents.forEach((c) => considered.add(c.id));
    const { rivals, undecidable, kind } = standing(fact, trust, competitors, opponents);

    const category = fact.memory_category;
    const inserted = await one<{ id: number }>(
      tx.client,
      `INSERT INTO records (context, scope_key, kind, memory_category, subject, attribute, value, cardinality, text, norm_text,
         confidence, trust, importance, status, source_kind, source_id, source_key, proof_count, derived_from, history, metadata,
         embedding_model, created_at, updated_at, last_decay_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'current', $14, $15, $16, 1, $17, $18, $19, $20, $21, $21, $21, $22)
       RETURNING id`,
      [
        tx.context, scopeKey, kind, category, fact.subject, fact.attribute, fact.value,
        fact.cardinality, fact.text, normalizeText(fact.text), fact.confidence, trust, INITIAL_IMPORTANCE[category],
        input.source.kind, input.source.id, sourceKey,
        JSON.stringify((input.derivedFrom ?? []).map((d) => toId("record", d))),
        JSON.stringify([{ at: now, event: "created", trace: traceId }]),
        input.metadata ? JSON.stringify(input.metadata) : null,
        vector ? input.embeddingModel : null, now, expiresAt(input.retention, input.scope, category, now),
      ],
    );
    const id = inserted!.id;
    const set = vector ? tx.recordSet(input.embeddingModel) : undefined;
    if (vector && set) {
      await putVector(tx.client, set, tx.context, id, vector);
      tx.entries.push({ kind: "vectors", space: "records", model: set.model, label: id, op: "add" });
    }
    const entities = entitiesOf(fact);
    await linkEntities(tx, id, entities, now);
    recordTopics(fact, entities).forEach((t) => topics.add(t));
    const record = { type: "record", id } as const;
    await addEdges(
      tx,
      [
        { src: { type: "trace", id: traceId }, kind: "created", dst: record },
        ...(input.source.node ? [{ src: input.source.node, kind: "wrote", dst: record }] : []),
        ...(input.derivedFrom ?? []).map((from) => ({ src: record, kind: "derived_from", dst: { type: "record", id: from } }) as const),
      ],
      now,
    );

    for (const rival of rivals) {
      if (undecidable) {
        await retire(rival, "flagged", id);
        await addEdge(tx, { type: "record", id }, "relation:contradicts", { type: "record", id: rival.id }, now);
      } else {
        await retire(rival, "superseded", id);
        const row = (await getRecord(tx.client, tx.context, id))!;
        await updateRecord(tx, id, { history: appendHistory(row, { at: now, event: "supersedes", detail: toId("record", rival.id), trace: traceId }) });
      }
    }
    outcomes.push({ record: (await getRecord(tx.client, tx.context, id))!, outcome: "created" });
  }

  await noteAsserted(tx, sourceKey, outcomes.filter((o) => o.outcome === "created").length, now);

  if (changed.size > 0) {
    const rows = await query<{ subject: string | null; attribute: string | null; names: string[] | null }>(
      tx.client,
      `SELECT r.subject, r.attribute, ARRAY(SELECT e.norm_name FROM record_entities re JOIN entities e ON e.id = re.entity_id WHERE re.record_id = r.id) AS names
         FROM records r WHERE r.id = ANY($1::bigint[])`,
      [[...changed]],
    );
    for (const row of rows) recordTopics(row, row.names ?? []).forEach((t) => topics.add(t));
  }
  const evicted = new Set(await evictByRecords(tx, [...changed]));
  for (const id of await evictByTopics(tx, [...topics], input.scope, evicted)) evicted.add(id);
  if (changed.size > 0) tx.entries.push({ kind: "records", ids: [...changed] });

  await addEdges(tx, decisionEdges(considered, changed, input.parentTrace).map((e) => ({ src: { type: "trace", id: traceId }, ...e })), now);

  const payload = decisionPayload({
    source: input.source,
    trust,
    scope: input.scope,
    actor: input.actor,
    facts: input.facts,
    provenance: input.provenance,
    outcomes,
    evicted: evicted.size,
    corrections,
  });
  await query(tx.client, "UPDATE traces SET payload = $1 WHERE id = $2", [JSON.stringify(payload), traceId]);
  return { traceId, outcomes, evictedCacheIds: [...evicted] };
}
