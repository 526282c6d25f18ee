import { readableScopeKeys, type Access } from "../access/access.js";
import { callContextSchema, parseInput, turnsListSchema, type CallContext, type TurnsListOptions } from "../config/schemas.js";
import type { Core } from "../core.js";
import { retryPending } from "../pipeline/ingest.js";
import { iso } from "../state/public-record.js";
import { toId } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { TurnRow } from "../store/store.js";

/** What the turns namespace uses: the store, and a retry's extraction deps. */
export type TurnsDeps = Pick<Core, "store" | "queue" | "models" | "settings" | "now" | "logger">;

export interface Turn {
  id: string;
  role: TurnRow["role"];
  content: string;
  scope: Record<string, string>;
  status: TurnRow["status"];
  attempts: number;
  error: string | null;
  created_at: string;
}

/** The turns namespace: stored turns, and the retry of those whose extraction failed. */
export function createTurnsApi(core: TurnsDeps, access: Access, guard: (method: string) => void) {
  return {
    async list(options: TurnsListOptions = {}): Promise<Turn[]> {
      guard("turns.list");
      const opts = parseInput(turnsListSchema, options, "options");
      const scope = opts.scope ?? {};
      access.assert(opts, "read", scope);
      const rows = await core.store.listTurns({
        ...(opts.status ? { status: opts.status } : {}),
        ...(opts.scope ? { scopeKeys: readableScopeKeys(opts.principal, opts.scope) } : {}),
        limit: opts.limit,
      });
      return rows.map((t) => ({
        id: toId("turn", t.id),
        role: t.role,
        content: t.content,
        scope: { ...parseScopeKey(t.scope_key) },
        status: t.status,
        attempts: t.attempts,
        error: t.error,
        created_at: iso(t.created_at),
      }));
    },
    /**
     * Extracts the turns still `pending` and those marked `failed` (five failed attempts: the background retry
     * stops there), up to 100. `failed` counts the attempts that failed again.
     */
    async retry(ctx?: CallContext): Promise<{ extracted: number; failed: number }> {
      guard("turns.retry");
      access.assert(parseInput(callContextSchema, ctx ?? {}, "turns.retry(ctx)"), "manage", {});
      return retryPending(core, 100, true);
    },
  };
}
