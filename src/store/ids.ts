import { SpectronValidationError } from "../errors.js";

/** Public ids are prefixed so that a record id can never be mistaken for a trace id. */
export const ID_PREFIX = {
  record: "rec_",
  turn: "turn_",
  trace: "trc_",
  document: "doc_",
  chunk: "chk_",
} as const;
export type IdKind = keyof typeof ID_PREFIX;

export function toId(kind: IdKind, n: number | bigint): string {
  return `${ID_PREFIX[kind]}${n}`;
}

export function parseId(kind: IdKind, id: unknown, field = "id"): number {
  const prefix = ID_PREFIX[kind];
  if (typeof id === "string" && id.startsWith(prefix)) {
    const n = Number(id.slice(prefix.length));
    if (Number.isSafeInteger(n) && n > 0) return n;
  }
  throw new SpectronValidationError(field, `a ${kind} id such as "${prefix}42"`, id);
}

/** Like parseId, but returns undefined for ids of another kind (used where several kinds are accepted). */
export function tryParseId(kind: IdKind, id: string): number | undefined {
  const prefix = ID_PREFIX[kind];
  if (!id.startsWith(prefix)) return undefined;
  const n = Number(id.slice(prefix.length));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
