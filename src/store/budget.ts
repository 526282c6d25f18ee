import { sql, sqlPluck, type Db } from "./database.js";
import type { TraceActor } from "./traces.js";

/** `config.budget()`: the cap on background model tokens per UTC day of the injected clock (null: no cap). */
export interface BudgetConfig {
  background_tokens_per_day: number | null;
}

/** Work a budget window could not afford, by kind (sweeps resume from their watermark; records wait in the backlog). */
export type DeferredKind = "reconciliation" | "consolidation" | "elaboration";

export interface BudgetWindow {
  /** Start of the window (ms). */
  start: number;
  tokens: number;
  calls: number;
  deferred: Record<DeferredKind, number>;
}

/** The budget as stored: its config, the last window charged (null: none yet), the records in the backlog. */
export interface BudgetState {
  config: BudgetConfig;
  window: BudgetWindow | null;
  backlog: number;
}

/** What one background call adds to the window starting at `windowStart` (a fresh window when the stored one is older). */
export interface BudgetCharge {
  windowStart: number;
  tokens?: number;
  calls?: number;
  deferred?: Partial<Record<DeferredKind, number>>;
}

export const NO_BUDGET: Readonly<BudgetConfig> = Object.freeze({ background_tokens_per_day: null });

/** A window with nothing spent yet. */
export const emptyWindow = (start: number): BudgetWindow => ({ start, tokens: 0, calls: 0, deferred: { reconciliation: 0, consolidation: 0, elaboration: 0 } });

export function readBudget(db: Db, context: string): { config: BudgetConfig; window: BudgetWindow | null } {
  const row = sql(db, "SELECT budget, budget_window FROM contexts WHERE name = ?").get(context) as
    | { budget: string | null; budget_window: string | null }
    | undefined;
  return {
    config: row?.budget ? (JSON.parse(row.budget) as BudgetConfig) : { ...NO_BUDGET },
    window: row?.budget_window ? (JSON.parse(row.budget_window) as BudgetWindow) : null,
  };
}

export function writeBudgetConfig(db: Db, context: string, config: BudgetConfig): void {
  sql(db, "UPDATE contexts SET budget = ? WHERE name = ?").run(JSON.stringify(config), context);
}

export function writeBudgetWindow(db: Db, context: string, window: BudgetWindow): void {
  sql(db, "UPDATE contexts SET budget_window = ? WHERE name = ?").run(JSON.stringify(window), context);
}

export interface BacklogItem {
  id: number;
  recordId: number;
  actor: TraceActor;
  parentTrace: number;
}

export function addToBacklog(db: Db, context: string, items: readonly Omit<BacklogItem, "id">[], now: number): void {
  const insert = sql(
    db,
    "INSERT INTO background_backlog (context, record_id, principal, on_behalf_of, session, parent_trace, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  for (const i of items) insert.run(context, i.recordId, i.actor.principal, i.actor.onBehalfOf, i.actor.session, i.parentTrace, now);
}

/** Removes and returns the oldest `limit` items of the backlog. */
export function takeFromBacklog(db: Db, context: string, limit: number): BacklogItem[] {
  const rows = sql(
    db,
    "DELETE FROM background_backlog WHERE id IN (SELECT id FROM background_backlog WHERE context = ? ORDER BY id LIMIT ?) RETURNING *",
  ).all(context, limit) as { id: number; record_id: number; principal: string | null; on_behalf_of: string | null; session: string | null; parent_trace: number }[];
  return rows
    .sort((a, b) => a.id - b.id)
    .map((r) => ({ id: r.id, recordId: r.record_id, actor: { principal: r.principal, onBehalfOf: r.on_behalf_of, session: r.session }, parentTrace: r.parent_trace }));
}

export function backlogSize(db: Db, context: string): number {
  return sqlPluck(db, "SELECT COUNT(*) FROM background_backlog WHERE context = ?").get(context) as number;
}
