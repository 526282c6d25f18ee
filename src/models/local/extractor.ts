import type { ExtractedFact, Extraction, ExtractionInput } from "../prompts/extraction.js";
import { extractDocument } from "./document-extractor.js";
import { findEntities, isProperNoun, unique } from "./entities.js";
import { isHedged, stripHedges } from "./hedges.js";
import { matchIdentity, type IdentityMatch } from "./identity-patterns.js";
import { isInstruction, parseInstruction } from "./instructions.js";
import { toThirdPerson } from "./third-person.js";
import { asSentence, contentWords, normaliseForComparison, splitSentences, words } from "./text.js";

/** Confidence by how the statement was made. Hedges stay below the 0.6 the extraction prompt asks for. */
const CONFIDENCE = { plain: 0.9, instruction: 0.9, tentative: 0.5, hedged: 0.4, context: 0.7 } as const;

const QUESTION_START =
  /^(?:who|whom|whose|what|when|where|why|how|which|do|does|did|is|are|was|were|am|can|could|would|will|should|shall|may|have|has|had)\b/i;

/** Interjections and connectives in front of a statement: "Hi, I'm Ana", "Oh and I moved to Porto". */
const LEADING_FILLER =
  /^(?:(?:hi|hello|hey|ok|okay|so|well|oh|yeah|yes|no|also|actually|btw|by\s+the\s+way|and|but|anyway|now|hmm|um|uh|alright|right|great|cool|sure|honestly|basically|fyi)(?![\p{L}'])[\s,!.:;-]*)+/iu;

/** Sentences that are social noise as a whole, however many words they have. */
const SOCIAL =
  /^(?:thanks|thank\s+you|thx|ty|cheers|bye|goodbye|good\s+(?:morning|afternoon|evening|night)|nice\s+to\s+meet\s+you|see\s+you|you're\s+welcome|no\s+problem|no\s+worries|sounds\s+good|got\s+it|never\s+mind|lol|haha)\b/i;
const GREETING = /^(?:hi|hello|hey|dear|yo)\b/i;

/** "I live in Lisbon and work at Acme": a second verb whose subject "I" is left out. */
const ELIDED_I = /,?\s+and\s+(?=(?:work\s+(?:at|for|as)|live\s+in|love|like|enjoy|hate|dislike|prefer|moved\s+to|joined|started)\b)/g;
/** Clause boundaries inside a sentence: "; ", "and I …", ", my …" — each clause may state its own fact. */
const CLAUSE_BREAK = /\s*;\s*|,?\s+(?:and|but|so|plus)\s+(?=(?:I|my|My|we|We)\b)|,\s+(?=(?:I|my|we)\b)/g;
/** A left-hand part that can stand alone: it has a subject and verb of its own, or is long enough to. */
const STANDS_ALONE = /\b(?:I|I'm|I've|I'd|I'll|we|we're|is|are|was|were|am|have|has)\b/i;

/**
 * Splits a sentence into clauses, but keeps "My wife and I live in Lisbon" whole: a break is taken only
 * when the part before it could be a statement of its own.
 */
function splitClauses(sentence: string): string[] {
  const clauses: string[] = [];
  let start = 0;
  for (const match of sentence.matchAll(CLAUSE_BREAK)) {
    const left = sentence.slice(start, match.index);
    if (match[0].includes(";") || STANDS_ALONE.test(left) || left.trim().split(/\s+/).length >= 4) {
      clauses.push(left);
      start = match.index + match[0].length;
    }
  }
  clauses.push(sentence.slice(start));
  return clauses;
}

interface Speaker {
  /** The name the turn's speaker goes by in the transcript, added to every fact's entities. */
  name: string | undefined;
}

/**
 * The rule-based extraction task. User turns yield identity facts, instructions, uncertainties and
 * context facts about "user"; other roles yield context facts only; documents yield knowledge facts.
 */
export function extract(input: ExtractionInput): Extraction {
  if (input.source === "document") return { facts: extractDocument(input.content) };
  const speaker: Speaker = { name: input.speaker?.trim() || undefined };
  const facts: ExtractedFact[] = [];
  for (const sentence of splitSentences(input.content)) {
    if (isSocial(sentence) || sentence.endsWith("?")) continue;
    for (const raw of splitClauses(sentence.replace(ELIDED_I, "; I "))) {
      const clause = raw.replace(LEADING_FILLER, "").trim();
      if (!clause) continue;
      facts.push(...(input.role === "user" ? userClause(clause, speaker) : otherClause(clause, input.role, speaker)));
    }
  }
  return { facts: dedupe(facts) };
}

function isSocial(sentence: string): boolean {
  return SOCIAL.test(sentence) || (GREETING.test(sentence) && words(sentence).length <= 3);
}

function userClause(clause: string, speaker: Speaker): ExtractedFact[] {
  if (isInstruction(clause)) {
    const { value, text } = parseInstruction(clause);
    return [
      {
        kind: "instruction",
        memory_category: "identity",
        subject: "user",
        attribute: "instruction",
        value,
        cardinality: "many",
        text,
        confidence: CONFIDENCE.instruction,
        entities: entitiesOf(clause, speaker),
      },
    ];
  }
  if (QUESTION_START.test(clause) || contentWords(clause).length === 0) return [];
  const hedged = isHedged(clause);
  const matches = matchIdentity(hedged ? stripHedges(clause) : clause);
  if (matches.length > 0) return matches.map((match) => identityFact(match, clause, hedged, speaker));
  return [contextFact(clause, "user", toThirdPerson(clause, "User"), hedged, speaker)];
}

function identityFact(match: IdentityMatch, clause: string, hedged: boolean, speaker: Speaker): ExtractedFact {
  const uncertain = hedged || match.tentative;
  return {
    kind: uncertain ? "uncertainty" : "attribute",
    memory_category: "identity",
    subject: "user",
    attribute: match.attribute,
    value: match.value,
    cardinality: match.cardinality,
    text: uncertain ? match.hedgedText : match.text,
    confidence: hedged ? CONFIDENCE.hedged : match.tentative ? CONFIDENCE.tentative : CONFIDENCE.plain,
    entities: entitiesOf(clause, speaker, isProperNoun(match.value) ? [match.value] : []),
  };
}

/** Assistant, system and tool turns: context only, never identity (the speaker is not the user). */
function otherClause(clause: string, role: ExtractionInput["role"], speaker: Speaker): ExtractedFact[] {
  if (QUESTION_START.test(clause) || contentWords(clause).length === 0) return [];
  const text =
    role === "assistant"
      ? toThirdPerson(clause, "Assistant", "User")
      : role === "system"
        ? toThirdPerson(clause, "System", "Assistant")
        : asSentence(clause);
  return [contextFact(clause, role, text, false, speaker)];
}

function contextFact(clause: string, subject: string, text: string, hedged: boolean, speaker: Speaker): ExtractedFact {
  return {
    kind: hedged ? "uncertainty" : "attribute",
    memory_category: "context",
    subject,
    attribute: null,
    value: null,
    cardinality: "many",
    text,
    confidence: hedged ? CONFIDENCE.hedged : CONFIDENCE.context,
    entities: entitiesOf(clause, speaker),
  };
}

function entitiesOf(clause: string, speaker: Speaker, extra: readonly string[] = []): string[] {
  return unique([...(speaker.name ? [speaker.name] : []), ...findEntities(clause), ...extra]);
}

/** A turn that says the same thing twice stores it once. */
function dedupe(facts: readonly ExtractedFact[]): ExtractedFact[] {
  const seen = new Set<string>();
  return facts.filter((f) => {
    const key = `${f.kind}|${f.attribute ?? ""}|${normaliseForComparison(f.value ?? f.text)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
