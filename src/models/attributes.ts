/**
 * What an attribute's values mean to reconciliation, whichever model extracted them: which attributes
 * accumulate values, which are each other's opposite, and how a negated statement is written.
 *
 * Negation is part of the value: "I'm not allergic to peanuts" is attribute `allergy`, value "not peanuts".
 * It opposes the record whose value is "peanuts" (and only that one, even for a single-valued attribute:
 * "I no longer work at Stripe" says nothing against a job at Google).
 */

/** Attributes whose values accumulate: a different value is an addition, never a replacement. */
export const MANY_VALUED: ReadonlySet<string> = new Set([
  "likes",
  "dislikes",
  "instruction",
  "family",
  "pet",
  "health",
  "allergy",
  "avoids",
  "hobby",
  "language",
  "intends",
]);

/** Pairs of attributes where the same value on both is a contradiction ("likes hiking" / "dislikes hiking"). */
const OPPOSITE: Readonly<Record<string, string>> = { likes: "dislikes", dislikes: "likes" };

export function oppositeAttribute(attribute: string | null): string | undefined {
  return attribute === null ? undefined : OPPOSITE[attribute.toLowerCase()];
}

const NOT = /^not\s+/i;

/** "not peanuts" → true. */
export function isNegatedValue(value: string | null): boolean {
  return value !== null && NOT.test(value.trim());
}

/** "peanuts" → "not peanuts"; "not peanuts" → "peanuts". */
export function negateValue(value: string): string {
  const v = value.trim();
  return NOT.test(v) ? v.replace(NOT, "") : `not ${v}`;
}

/** The value without its negation: "not peanuts" → "peanuts". */
export function positiveValue(value: string): string {
  return value.trim().replace(NOT, "");
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\b(?:the|a|an)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();

/**
 * How a new value of a subject's attribute stands to an existing one of the same or the opposite attribute:
 * `opposes` when one negates the other ("not peanuts" / "peanuts", or likes X / dislikes X), `replaces` when a
 * single-valued attribute gets another positive value, `same` for equal values, otherwise `unrelated`.
 */
export function valueRelation(
  incoming: { attribute: string | null; value: string | null; cardinality?: "one" | "many" },
  existing: { attribute: string | null; value: string | null },
): "same" | "opposes" | "replaces" | "unrelated" {
  if (incoming.attribute === null || existing.attribute === null || incoming.value === null || existing.value === null) return "unrelated";
  const a = incoming.attribute.toLowerCase();
  const b = existing.attribute.toLowerCase();
  const sameAttribute = a === b;
  if (!sameAttribute && OPPOSITE[a] !== b) return "unrelated";
  const newNeg = isNegatedValue(incoming.value);
  const oldNeg = isNegatedValue(existing.value);
  const samePositive = norm(positiveValue(incoming.value)) === norm(positiveValue(existing.value));
  if (!sameAttribute) return samePositive && newNeg === oldNeg ? "opposes" : "unrelated";
  if (samePositive) return newNeg === oldNeg ? "same" : "opposes";
  const many = incoming.cardinality ? incoming.cardinality === "many" : MANY_VALUED.has(a);
  // A negation speaks only about its own value; a positive value replaces another of a single-valued attribute.
  return !many && !newNeg ? "replaces" : "unrelated";
}
