import { emptyWindow, NO_BUDGET } from "../budget.js";
import type { BacklogItem, BudgetCharge, BudgetConfig, BudgetState, BudgetWindow } from "../store.js";
import { one, query, type Queryable } from "./connection.js";
import type { Tx } from "./reconcile-sql.js";

// The background budget (its config and the day's window, on the Context's row; migration 6) and the backlog of
// records waiting for background reconciliation: the rules of store/budget.ts.

export async function budget(db: Queryable, context: string): Promise<BudgetState> {
  const row = await one<{ budget: string | null; budget_window: string | null; backlog: string }>(
    db,
    "SELECT budget, budget_window, (SELECT count(*) FROM background_backlog WHERE context = $1) AS backlog FROM contexts WHERE name = $1",
    [context],
  );
  return {
    config: row?.budget ? (JSON.parse(row.budget) as BudgetConfig) : { ...NO_BUDGET },
    window: row?.budget_window ? (JSON.parse(row.budget_window) as BudgetWindow) : null,
    backlog: Number(row?.backlog ?? 0),
  };
}

export async function setBudget(tx: Tx, config: BudgetConfig): Promise<void> {
  await query(tx.client, "UPDATE contexts SET budget = $1 WHERE name = $2", [JSON.stringify(config), tx.context]);
}

/** Read under the Context row's lock and written in one transaction: charges from several processes add up. */
export async function chargeBudget(tx: Tx, charge: BudgetCharge): Promise<void> {
  const row = await one<{ budget_window: string | null }>(tx.client, "SELECT budget_window FROM contexts WHERE name = $1 FOR UPDATE", [tx.context]);
  const stored = row?.budget_window ? (JSON.parse(row.budget_window) as BudgetWindow) : null;
  const window: BudgetWindow =
    stored && stored.start === charge.windowStart
      ? stored
      : emptyWindow(charge.windowStart);
  window.tokens += charge.tokens ?? 0;
  window.calls += charge.calls ?? 0;
  for (const [kind, n] of Object.entries(charge.deferred ?? {}) as [keyof BudgetWindow["deferred"], number][]) window.deferred[kind] += n;
  await query(tx.client, "UPDATE contexts SET budget_window = $1 WHERE name = $2", [JSON.stringify(window), tx.context]);
}

export async function addToBacklog(tx: Tx, items: readonly Omit<BacklogItem, "id">[], now: number): Promise<void> {
  for (const i of items) {
    await query(
      tx.client,
      "INSERT INTO background_backlog (context, record_id, principal, on_behalf_of, session, parent_trace, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [tx.context, i.recordId, i.actor.principal, i.actor.onBehalfOf, i.actor.session, i.parentTrace, now],
    );
  }
}

/** Removes and returns the oldest `limit` items; SKIP LOCKED: two processes taking at once take different items. */
export async function takeFromBacklog(tx: Tx, limit: number): Promise<BacklogItem[]> {
  const rows = await query<{ id: number; record_id: number; principal: string | null; on_behalf_of: string | null; session: string | null; parent_trace: number }>(
    tx.client,
    `DELETE FROM background_backlog WHERE id IN (SELECT id FROM background_backlog WHERE context = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id, record_id, principal, on_behalf_of, session, parent_trace`,
    [tx.context, limit],
  );
  return rows
    .sort((a, b) => a.id - b.id)
    .map((r) => ({ id: r.id, recordId: r.record_id, actor: { principal: r.principal, onBehalfOf: r.on_behalf_of, session: r.session }, parentTrace: r.parent_trace }));
}
