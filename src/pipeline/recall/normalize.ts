/** Tier-1 key of a query: case, white space and punctuation folded ("Which plan am I on?" = "which plan am i on"). */
export function normalizeQuery(query: string): string {
  return query
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

const STOP = new Set(
  "a an and are as at be been but by can could did do does for from had has have how i i'm im in is it its me my of on or our please should so tell than that the their them then there these they this to was we were what when where which who whom why will with would you your am".split(
    " ",
  ),
);

/**
 * FTS5 MATCH expression from free text: each salient term quoted (raw user text in MATCH throws on quotes and
 * operators), OR-ed. Undefined when nothing is left to search for.
 */
export function ftsQuery(text: string, extra: readonly string[] = []): string | undefined {
  const terms = queryTerms(text, extra);
  if (terms.length === 0) return undefined;
  return terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(" OR ");
}

/** Salient lower-case terms of a query (stop words and one-letter words out), at most 12, in order. */
export function queryTerms(text: string, extra: readonly string[] = []): string[] {
  const terms = new Set<string>();
  for (const word of [...extra, ...text.split(/[^\p{L}\p{N}']+/u)]) {
    for (const w of word.toLowerCase().replace(/'/g, "").split(/[^\p{L}\p{N}]+/u)) {
      if (w.length > 1 && !STOP.has(w)) terms.add(w);
    }
    if (terms.size >= 12) break;
  }
  return [...terms].slice(0, 12);
}
