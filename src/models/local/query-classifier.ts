import type { QueryUnderstanding } from "../prompts/query-understanding.js";
import { findEntities, unique } from "./entities.js";
import { contentWords, normaliseQuotes, words } from "./text.js";

/** Words that name an attribute, by attribute. "job" names both the employer and the occupation. */
const ATTRIBUTE_WORDS: ReadonlyArray<readonly [attribute: string, words: readonly string[]]> = [
  ["plan", ["plan", "plans", "subscription", "subscriptions", "tier", "tiers", "subscribed", "pricing", "package", "edition"]],
  ["location", ["live", "lives", "located", "location", "city", "country", "based", "hometown", "reside", "resides", "address"]],
  ["employer", ["work", "works", "working", "employer", "employed", "company", "job", "workplace"]],
  ["occupation", ["job", "role", "occupation", "profession", "title", "career"]],
  ["name", ["name", "named", "called", "call"]],
  ["likes", ["like", "likes", "love", "loves", "enjoy", "enjoys", "favourite", "favorite", "favourites", "favorites", "prefer", "prefers", "preference", "preferences", "fan", "hobby", "hobbies", "interests"]],
  ["dislikes", ["dislike", "dislikes", "hate", "hates", "detest", "avoid"]],
  ["instruction", ["instruction", "instructions", "rule", "rules"]],
];

/** Words that hint at an attribute only when nothing else does: "where do I work?" asks for the employer. */
const WEAK_ATTRIBUTE_WORDS: ReadonlyArray<readonly [attribute: string, words: readonly string[]]> = [
  ["location", ["where", "from"]],
];

const INSTRUCTION =
  /\b(?:instructions?|rules?|guidelines?|behave|behaviou?r|standing\s+orders?)\b|\bhow\s+(?:should|do|must)\s+you\s+(?:respond|reply|answer|write|talk|format|address|greet|act|speak)\b|\bwhat\s+(?:did|have)\s+I\s+(?:tell|told|ask|asked)\s+you\s+to\b|\b(?:always|never)\b|\bpreferences?\s+for\s+(?:your\s+)?(?:answers?|responses?|replies|format(?:ting)?)\b|\bhow\s+(?:do|should)\s+I\s+want\s+you\b/i;
const CHUNK =
  /\b(?:documents?|docs?|documentation|polic(?:y|ies)|manuals?|guides?|handbook|sections?|articles?|faqs?|spec(?:ification)?s?|knowledge\s+base|according\s+to|clauses?|chapters?)\b/i;
const SUMMARY =
  /\b(?:summari[sz]e|summary|overview|everything|recap|tell\s+me\s+about|what\s+do\s+you\s+know|all\s+about|in\s+general)\b/i;
const ABOUT_ASKER = /\b(?:my|I|me|mine|myself|I'm|I've|am\s+I)\b/i;
/** "Tell me about Ana" asks about Ana, not about the asker. */
const ADDRESSED_ME = /\b(?:tell|give|show|remind|let|help)\s+me\b/gi;
const OCCUPATION_PHRASE = /\bdo\s+for\s+(?:a\s+)?living\b|\bwhat\s+do\s+I\s+do\b/i;

/** Classifies a recall question: its type, the subjects and attributes it asks about, and its keywords. */
export function classifyQuery(query: string): QueryUnderstanding {
  const text = normaliseQuotes(query);
  const type = INSTRUCTION.test(text)
    ? "instruction"
    : CHUNK.test(text)
      ? "chunk"
      : SUMMARY.test(text)
        ? "summary"
        : "fact";
  const subjects = unique([
    ...(ABOUT_ASKER.test(text.replace(ADDRESSED_ME, "")) ? ["user"] : []),
    ...findEntities(text).map((entity) => entity.toLowerCase()),
  ]);
  const attributes = queryAttributes(text);
  if (type === "instruction" && !attributes.includes("instruction")) attributes.push("instruction");
  return { type, subjects, attributes, keywords: unique(contentWords(text)) };
}

/** The attributes a text asks about, in the order of the synonym table. */
export function queryAttributes(text: string): string[] {
  const tokens = new Set(words(text).map((w) => w.toLowerCase()));
  const found = ATTRIBUTE_WORDS.filter(([, synonyms]) => synonyms.some((w) => tokens.has(w))).map(([a]) => a);
  if (OCCUPATION_PHRASE.test(text) && !found.includes("occupation")) found.push("occupation");
  if (found.length === 0) {
    for (const [attribute, synonyms] of WEAK_ATTRIBUTE_WORDS) {
      if (synonyms.some((w) => tokens.has(w))) found.push(attribute);
    }
  }
  return found;
}

/** The words that name an attribute ("location": live, city, based, …), for matching records to questions. */
export function attributeWords(attribute: string): readonly string[] {
  return ATTRIBUTE_WORDS.find(([a]) => a === attribute)?.[1] ?? [];
}
