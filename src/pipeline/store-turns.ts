import type { z } from "zod";
import { actorOf } from "../access/access.js";
import { toEpochMs, type ingestSchema } from "../config/schemas.js";
import type { Core } from "../core.js";
import { expiresAt } from "../lifecycle/retention.js";
import { scopeKey } from "../store/scope.js";
import type { TurnRow } from "../store/store.js";

/** An ingest input as validated at the boundary. */
export type ParsedIngest = z.output<typeof ingestSchema>;

/** What storing turns uses: the store, the Context's name and retention rules, the clock. */
export type StoreTurnsDeps = Pick<Core, "store" | "context" | "settings" | "now">;

/** Stores turns before any model call, in one transaction. */
export function storeTurns(core: StoreTurnsDeps, items: readonly ParsedIngest[]): Promise<TurnRow[]> {
  const now = core.now();
  return core.store.storeTurns(items.map((i) => {
    const actor = actorOf(i);
    return {
      turn: {
        context: core.context,
        scope_key: scopeKey(i.scope),
        role: i.role,
        content: i.content,
        speaker: i.speaker ?? null,
        occurred_at: i.occurred_at !== undefined ? toEpochMs(i.occurred_at) : null,
        metadata: i.metadata ? JSON.stringify(i.metadata) : null,
        session: actor.session,
        principal: actor.principal,
        on_behalf_of: actor.onBehalfOf,
        created_at: now,
      },
      // Until extraction writes records from it, the turn is a passage for as long as a context fact would be.
      passageExpiresAt: expiresAt(core.settings.current().retention, i.scope, "context", now),
    };
  }));
}
