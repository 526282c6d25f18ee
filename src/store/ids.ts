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

/**
 * The number of a public id, or undefined: exactly the prefix and a positive decimal integer without sign,
 * leading zero, exponent or fraction ("rec_2", never "rec_02", "rec_0x2", "rec_2.0" or "rec_+2"), at most 15
 * digits. One id has one spelling.
 */
function numberOf(prefix: string, id: string): number | undefined {
  if (id.length > prefix.length + 15 || !id.startsWith(prefix)) return undefined;
  const digits = id.slice(prefix.length);
  return /^[1-9][0-9]*$/.test(digits) ? Number(digits) : undefined;
}

export function parseId(kind: IdKind, id: unknown, field = "id"): number {
  const prefix = ID_PREFIX[kind];
  const n = typeof id === "string" ? numberOf(prefix, id) : undefined;
  if (n === undefined) throw new SpectronValidationError(field, `a ${kind} id such as "${prefix}42"`, id);
  return n;
}

/** Like parseId, but returns undefined for ids of another kind (used where several kinds are accepted). */
export function tryParseId(kind: IdKind, id: string): number | undefined {
  return numberOf(ID_PREFIX[kind], id);
}
