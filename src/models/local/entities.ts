import { STOP_WORDS, stripPossessive, words } from "./text.js";

/**
 * Capitalised words that open sentences without naming anything: commands, fillers, time words. A
 * sentence-initial capital is ambiguous, so the first word is a name only when it is none of these.
 */
const NOT_A_NAME: ReadonlySet<string> = new Set(
  (
    "always never please remember from according going today tonight tomorrow yesterday now currently recently " +
    "summarise summarize summary tell list give show describe explain remind find search look help " +
    "let call note make keep stop start use send write answer reply respond say ask check " +
    "yes no ok okay sure thanks thank hi hello hey dear great cool nice good sorry well anyway btw " +
    "everyone everybody someone somebody nobody people user assistant last next every"
  ).split(" "),
);

/** Short all-caps tokens that are interjections rather than acronyms. */
const NOT_AN_ACRONYM: ReadonlySet<string> = new Set(["OK", "OKAY", "LOL", "BTW", "FYI", "ASAP", "PS", "TBH"]);

function isCapitalised(word: string): boolean {
  return /^\p{Lu}/u.test(word) && !NOT_AN_ACRONYM.has(word);
}

function isPronounLike(word: string): boolean {
  const lower = word.toLowerCase();
  return lower === "i" || lower.startsWith("i'") || STOP_WORDS.has(lower);
}

/**
 * Named entities in one sentence: runs of capitalised words ("New York", "Acme Corp"), possessives
 * stripped. The sentence's first word counts only when it is not a pronoun, stop word or command.
 */
export function findEntities(sentence: string): string[] {
  const found: string[] = [];
  let index = 0;
  // Punctuation ends a name: "Porto, Portugal" is two places.
  for (const segment of sentence.split(/[,;:()!?"]|\.(?:\s|$)|\s[-\u2013\u2014]\s/)) {
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 0) found.push(run.join(" "));
      run = [];
    };
    for (const token of words(segment)) {
      const word = stripPossessive(token);
      const excluded =
        isPronounLike(word) || (index === 0 && NOT_A_NAME.has(word.toLowerCase())) || !isCapitalised(word);
      index++;
      if (excluded) {
        flush();
        continue;
      }
      run.push(word);
      // A possessive ends the name: "Ana's Bakery" is two mentions at most, "Ana's plan" is one.
      if (token !== word) flush();
    }
    flush();
  }
  return unique(found);
}

/** True when a value reads as a proper noun ("Lisbon", "Acme Corp"), not a common phrase ("hiking"). */
export function isProperNoun(value: string): boolean {
  const first = words(value)[0];
  return first !== undefined && isCapitalised(first) && !isPronounLike(first);
}

export function unique(items: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items) {
    const key = item.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}
