import { stem } from "../../models/local/text.js";

/**
 * What a question asks, reduced to the parts that change its answer: the wh-word (what kind of answer), the
 * polarity, tense, modality, time qualifiers ("before", "last week", "in May"), numbers, the people and
 * names it is about (in order, so that "what did I give Ana" and "what did Ana give me" differ), and its other
 * content words, stemmed and with a few synonyms folded. Tier 2 reuses a cached answer only when the new
 * question's signature equals the cached one exactly; embedding similarity, whatever the model, only ranks
 * among those. Text only, so it holds for any embedding model.
 *
 * Deliberately strict: two questions that differ in any content word never share an answer, which costs
 * some paraphrases ("What is my job?" / "What is my profession?") and never serves a near miss. English
 * only: in another language nearly every word counts as content, so only near-identical wordings match.
 *
 * @example
 * questionSignature("Where do I live?") === questionSignature("In which city do I live now?") // true
 * questionSignature("Where do I live?") === questionSignature("Where did I live before?")     // false
 */
export function questionSignature(question: string): string {
  const tokens = tokenize(question);
  const wh = whOf(tokens);
  const parts = features(tokens, wh, namesIn(question));
  return [
    `wh=${wh}`,
    `neg=${parts.negated ? 1 : 0}`,
    `tense=${parts.tense}`,
    `modal=${parts.modal}`,
    `time=${[...parts.time].sort().join(",")}`,
    `num=${[...parts.numbers].sort().join(",")}`,
    `who=${parts.persons.length > 0 ? parts.persons.join(",") : "1"}`,
    `terms=${[...parts.terms].sort().join(",")}`,
  ].join("|");
}

const CONTRACTIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bcan't\b/g, "can not"],
  [/\bwon't\b/g, "will not"],
  [/\bain't\b/g, "is not"],
  [/n't\b/g, " not"],
  [/\b(what|where|who|when|how|why|which|that|there|it|he|she)'s\b/g, "$1 is"],
  [/'m\b/g, " am"],
  [/'re\b/g, " are"],
  [/'ve\b/g, " have"],
  [/'ll\b/g, " will"],
  [/'d\b/g, " would"],
  [/'s\b/g, ""], // a possessive: "Ana's city" is about Ana
];

/** Phrases that wrap a question without changing it: "Do you remember my name?" asks "my name". */
const WRAPPERS: readonly RegExp[] = [
  /^(?:hey|hi|so|ok|okay|and|but|also|um|well)\b,?\s*/,
  /^(?:please\s+)?(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|remind|show|give)\s+me\b\s*/,
  /^(?:do|did)\s+you\s+(?:still\s+)?(?:remember|know|recall)\s+(?:if\s+|whether\s+)?/,
  /^(?:please\s+)?(?:tell|remind|show|give)\s+me\s+(?:again\s+)?/,
  /^i\s+(?:want|would\s+like|need)\s+to\s+know\s+/,
  /^(?:please\s+)?(?:name|list)\s+(?=my\b|the\b|our\b|your\b)/,
  /\b(?:did|have)\s+i\s+(?:give|tell|gave|told|given)\s+you\b/,
  /\b(?:that|which)\s+i\s+(?:gave|told)\s+you\b/,
  /\bthe\s+name\s+of\b/,
  /\bat\s+the\s+moment\b|\bright\s+now\b|\bthese\s+days\b|\bat\s+present\b/,
  /\b(?:please|again|exactly|actually|now|current|currently|presently|nowadays|things?|stuff)\b/,
];

/** Idioms rewritten to the word they mean, before anything else reads the question. */
const IDIOMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:do|does|did)\s+for\s+(?:a\s+)?living\b/g, "job"],
  [/\bhometown\b/g, "home city"],
];

/**
 * Names in the question, lower-cased: capitalised words other than the first and "I". They join the persons
 * in order, so that who did what to whom is kept.
 */
function namesIn(question: string): Set<string> {
  const found = question.match(/[\p{L}\p{N}]+(?:'[\p{L}]+)*/gu) ?? [];
  const names = new Set<string>();
  for (let i = 1; i < found.length; i++) {
    const word = found[i]!.replace(/'s$/, "");
    if (/^\p{Lu}/u.test(word) && word !== "I" && !/^I'/.test(word)) names.add(word.toLowerCase());
  }
  return names;
}

function tokenize(question: string): string[] {
  let text = question
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .toLowerCase()
    .replace(/[?!.,;:"()]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  for (const [pattern, replacement] of CONTRACTIONS) text = text.replace(pattern, replacement);
  for (const [pattern, replacement] of IDIOMS) text = text.replace(pattern, replacement);
  // Wrappers may nest ("so, can you tell me …"): strip until nothing changes.
  for (let previous = ""; previous !== text; ) {
    previous = text;
    for (const wrapper of WRAPPERS) text = text.replace(wrapper, " ").replace(/\s+/g, " ").trim();
  }
  return text.match(/[\p{L}\p{N}]+(?:[-'][\p{L}\p{N}]+)*/gu) ?? [];
}

const AUX = new Set(["do", "does", "did", "is", "are", "am", "was", "were", "have", "has", "had", "can", "could", "will", "would", "should", "shall", "may", "might", "must"]);
const PLACE_NOUNS = new Set(["city", "cities", "town", "country", "place", "location", "neighbourhood", "neighborhood"]);
const TIME_NOUNS = new Set(["day", "date", "time", "year", "month"]);
const PERSON_NOUNS = new Set(["person", "people"]);
const HOW_MEASURES = new Set(["many", "much", "long", "far", "old", "often", "big", "tall", "fast", "soon", "late", "early"]);

/** The kind of answer asked for: a wh-word, "how-<measure>", or "yn" for a yes/no question. */
function whOf(tokens: readonly string[]): string {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1] ?? "";
    if (t === "who" || t === "whom" || t === "whose") return "who";
    if (t === "where" || t === "when" || t === "why") return t;
    if (t === "how") return HOW_MEASURES.has(next) ? `how-${next}` : "how";
    if (t === "what" || t === "which") {
      // "Which city", "what is my home city": a place is asked for; "what time", "which person" likewise.
      if (tokens.some((w) => PLACE_NOUNS.has(w))) return "where";
      if (TIME_NOUNS.has(next)) return "when";
      if (PERSON_NOUNS.has(next)) return "who";
      return "what";
    }
  }
  return tokens.length > 0 && AUX.has(tokens[0]!) ? "yn" : "what";
}

const PERSONS: Readonly<Record<string, string>> = {
  i: "1", me: "1", my: "1", mine: "1", myself: "1", we: "1", us: "1", our: "1", ours: "1", ourselves: "1",
  you: "2", your: "2", yours: "2", yourself: "2",
  he: "he", him: "he", his: "he", himself: "he",
  she: "she", her: "she", hers: "she", herself: "she",
  they: "they", them: "they", their: "they", theirs: "they", themselves: "they",
};

const NEGATORS = new Set(["not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "nowhere", "cannot"]);

const PAST_AUX = new Set(["did", "was", "were"]);
const FUTURE_MARKERS = new Set(["will", "shall", "gonna", "upcoming", "tomorrow", "soon"]);
const MODALS: Readonly<Record<string, string>> = { can: "can", could: "can", should: "should", ought: "should", would: "would", might: "may", may: "may", must: "must" };

/** Time qualifiers, folded to one spelling: "previously", "formerly" and "before" ask the same. */
const TIME_WORDS: Readonly<Record<string, string>> = {
  before: "before", previously: "before", formerly: "before", earlier: "before", prior: "before", previous: "before", former: "before", used: "before", originally: "first",
  first: "first", after: "after", later: "after", afterwards: "after", since: "since", until: "until", ago: "ago", ever: "ever", still: "still",
  anymore: "anymore", longer: "anymore", yet: "yet", again: "again", last: "last", next: "next", this: "this", today: "today", yesterday: "yesterday",
  tonight: "tonight", tomorrow: "tomorrow", recently: "recently", lately: "recently", usually: "usually", always: "always", sometimes: "sometimes",
};
const CALENDAR = /^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|weekend|week|morning|afternoon|evening|night|spring|summer|autumn|fall|winter|christmas|easter)$/;
const MONTH_ABBREVIATIONS: Readonly<Record<string, string>> = {
  jan: "january", feb: "february", mar: "march", apr: "april", jun: "june", jul: "july", aug: "august", sep: "september", sept: "september", oct: "october", nov: "november", dec: "december",
};
/** Past participles after "have"/"has" make the perfect: "where have I lived?" is not "where do I live?". */
const PARTICIPLE = /^(?:been|had|got|gotten|met|left|lost|made|paid|read|run|said|seen|sent|spent|taken|told|won|bought|brought|built|heard|kept|done|gone|known|given|[a-z]{2,}ed)$/;
const NUMBER_WORDS: Readonly<Record<string, string>> = {
  zero: "0", one: "1", two: "2", three: "3", four: "4", five: "5", six: "6", seven: "7", eight: "8", nine: "9", ten: "10", eleven: "11", twelve: "12",
  twenty: "20", thirty: "30", forty: "40", fifty: "50", hundred: "100", thousand: "1000", second: "2nd", third: "3rd", fourth: "4th", fifth: "5th", half: "0.5", twice: "x2", once: "x1",
};

/** Function words that carry nothing once wh, tense, polarity, persons and qualifiers are read. */
const FUNCTION = new Set(
  ("a an the of to in on at by for with about into onto as and or but if so that than then there here it its is are am was were be been being " +
    "do does did done doing have has had having get got go going what which who whom whose where when why how tell any some kind sort type " +
    "up out off over under through").split(" "),
);

/** Content synonyms folded to one stem, so that the common ways to ask one thing meet. */
const SYNONYMS: Readonly<Record<string, string>> = {
  based: "live", reside: "live", resides: "live", residing: "live", living: "live", lives: "live", lived: "live", located: "live", stay: "live", staying: "live",
  called: "name", named: "name", call: "name",
  working: "work", works: "work", worked: "work", employed: "work",
  favorite: "favourite", favourites: "favourite", favorites: "favourite",
  kilometers: "km", kilometres: "km", kilometer: "km", kilometre: "km", kms: "km",
  hometown: "home",
};

interface Features {
  negated: boolean;
  tense: "past" | "present" | "future" | "perfect";
  modal: string;
  time: Set<string>;
  numbers: Set<string>;
  persons: string[];
  terms: Set<string>;
}

function features(tokens: readonly string[], whWord: string, names: ReadonlySet<string>): Features {
  const out: Features = { negated: false, tense: "present", modal: "", time: new Set(), numbers: new Set(), persons: [], terms: new Set() };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1] ?? "";
    const next = tokens[i + 1] ?? "";
    if (NEGATORS.has(t)) {
      out.negated = true;
      if (t === "no" && next === "longer") out.time.add("anymore");
      continue;
    }
    if (t === "what" || t === "which" || t === "who" || t === "whom" || t === "whose" || t === "where" || t === "when" || t === "why" || t === "how") {
      continue;
    }
    // "which city", "what time", "which person": the noun is what the wh-word already says.
    if ((prev === "what" || prev === "which") && (PLACE_NOUNS.has(t) || TIME_NOUNS.has(t) || PERSON_NOUNS.has(t))) continue;
    if (prev === "how" && HOW_MEASURES.has(t)) continue;
    if (PLACE_NOUNS.has(t) && whWord === "where") continue;
    if (PAST_AUX.has(t)) {
      out.tense = out.tense === "present" ? "past" : out.tense;
      continue;
    }
    if ((t === "have" || t === "has") && (PARTICIPLE.test(next) || PARTICIPLE.test(tokens[i + 2] ?? ""))) {
      out.tense = "perfect";
      continue;
    }
    if (t === "had") {
      out.tense = "past";
      continue;
    }
    if (t === "going" && next === "to") {
      out.tense = "future";
      i++;
      continue;
    }
    if (t === "used" && next === "to") {
      out.tense = "past";
      out.time.add("before");
      i++;
      continue;
    }
    if (FUTURE_MARKERS.has(t)) {
      out.tense = "future";
      if (t !== "will" && t !== "shall") out.time.add(t);
      continue;
    }
    if (t in MODALS && !(t === "may" && (prev === "in" || next === "1" || /^\d/.test(next)))) {
      out.modal = MODALS[t]!;
      continue;
    }
    if ((t === "need" || t === "have" || t === "has") && next === "to") {
      out.modal = "must";
      i++;
      continue;
    }
    if (t in PERSONS || (names.has(t) && !CALENDAR.test(t))) {
      const p = PERSONS[t] ?? `@${t}`;
      if (out.persons[out.persons.length - 1] !== p) out.persons.push(p);
      continue;
    }
    if (t in TIME_WORDS) {
      out.time.add(TIME_WORDS[t]!);
      continue;
    }
    if (CALENDAR.test(t)) {
      out.time.add(MONTH_ABBREVIATIONS[t] ?? t);
      continue;
    }
    if (/^\d+(?:[.,:]\d+)*(?:st|nd|rd|th|s|am|pm|k|km|h)?$/.test(t)) {
      out.numbers.add(t.replace(/,/g, ""));
      continue;
    }
    if (t === "one" && (prev === "which" || prev === "what" || prev === "the")) continue;
    if (t in NUMBER_WORDS) {
      out.numbers.add(NUMBER_WORDS[t]!);
      continue;
    }
    if (FUNCTION.has(t) || AUX.has(t)) continue;
    const folded = SYNONYMS[t] ?? t;
    out.terms.add(stem(folded));
  }
  if (out.tense === "present" && !tokens.some((t) => AUX.has(t))) {
    // A question without an auxiliary ("who visited me?") is in the past by its verb.
    for (const t of tokens) if (/^[a-z]{3,}ed$/.test(t) && !PRESENT_ED.has(t)) out.tense = "past";
  }
  return out;
}

/** Words ending in -ed that are adjectives or names of states, not past verbs. */
const PRESENT_ED = new Set(["based", "called", "named", "married", "interested", "allergic", "located", "supposed", "registered", "subscribed", "employed", "need", "related", "retired", "divorced", "engaged", "used", "scared", "worried", "excited", "tired", "bored", "red", "bed", "shed", "seed", "feed", "speed", "weed", "embed"]);
