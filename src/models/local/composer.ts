import type { ResponseInput, ResponseOutput } from "../prompts/response.js";
import { questionTerms, recordRelevance, RELEVANCE_THRESHOLD, type QuestionTerms } from "./answer-relevance.js";
import { article, asSentence, joinList, splitSentences } from "./text.js";

type ResponseRecord = ResponseInput["records"][number];

/** The answer when nothing relevant is in memory; callers may match on it. */
export const NO_ANSWER = "I don't know: nothing in memory answers that.";
const MAX_RECORDS = 3;
/** At most this many records in the overview a summary question gets. */
const SUMMARY_RECORDS = 5;

const USER_TEMPLATES: Readonly<Record<string, readonly [plain: (v: string) => string, hedged: (v: string) => string]>> = {
  plan: [(v) => `You are on the ${v} plan`, (v) => `You may be on the ${v} plan`],
  location: [(v) => `You live in ${v}`, (v) => `You may live in ${v}`],
  employer: [(v) => `You work at ${v}`, (v) => `You may work at ${v}`],
  occupation: [(v) => `You are ${article(v)} ${v}`, (v) => `You may be ${article(v)} ${v}`],
  name: [(v) => `Your name is ${v}`, (v) => `Your name may be ${v}`],
  likes: [(v) => `You like ${v}`, (v) => `You may like ${v}`],
  dislikes: [(v) => `You dislike ${v}`, (v) => `You may dislike ${v}`],
  instruction: [(v) => `You told me: ${v}`, (v) => `You may have told me: ${v}`],
};

/** Attributes whose values read well as one list ("You like hiking and chess"). */
const LISTABLE = new Set(["likes", "dislikes", "instruction"]);

/**
 * The template response task. A record answers the question when it contains enough of the question's
 * content terms (RELEVANCE_THRESHOLD, calibrated on unanswerable questions) and is about the names the
 * question asks about; when none does, the answer is NO_ANSWER. Among those, records stating the attribute
 * asked about, for the subject asked about, come first and alone ("Where do I live?" is answered by where
 * the user lives, not by where the user's sister does); at most three, in second person when about "user",
 * and never the same sentence twice. Disputed (flagged) records are marked so the asker never takes them as settled.
 */
export function composeResponse(input: ResponseInput, threshold = RELEVANCE_THRESHOLD): ResponseOutput {
  const q = questionTerms(input.query);
  const chosen = input.type === "summary" ? selectSummary(q, input, threshold) : selectRecords(q, input, threshold);
  if (chosen.length === 0) return { answer: NO_ANSWER, used: [] };
  const sentences: string[] = [];
  const said = new Set<string>();
  const used: string[] = [];
  const grouped = new Set<string>();
  for (const record of chosen) {
    if (grouped.has(record.id)) continue;
    const group = listGroup(record, chosen);
    group.forEach((r) => grouped.add(r.id));
    // A passage says more than was asked: only its sentences that answer are kept.
    const rendered = record.kind === "chunk" ? answeringSentences(q, record, threshold) : splitSentences(render(group));
    const fresh = rendered.filter((sentence) => !said.has(sentenceKey(sentence)));
    if (fresh.length === 0) continue;
    for (const sentence of fresh) said.add(sentenceKey(sentence));
    sentences.push(...fresh);
    used.push(...group.map((r) => r.id));
  }
  return { answer: sentences.join(" "), used };
}

/** Two sentences are the same when they differ only in case, spacing and punctuation. */
function sentenceKey(sentence: string): string {
  return sentence.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

function answeringSentences(q: QuestionTerms, record: ResponseRecord, threshold: number): string[] {
  const all = splitSentences(record.text).map(asSentence);
  const relevant = all.filter((text) => recordRelevance(q, { ...record, text }).coverage >= threshold);
  return relevant.length > 0 ? relevant : all.slice(0, 1);
}

function selectRecords(q: QuestionTerms, input: ResponseInput, threshold: number): ResponseRecord[] {
  if (input.records.length === 0) return [];
  const scored = input.records
    .map((record, index) => ({ record, index, ...recordRelevance(q, record) }))
    .filter((s) => s.namesAgree && s.coverage >= threshold);
  // The attribute asked about, stated for the subject asked about, is the answer; others only without it.
  const exact = scored.filter((s) => s.attributeMatch && s.subjectMatch);
  const pool = exact.length > 0 ? exact : scored;
  pool.sort((a, b) => b.coverage - a.coverage || Number(b.attributeMatch) - Number(a.attributeMatch) || a.index - b.index);
  return pool.slice(0, MAX_RECORDS).map((s) => s.record);
}

/**
 * A summary question ("What do you know about Ana?") is answered by an overview: the observations first (the
 * consolidated view, first in the input: pipeline/recall/dispatch.ts), then the top facts about the names it
 * (or the asker's own, for "me"), up to SUMMARY_RECORDS, whether or not each shares the question's words.
 * Nothing about them is still "don't know"; asked about nobody, the facts must match as any answer's do.
 */
function selectSummary(q: QuestionTerms, input: ResponseInput, threshold: number): ResponseRecord[] {
  const scored = input.records.map((record) => ({ record, ...recordRelevance(q, record) }));
  const named = scored.filter((s) => s.namesAgree && s.record.kind !== "chunk");
  const pool =
    q.names.length > 0
      ? named
      : q.subjects.includes("user")
        ? named.filter((s) => s.record.subject === "user")
        : named.filter((s) => s.coverage >= threshold);
  return pool.slice(0, SUMMARY_RECORDS).map((s) => s.record);
}

function isAboutUser(record: ResponseRecord): boolean {
  return record.subject === "user" && record.attribute !== null && record.value !== null && record.attribute in USER_TEMPLATES;
}

/** A record and the other chosen records it shares one list sentence with: same listable attribute and standing. */
function listGroup(record: ResponseRecord, chosen: readonly ResponseRecord[]): ResponseRecord[] {
  if (!isAboutUser(record) || !LISTABLE.has(record.attribute ?? "")) return [record];
  return chosen.filter(
    (r) => isAboutUser(r) && r.attribute === record.attribute && r.kind === record.kind && r.status === record.status,
  );
}

function render(group: readonly ResponseRecord[]): string {
  const first = group[0];
  if (first === undefined) return "";
  const templates = isAboutUser(first) ? USER_TEMPLATES[first.attribute ?? ""] : undefined;
  const body =
    templates === undefined
      ? first.text.trim().replace(/[.!?]+$/, "")
      : templates[first.kind === "uncertainty" ? 1 : 0](joinList(group.map(listItem)));
  return asSentence(`${body}${statusNote(first.status)}`);
}

/** Instructions are quoted: they are the user's own words. */
function listItem(record: ResponseRecord): string {
  const value = record.value ?? "";
  return record.attribute === "instruction" ? `"${value}"` : value;
}

function statusNote(status: string): string {
  if (status === "flagged") return " (disputed)";
  if (status === "current") return "";
  return ` (${status})`;
}
