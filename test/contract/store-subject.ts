/** What the store contract's files share: the subject an engine's runner gives, the clock's origin, inputs. */
import { afterEach } from "vitest";
import type { Store } from "../../src/store/store.js";
import { scopeKey } from "../../src/store/scope.js";
import { contextInit } from "../postgres/fixtures.js";

export const DAY = 86_400_000;
export const T0 = Date.parse("2026-06-01T00:00:00Z");

/** The interface this suite drives: all of it (test/contract/store-more.contract.ts has the second half). */
export type ContractStore = Store;

export interface StoreSubject {
  /** Opens the store of `context` (a new Context per test unless two opens share one), with this clock. */
  open(context: string, now: () => number): Promise<ContractStore>;
  /** Separate opens are separate sessions (an advisory lock held by one excludes the other). */
  separateSessions: boolean;
  /**
   * Another instance's record, vector and cache changes reach `subscribe` (PostgreSQL: the change log). SQLite's
   * instances share one file and learn only that something changed (PRAGMA data_version).
   */
  changeLog: boolean;
  /** Every open is a database of its own (SQLite's :memory:): the cases of two instances use one. */
  oneDatabasePerOpen?: boolean;
  teardown(): Promise<void>;
}

export const alice = { user: "alice" };
export const turnOf = (store: { context: string }, content: string, created_at: number) => ({
  context: store.context,
  scope_key: scopeKey(alice),
  role: "user" as const,
  content,
  speaker: null,
  occurred_at: null,
  metadata: null,
  session: null,
  principal: null,
  on_behalf_of: null,
  created_at,
});

/**
 * Opens a new Context's store per call (or a shared one by name) and closes them after each test (an engine's
 * connections go with its last store: PGlite, one backend behind one socket, drops connections once too many
 * pile up).
 */
export function opener(subject: () => StoreSubject, prefix: string): (context?: string, now?: () => number) => Promise<ContractStore> {
  let n = 0;
  const opened: ContractStore[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  return async (context = `${prefix}${++n}`, now = () => T0) => {
    const store = await subject().open(context, now);
    opened.push(store);
    await store.openContext(contextInit(now()));
    return store;
  };
}

