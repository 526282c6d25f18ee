import type { ResponseInput } from "../prompts/response.js";
import { findEntities } from "./entities.js";
import { classifyQuery, attributeWords } from "./query-classifier.js";
import { contentWords, stem } from "./text.js";

type ResponseRecord = ResponseInput["records"][number];

/**
 * Least share of a question's content terms a record must contain to be answered from. Calibrated on LoCoMo
 * category 5 (questions memory cannot answer) against categories 1–4, on the development split (samples 0–4)
 * only, as the best balanced accuracy of a sweep: "don't know" on 78% of category 5 and on 53% of categories
 * 1–4 there (0.6 would reach 90% on category 5 at the price of 68% on 1–4). `npm run bench -- --only=answers`
 * re-runs the sweep and reports the test split (samples 5–9) at this value.
 */
export const RELEVANCE_THRESHOLD = 0.5;

/** Words that frame a question without being what it is about ("what kind of music"). */
const FRAME = new Set([
  "kind", "kinds", "type", "types", "sort", "sorts", "thing", "things", "stuff", "way", "ways", "lot", "bit", "happen", "happened",
  // "Where do I live now?" asks where I live.
  "now", "currently", "nowadays", "presently", "again", "right",
  // Asking about a document names the document, not what is in it.
  "policy", "policies", "document", "documents", "doc", "docs", "documentation", "manual", "guide", "handbook", "section", "article", "faq", "according",
]);

export interface QuestionTerms {
  /** Stemmed content terms, names out. */
  terms: ReadonlySet<string>;
  /** Lower-cased names the question is about ("Caroline"): a record about someone else does not answer it. */
  names: readonly string[];
  /** Attributes asked about (location, employer, …). */
  attributes: readonly string[];
  /** Subjects asked about ("user" for I/my). */
  subjects: readonly string[];
}

export function questionTerms(query: string): QuestionTerms {
  const understood = classifyQuery(query);
  const names = findEntities(query).map((n) => n.toLowerCase());
  const nameWords = new Set(names.flatMap((n) => n.split(/\s+/)));
  const terms = new Set<string>();
  // "How long", "how many": the measure asks for the answer's form, not its topic.
  const topic = query.replace(/\bhow\s+(?:long|many|much|far|often|old|big|soon)\b/gi, " ");
  for (const w of contentWords(topic)) if (!nameWords.has(w) && !FRAME.has(w)) terms.add(stem(w));
  return { terms, names, attributes: understood.attributes, subjects: understood.subjects };
}

export interface Relevance {
  /** Share of the question's terms the record's text, value, attribute and names contain (1 when it has none). */
  coverage: number;
  /** The record states the attribute asked about. */
  attributeMatch: boolean;
  /** The record is about the subject asked about (a record about the user for "my"). */
  subjectMatch: boolean;
  /** Every name in the question is one the record is about or mentions. */
  namesAgree: boolean;
}

/**
 * How well one record answers a question, from words alone: independent of any retrieval score, so a change
 * of ranking or fusion does not move the threshold.
 */
export function recordRelevance(q: QuestionTerms, record: ResponseRecord): Relevance {
  const about = new Set<string>();
  for (const n of record.entities ?? []) for (const w of n.toLowerCase().split(/\s+/)) about.add(w);
  const own = new Set<string>();
  for (const w of contentWords(`${record.text} ${record.value ?? ""}`)) {
    own.add(stem(w));
    about.add(w);
  }
  if (record.subject) for (const w of record.subject.toLowerCase().split(/\s+/)) about.add(w);
  const attributeMatch = record.attribute !== null && q.attributes.includes(record.attribute);
  if (record.attribute) for (const w of attributeWords(record.attribute)) own.add(stem(w));
  for (const w of about) own.add(stem(w));
  let covered = 0;
  for (const t of q.terms) if (own.has(t)) covered++;
  // A question about standing instructions asks for all of them, however it words it ("how should you respond?").
  const whole = attributeMatch && (q.terms.size === 0 || record.attribute === "instruction");
  const coverage = whole ? 1 : q.terms.size === 0 ? 0 : covered / q.terms.size;
  const namesAgree = q.names.every((name) => name.split(/\s+/).every((w) => about.has(w))) && speakerAgrees(q, record);
  const subjectMatch = record.subject !== null && q.subjects.includes(record.subject);
  return { coverage, attributeMatch, subjectMatch, namesAgree };
}

/**
 * In a conversation between named people, a record about "user" is about whoever said it: its speaker. A
 * question that names people asks about them, so such a record answers it only when its speaker is one of them
 * ("What did Melanie paint?" is not answered by Caroline's "I painted a sunset, Melanie", which names her).
 */
function speakerAgrees(q: QuestionTerms, record: ResponseRecord): boolean {
  if (q.names.length === 0 || record.subject !== "user" || !record.speaker) return true;
  const speaker = record.speaker.toLowerCase().split(/\s+/);
  const isSpeaker = (name: string) => name.split(/\s+/).some((w) => speaker.includes(w));
  // What a speaker says in the second person ("You ran a charity race?") is about whom they talk to.
  if (SECOND_PERSON.test(record.text)) return q.names.some((name) => !isSpeaker(name));
  return q.names.some(isSpeaker);
}

const SECOND_PERSON = /\b(?:you|your|yours|yourself)\b/i;

/** The highest coverage among records whose names agree: what the threshold is compared with. */
export function bestCoverage(query: string, records: ResponseInput["records"]): number {
  const q = questionTerms(query);
  let best = 0;
  for (const r of records) {
    const rel = recordRelevance(q, r);
    if (rel.namesAgree) best = Math.max(best, rel.coverage);
  }
  return best;
}
