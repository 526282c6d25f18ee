import type { ResponseInput, ResponseOutput } from "../prompts/response.js";
import { classifyQuery } from "./query-classifier.js";
import { article, asSentence, joinList, stem, words } from "./text.js";

type ResponseRecord = ResponseInput["records"][number];

/** The answer when nothing relevant is in memory; callers may match on it. */
export const NO_ANSWER = "I don't know: nothing in memory answers that.";
const MAX_RECORDS = 3;

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
 * The template response task. Records arrive ranked; the most relevant (sharing an attribute or keywords
 * with the question) are answered from, up to three, in second person when they are about "user".
 * Disputed (flagged) records are marked so the asker never takes them as settled.
 */
export function composeResponse(input: ResponseInput): ResponseOutput {
  const chosen = selectRecords(input);
  if (chosen.length === 0) return { answer: NO_ANSWER, used: [] };
  const sentences: string[] = [];
  const used: string[] = [];
  const grouped = new Set<string>();
  for (const record of chosen) {
    if (grouped.has(record.id)) continue;
    const group = listGroup(record, chosen);
    group.forEach((r) => grouped.add(r.id));
    sentences.push(render(group));
    used.push(...group.map((r) => r.id));
  }
  return { answer: sentences.join(" "), used };
}

function selectRecords(input: ResponseInput): ResponseRecord[] {
  if (input.records.length === 0) return [];
  const query = classifyQuery(input.query);
  const keywords = new Set(query.keywords.map(stem));
  const scored = input.records.map((record, index) => ({ record, index, score: relevance(record, query.attributes, keywords) }));
  const relevant = scored.filter((s) => s.score > 0).sort((a, b) => b.score - a.score || a.index - b.index);
  // Nothing overlaps the question's words: trust the caller's ranking rather than answering nothing.
  const picked = relevant.length > 0 ? relevant.map((s) => s.record) : [...input.records];
  return picked.slice(0, MAX_RECORDS);
}

function relevance(record: ResponseRecord, attributes: readonly string[], keywords: ReadonlySet<string>): number {
  let score = record.attribute !== null && attributes.includes(record.attribute) ? 3 : 0;
  const seen = new Set<string>();
  for (const word of words(`${record.text} ${record.value ?? ""} ${record.attribute ?? ""}`)) {
    const s = stem(word);
    if (keywords.has(s) && !seen.has(s)) {
      seen.add(s);
      score += 1;
    }
  }
  return score;
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
