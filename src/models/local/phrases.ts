import { isStopWord, trimPunctuation, words } from "./text.js";

/**
 * Lower-case words that end a value phrase: conjunctions, relative pronouns, prepositions and time words.
 * Matching is case-sensitive on purpose, so capitalised words inside names ("Bank of America" aside) pass.
 */
const CLAUSE_BREAKS =
  "and but because since so when where which who whom while though although unless until if or than " +
  "now today tonight tomorrow yesterday recently currently anymore too lately again already " +
  "last next this these every each ago after before";
const PLACE_BREAKS = `${CLAUSE_BREAKS} with to for in on at from by as near over rather`;

export const BREAKS = {
  /** Places, organisations, jobs, plans: stop at any preposition ("Lisbon with my family"). */
  place: new Set(PLACE_BREAKS.split(" ")),
  /** Activities and things liked: keep prepositional detail ("hiking in the mountains"). */
  activity: new Set(CLAUSE_BREAKS.split(" ").filter((w) => w !== "and" && w !== "or")),
} as const;

/**
 * The phrase at the start of `rest`, cut at the first break word (after the first word) or at clause
 * punctuation, at most `maxWords` words. Returns "" when nothing is left.
 */
export function takePhrase(rest: string, breaks: ReadonlySet<string>, maxWords: number): string {
  const clause = rest.split(/[,;:()!?]|\.(?:\s|$)|\s-\s|\s—\s/)[0] ?? "";
  const out: string[] = [];
  for (const raw of clause.trim().split(/\s+/)) {
    if (!raw) continue;
    if (out.length > 0 && breaks.has(raw)) break;
    out.push(raw);
    if (out.length >= maxWords) break;
  }
  return trimPunctuation(out.join(" "));
}

/**
 * Takes a name: the first word whatever its case (after "my name is" the speaker decides), then following
 * capitalised words, at most three ("Ana", "Ana Sousa", "Mary Jane Watson").
 */
export function takeName(rest: string): string {
  const tokens = words(rest.split(/[,;:()!?]|\.(?:\s|$)/)[0] ?? "");
  const out: string[] = [];
  for (const token of tokens) {
    if (out.length > 0 && !/^\p{Lu}/u.test(token)) break;
    out.push(token);
    if (out.length >= 3) break;
  }
  return out.join(" ");
}

/** Splits "hiking, chess and jazz" into items; an item must contain a content word. */
export function splitList(phrase: string): string[] {
  return phrase
    .split(/\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+/)
    .map((item) => trimPunctuation(item))
    .filter((item) => words(item).some((w) => !isStopWord(w)));
}

/** Value form of a phrase: no leading article, the speaker's "my" as "their". */
export function toValue(phrase: string): string {
  return possessiveToThird(phrase).replace(/^(?:the|a|an)\s+/i, "");
}

/** "my dog" → "their dog": a value or text must read correctly in the third person. */
export function possessiveToThird(phrase: string): string {
  return phrase.replace(/\bmy\b/gi, "their").replace(/\bmyself\b/gi, "themselves").replace(/\bme\b/g, "them");
}

/** Words that refer back instead of naming something: "I love it" names no liking worth storing. */
const REFERRING = /^(?:it|that|this|them|those|these|you|your|him|her|when|how|what|which|the idea|one|some|all)\b/i;

export function isReferring(phrase: string): boolean {
  return REFERRING.test(phrase);
}

/** True when every word of the phrase is a stop word (or it is empty). */
export function isEmptyPhrase(phrase: string): boolean {
  return !words(phrase).some((w) => !isStopWord(w));
}
