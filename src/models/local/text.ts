/**
 * Shared English text helpers for the local provider: sentence splitting, tokenising, stop words and a
 * light stemmer. Everything here is pure and allocation-light because the hash embedder runs on hot paths.
 */

/**
 * Function words, auxiliaries, pronouns, question words, fillers and hedge verbs. They carry no topic of
 * their own, so they never count as content, never become keywords and weigh little in embeddings.
 * Contractions appear both with and without the apostrophe because the embedder strips apostrophes.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a an the and or but if then else so because as of at by for with about against between into through " +
    "during before after above below to from up down in out on off over under again further once here there " +
    "all any both each few more most other some such no nor not only own same than too very can will just " +
    "should would could might may must shall " +
    "i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his himself she " +
    "her hers herself it its itself they them their theirs themselves " +
    "what which who whom whose when where why how " +
    "am is are was were be been being have has had having do does did doing done get got " +
    "this that these those there's here's " +
    "i'm i've i'd i'll you're you've you'd you'll he's she's it's we're we've we'd we'll they're they've " +
    "they'd they'll isn't aren't wasn't weren't haven't hasn't hadn't don't doesn't didn't won't wouldn't " +
    "can't cannot couldn't shouldn't mustn't let's that's what's who's where's when's how's " +
    "im ive id ill youre youve youd youll hes shes its were weve wed well theyre theyve isnt arent wasnt " +
    "werent havent hasnt hadnt dont doesnt didnt wont wouldnt cant couldnt shouldnt lets thats whats " +
    "hi hello hey ok okay yes yeah yep no nope oh ah um uh hmm lol thanks thank please sure well right " +
    "think guess suppose believe maybe perhaps probably possibly really actually just also still even " +
    "know mean tell anything something everything nothing one ones s t"
  ).split(" "),
);

/** True for stop words (compared lower-case). */
export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word.toLowerCase());
}

/** Typographic apostrophes and quotes become ASCII so that patterns need one spelling. */
export function normaliseQuotes(text: string): string {
  return text.replace(/[\u2018\u2019\u02bc]/g, "'").replace(/[\u201c\u201d]/g, '"');
}

const WORD = /[\p{L}\p{N}]+(?:'[\p{L}]+)*/gu;

/** Words in their original case, contractions and possessives kept whole ("I'm", "Ana's"). */
export function words(text: string): string[] {
  return normaliseQuotes(text).match(WORD) ?? [];
}

/** Lower-case content words (stop words and single letters removed), in order, with repeats. */
export function contentWords(text: string): string[] {
  const out: string[] = [];
  for (const word of words(text)) {
    const lower = stripPossessive(word.toLowerCase());
    if (lower.length > 1 && !STOP_WORDS.has(lower)) out.push(lower);
  }
  return out;
}

/** Approximate token count used for usage accounting: one per word or digit run. */
export function countWords(text: string): number {
  let count = 0;
  const re = /[\p{L}\p{N}]+/gu;
  while (re.exec(text) !== null) count++;
  return count;
}

export function stripPossessive(word: string): string {
  return word.endsWith("'s") ? word.slice(0, -2) : word;
}

/**
 * A deliberately small suffix stripper: "lives"/"living"/"live" and "plans"/"planned" meet on one stem.
 * Precision is not the point; paraphrases sharing a stem is.
 */
export function stem(word: string): string {
  let w = stripPossessive(word.toLowerCase());
  if (w.length > 4 && w.endsWith("ies")) w = `${w.slice(0, -3)}y`;
  else if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  const last = w.charCodeAt(w.length - 1);
  if (w.length > 3 && last === w.charCodeAt(w.length - 2) && !/[aeiouy]/.test(w.charAt(w.length - 1))) {
    w = w.slice(0, -1);
  }
  return w;
}

const ABBREVIATION = /(?:^|\s)(?:mr|mrs|ms|dr|prof|st|sr|jr|vs|etc|inc|ltd|co|no|e\.g|i\.e|approx)\.$/i;

/**
 * Splits text into trimmed sentences, keeping the terminal punctuation (a trailing "?" marks a question).
 * Line breaks also end sentences, so that bullet lists and transcripts split per line.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const line of normaliseQuotes(text).split(/\n+/)) {
    let pending = "";
    for (const piece of line.split(/(?<=[.!?])\s+/)) {
      pending = pending ? `${pending} ${piece}` : piece;
      if (!ABBREVIATION.test(pending)) {
        if (pending.trim()) out.push(pending.trim());
        pending = "";
      }
    }
    if (pending.trim()) out.push(pending.trim());
  }
  return out;
}

/** "hiking" → "Hiking". */
export function capitaliseFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "Always answer in French" → "always answer in French", leaving "I" and acronyms alone. */
export function lowerFirst(text: string): string {
  if (/^(?:I\b|[A-Z]{2,})/.test(text)) return text;
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Removes trailing punctuation and white space. */
export function trimPunctuation(text: string): string {
  return text.replace(/^[\s"'(\[,;:-]+|[\s"')\],;:.!?-]+$/g, "");
}

/** A statement ending in exactly one full stop ("!" and "…" become "."; a question keeps its "?"). */
export function asSentence(text: string): string {
  const body = text.trim().replace(/[\s,;:.!\u2026]+$/, "");
  return body.endsWith("?") ? body : `${body}.`;
}

/** Joins items as English prose: "a", "a and b", "a, b and c". */
export function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "a" or "an" before a word, by its first letter. */
export function article(word: string): "a" | "an" {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/** Lower-case, punctuation removed, white space collapsed: the form used to compare texts and values. */
export function normaliseForComparison(text: string): string {
  return normaliseQuotes(text)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\b(?:the|a|an)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}
