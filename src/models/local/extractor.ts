import type { ExtractedFact, Extraction, ExtractionInput } from "../prompts/extraction.js";
import { extractDocument } from "./document-extractor.js";
import { negateValue } from "../attributes.js";
import { assistantStatement, MAX_ASSISTANT_RECORDS, RESTATES_USER } from "./assistant-statements.js";
import { findEntities, isProperNoun, unique } from "./entities.js";
import { factText, type Mode } from "./fact-text.js";
import { isHedged, stripHedges } from "./hedges.js";
import { matchIdentity, type IdentityMatch } from "./identity-patterns.js";
import { isInstruction, parseInstruction } from "./instructions.js";
import { findMentions, type NamedPerson } from "./mentions.js";
import { polarity } from "./negation.js";
import { matchPersonal, type PersonalMatch } from "./personal-patterns.js";
import { matchPlan } from "./plans.js";
import { toThirdPerson } from "./third-person.js";
import { asSentence, contentWords, lowerFirst, normaliseForComparison, splitSentences, stem, words } from "./text.js";

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
/** Acknowledgements that are the whole sentence: "Sure, go ahead.", "Perfect!", "Fair enough." */
const ACKNOWLEDGEMENT =
  /^(?:(?:sure|ok|okay|yes|yeah|great|perfect|fine|alright|right|cool)[\s,!.]*)*(?:go\s+ahead|go\s+for\s+it|perfect|fair\s+enough|makes\s+sense|that\s+works|will\s+do|of\s+course|sounds\s+(?:great|perfect|fine|good)|that's\s+(?:fine|great|perfect|helpful))?[\s.!]*$/i;
const GREETING = /^(?:hi|hello|hey|dear|yo)\b/i;

/** "I live in Lisbon and work at Acme": a second verb whose subject "I" is left out. */
const ELIDED_I = /,?\s+and\s+(?:(now|also|still|currently|then)\s+)?(?=(?:work\s+(?:at|for|as)|live\s+in|love|like|enjoy|hate|dislike|prefer|moved\s+to|joined|started)\b)/g;
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
 * The rule-based extraction task. User turns yield identity facts (lasting facts about the user: work, family,
 * health, diet, age, pets, preferences, plans), instructions, uncertainties and context facts about "user";
 * a user's question yields only what it mentions in passing ("my cat Luna"). Assistant turns yield at most
 * two statements of their own (never a restatement of the user, small talk or advice); system and tool
 * turns yield context facts; documents yield knowledge facts.
 */
export function extract(input: ExtractionInput): Extraction {
  if (input.source === "document") return { facts: extractDocument(input.content) };
  const speaker: Speaker = { name: input.speaker?.trim() || undefined };
  const facts: ExtractedFact[] = [];
  let assistantRecords = 0;
  for (const sentence of splitSentences(input.content)) {
    const question = sentence.endsWith("?");
    if (isSocial(sentence) || (question && input.role !== "user")) continue;
    // "You told me you're allergic to shellfish, so I avoided seafood": the whole sentence restates the user.
    if (input.role === "assistant" && RESTATES_USER.test(sentence)) continue;
    for (const raw of splitClauses(sentence.replace(ELIDED_I, (_, adverb?: string) => (adverb ? `; I ${adverb} ` : "; I ")))) {
      const clause = raw.replace(LEADING_FILLER, "").trim();
      if (!clause) continue;
      if (input.role === "user") facts.push(...userClause(clause, speaker, question));
      else if (input.role !== "assistant" || assistantRecords < MAX_ASSISTANT_RECORDS) {
        const found = otherClause(clause, input.role, speaker);
        if (input.role === "assistant") assistantRecords += found.length;
        facts.push(...found);
      }
    }
  }
  return { facts: dedupe(facts) };
}

function isSocial(sentence: string): boolean {
  const body = sentence.replace(LEADING_FILLER, "");
  return SOCIAL.test(sentence) || SOCIAL.test(body) || ACKNOWLEDGEMENT.test(sentence) || (GREETING.test(sentence) && words(sentence).length <= 3);
}

function userClause(clause: string, speaker: Speaker, question: boolean): ExtractedFact[] {
  if (!question && isInstruction(clause)) {
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
  // Every personal pattern needs the speaker in the clause; a clause without one is context, at no pattern's cost.
  if (!FIRST_PERSON_WORD.test(clause)) {
    if (question || QUESTION_START.test(clause) || contentWords(clause).length === 0) return [];
    return [contextFact(clause, "user", toThirdPerson(clause, "User"), isHedged(clause), speaker)];
  }
  const hedged = isHedged(clause);
  const mentions = findMentions(clause);
  // A question states nothing, but what it mentions in passing is still so: "…for my cat Luna?", and so is a
  // statement it gives as a reason or reports: "…since I'm vegan?", "Should I tell my boss I'm pregnant?".
  if (question || QUESTION_START.test(clause)) {
    const stated = embeddedStatement(clause);
    const facts = stated ? userClause(stated, speaker, false).filter((f) => f.memory_category === "identity") : [];
    return [...facts, ...mentions.facts.map((m) => personalFact(m, clause, { hedged: false, negated: false }, speaker))];
  }
  if (contentWords(clause).length === 0) return [];

  const plan = matchPlan(clause);
  if (plan) {
    const mode = { hedged: plan.tentative, negated: false };
    return [
      {
        kind: plan.tentative ? "uncertainty" : "attribute",
        memory_category: "identity",
        subject: "user",
        attribute: "intends",
        value: plan.value,
        cardinality: "many",
        // The clause itself, in the third person: "User might move to Berlin.", with whatever else it says.
        text: toThirdPerson(clause, "User"),
        confidence: plan.tentative ? CONFIDENCE.hedged : CONFIDENCE.plain,
        entities: entitiesOf(clause, speaker),
      },
      ...mentions.facts.map((m) => personalFact(m, clause, mode, speaker)),
    ];
  }

  const body = presentTense(stripHedges(clause));
  const { positive, negated } = polarity(body);
  const facts: ExtractedFact[] = [];
  if (negated) {
    // "I don't like jazz", "I don't eat pork": the negation is the statement (dislikes, avoids).
    facts.push(...matchIdentity(body).filter((m) => m.attribute === "dislikes").map((m) => identityFact(m, clause, hedged, false, speaker)));
    facts.push(...matchPersonal(body).filter((m) => m.attribute === "avoids").map((m) => personalFact(m, clause, { hedged, negated: false }, speaker)));
  }
  if (facts.length === 0) {
    const identity = matchIdentity(positive);
    const personal = matchPersonal(positive).filter((p) => !identity.some((i) => i.attribute === p.attribute));
    // "I'm not really into sports" is a dislike, not a negated like.
    const flipped = identity.map((m) => (negated && m.attribute === "likes" ? { ...m, attribute: "dislikes", text: `User dislikes ${m.value}.`, hedgedText: `User may dislike ${m.value}.` } : m));
    facts.push(...flipped.map((m) => identityFact(m, clause, hedged, negated && m.attribute !== "dislikes", speaker)));
    facts.push(...personal.map((m) => personalFact(m, clause, { hedged, negated: negated || m.negated }, speaker)));
  }
  for (const person of mentions.people) facts.push(...aboutPerson(person, clause, hedged, speaker));
  const known = new Set(facts.map((f) => `${f.attribute}|${(f.value ?? "").toLowerCase()}`));
  const mentioned = mentions.facts
    .filter((m) => !known.has(`${m.attribute}|${m.value.toLowerCase()}`))
    .map((m) => personalFact(m, clause, { hedged, negated: false }, speaker));
  // Nothing said is lost: a clause that says more than its identity facts is also kept as context.
  if (facts.length === 0 || uncovered(clause, [...facts, ...mentioned]) >= LEFT_OVER) {
    facts.push(contextFact(clause, "user", toThirdPerson(clause, "User"), hedged, speaker));
  }
  return [...facts, ...mentioned];
}

/** A first-person statement given as a reason inside a question: "What can I cook since I'm vegan?". */
const REASON = /\b(?:since|because|cause|as|now\s+that|given\s+that|seeing\s+(?:as|that))\s+(?=(?:I(?:'m|'ve|\s+am|\s+have)|we(?:'re|'ve|\s+are|\s+have)|my|our)\b)/i;
/** A first-person statement reported inside a question: "Should I tell my boss (that) I'm pregnant?" (not "…if I'm"). */
const REPORTED =
  /\b(?:tell|told|telling|inform|informed|warn|warned|let\s+[\p{L}']+\s+know)(?:\s+(?!if\b|whether\b|when\b|how\b)[\p{L}']+){0,3}?\s+(?:that\s+)?(?=I(?:'m|'ve|\s+am|\s+have)\b)/iu;

/** The statement a question carries, without its question mark, or undefined. Conditions ("if I'm …") are not statements. */
function embeddedStatement(question: string): string | undefined {
  const m = REASON.exec(question) ?? REPORTED.exec(question);
  if (!m) return undefined;
  const stated = question.slice(m.index + m[0].length).replace(/[?!.\s]+$/, "");
  return stated ? stated : undefined;
}

const FIRST_PERSON_WORD = /\b(?:I|[Ww]e|[Mm]y|[Oo]ur|[Mm]e|[Uu]s)\b/;

/** Content words a clause may have beyond its facts' texts before the clause is kept as context too. */
const LEFT_OVER = 4;
/** Time words say when, not what: "I moved to Porto last year" says nothing the location fact lacks. */
const WHEN_WORDS = new Set(
  "last next year years month months week weeks day days ago today yesterday tomorrow tonight morning evening night weekend soon recently lately new".split(" "),
);

function uncovered(clause: string, facts: readonly ExtractedFact[]): number {
  const said = new Set(facts.flatMap((f) => contentWords(f.text).map(stem)));
  return contentWords(clause).filter((w) => !WHEN_WORDS.has(w) && !said.has(stem(w))).length;
}

/** "I've been vegetarian for years" → "I'm vegetarian for years"; "I'll be 40 in May" → "I'm 40 in May". */
function presentTense(clause: string): string {
  // "I've been diagnosed with …" stays: a diagnosis is not a state of being.
  return clause.replace(/\bI(?:'ve|\s+have)\s+been\s+(?!\p{L}+ing\b|diagnosed\b)/giu, "I'm ").replace(/\bI(?:'ll|\s+will)\s+be\s+/gi, "I'm ");
}

function identityFact(match: IdentityMatch, clause: string, hedged: boolean, negated: boolean, speaker: Speaker): ExtractedFact {
  const uncertain = hedged || match.tentative;
  const text = negated
    ? (factText("User", match.attribute, match.value, { hedged: uncertain, negated }) ?? toThirdPerson(clause, "User"))
    : uncertain
      ? match.hedgedText
      : match.text;
  return {
    kind: uncertain ? "uncertainty" : "attribute",
    memory_category: "identity",
    subject: "user",
    attribute: match.attribute,
    value: negated ? negateValue(match.value) : match.value,
    cardinality: match.cardinality,
    text,
    confidence: hedged ? CONFIDENCE.hedged : match.tentative ? CONFIDENCE.tentative : CONFIDENCE.plain,
    entities: entitiesOf(clause, speaker, isProperNoun(match.value) ? [match.value] : []),
  };
}

function personalFact(match: PersonalMatch, clause: string, mode: Mode, speaker: Speaker, subject = "User"): ExtractedFact {
  const negated = mode.negated || match.negated;
  const text = (match.clauseText && !negated ? undefined : factText(subject, match.attribute, match.value, { hedged: mode.hedged, negated })) ?? toThirdPerson(clause, "User");
  return {
    kind: mode.hedged ? "uncertainty" : match.kind,
    memory_category: "identity",
    subject: subject === "User" ? "user" : subject.toLowerCase(),
    attribute: match.attribute,
    value: negated ? negateValue(match.value) : match.value,
    cardinality: match.cardinality,
    text,
    confidence: mode.hedged ? CONFIDENCE.hedged : CONFIDENCE.plain,
    entities: entitiesOf(clause, speaker, isProperNoun(match.value) ? [match.value] : []),
  };
}

/** Third-person verbs turned first-person, so that the speaker's patterns read "Anna lives in Berlin". */
const FIRST_PERSON: readonly (readonly [RegExp, string])[] = [
  [/^is\b/i, "am"],
  [/^has\b/i, "have"],
  [/^(\p{L}+?)(?:ies)\b/iu, "$1y"],
  [/^(\p{L}+?(?:s|sh|ch|x|z|o))es\b/iu, "$1"],
  [/^(\p{L}+?[^s])s\b/iu, "$1"],
];

/** What the clause says about a named person ("my sister Anna lives in Berlin"): where they live and work. */
function aboutPerson(person: NamedPerson, clause: string, hedged: boolean, speaker: Speaker): ExtractedFact[] {
  let rest = person.rest.replace(/^(?:(?:just|recently|now|finally|also|still)\s+)+/i, "");
  for (const [re, to] of FIRST_PERSON) {
    if (re.test(rest)) {
      rest = rest.replace(re, to);
      break;
    }
  }
  return matchIdentity(`I ${rest}`)
    .filter((m) => ["location", "employer", "occupation", "origin"].includes(m.attribute) && !m.tentative)
    .map((m) =>
      personalFact(
        { attribute: m.attribute, value: m.value, cardinality: "one", kind: "attribute", negated: false, clauseText: false },
        clause,
        { hedged, negated: false },
        speaker,
        person.name,
      ),
    );
}

/** Assistant, system and tool turns: context only, never identity (the speaker is not the user). */
function otherClause(clause: string, role: ExtractionInput["role"], speaker: Speaker): ExtractedFact[] {
  if (QUESTION_START.test(clause) || contentWords(clause).length === 0) return [];
  if (role === "assistant") {
    if (!assistantStatement(clause)) return [];
    const text = toThirdPerson(clause, "Assistant", "User");
    const attributed = /\bAssistant\b/.test(text) ? text : `Assistant said that ${/^(?:The|A|An|This|That|These|Those|It|There)\b/.test(text) ? lowerFirst(text) : text}`;
    return [contextFact(clause, role, asSentence(attributed), false, speaker)];
  }
  const text = role === "system" ? toThirdPerson(clause, "System", "Assistant") : asSentence(clause);
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
