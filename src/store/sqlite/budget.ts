import { addToBacklog, backlogSize, emptyWindow, readBudget, takeFromBacklog, writeBudgetConfig, writeBudgetWindow } from "../budget.js";
import type { BacklogItem, BudgetCharge, BudgetConfig, BudgetState } from "../store.js";
import type { WriteParts } from "./read-writes.js";

// The background budget (its config and the day's window, on the Context's row) and the backlog of records
// waiting for background reconciliation.

export function budget(p: WriteParts): BudgetState {
  return { ...readBudget(p.db, p.context), backlog: backlogSize(p.db, p.context) };
}

export function setBudget(p: WriteParts, config: BudgetConfig): BudgetState {
  p.writer.transaction(() => writeBudgetConfig(p.db, p.context, config));
  return budget(p);
}

/** Read and written in one transaction: charges from several processes add up rather than overwrite each other. */
export function chargeBudget(p: WriteParts, charge: BudgetCharge): BudgetState {
  p.writer.transaction(() => {
    const stored = readBudget(p.db, p.context).window;
    const window = stored && stored.start === charge.windowStart ? stored : emptyWindow(charge.windowStart);
    window.tokens += charge.tokens ?? 0;
    window.calls += charge.calls ?? 0;
    for (const [kind, n] of Object.entries(charge.deferred ?? {}) as [keyof typeof window.deferred, number][]) window.deferred[kind] += n;
    writeBudgetWindow(p.db, p.context, window);
  });
  return budget(p);
}

export function addBacklog(p: WriteParts, items: readonly Omit<BacklogItem, "id">[], now: number): void {
  p.writer.transaction(() => addToBacklog(p.db, p.context, items, now));
}

export function takeBacklog(p: WriteParts, limit: number): BacklogItem[] {
  return p.writer.transaction(() => takeFromBacklog(p.db, p.context, limit));
}
