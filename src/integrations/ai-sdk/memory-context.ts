import type { Spectron } from "../../spectron.js";
import type { CallContext } from "../../config/schemas.js";
import type { Scope } from "../../store/scope.js";

/** Whose memory an integration reads and writes, and as whom. */
export interface MemoryBinding {
  /**
   * The Spectron instance, typed by the methods the integration calls: structural, so that the declarations of
   * `spectron/ai-sdk` (a bundle of its own, with its own copy of the class's declaration) accept the `Spectron`
   * of the main entry (a class with private members is only assignable to its own declaration).
   */
  memory: Pick<Spectron, "ingest" | "recall" | "query" | "state">;
  /** The scope remembered into and recalled from, such as `{ user: "alice" }`. */
  scope: Scope;
  /** Acting principal, session and on-behalf-of, passed to every call (see `memory.as`). */
  call?: Omit<CallContext, "signal">;
}

/** Plain text of a message's content: a string, or its text parts joined. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((p): p is { type: "text"; text: string } => typeof p === "object" && p !== null && (p as { type?: unknown }).type === "text" && typeof (p as { text?: unknown }).text === "string")
    .map((p) => p.text)
    .join("\n");
}

/** Whether a record's scope is `scope` or inside it (`{ user: "alice", session: "s1" }` is inside `{ user: "alice" }`). */
export function withinScope(record: Scope, scope: Scope): boolean {
  return Object.entries(scope).every(([key, value]) => value === undefined || (record as Record<string, unknown>)[key] === value);
}
