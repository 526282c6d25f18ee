import { MANY_VALUED } from "../attributes.js";
import {
  BUSINESSES,
  CONDITION_PHRASES,
  CONDITIONS,
  CONSUMABLES,
  DEVICES,
  DIETS,
  FAMILY,
  HEALTH_STATES,
  HOBBY_VERBS,
  LANGUAGES,
  MARITAL,
  MEDICATIONS,
  PETS,
} from "./lexicon.js";
import { BREAKS, isEmptyPhrase, isReferring, possessiveToThird, splitList, takePhrase } from "./phrases.js";
import { toBare } from "./plans.js";
import { article, trimPunctuation, words } from "./text.js";

/**
 * Lasting personal facts beyond the basics of identity-patterns.ts: age, diet, health and allergies, family,
 * pets, marital status, languages, education, hobbies, how and where the user works. Each pattern reads a
 * statement's verb and looks its object up in the lexicon, so that new words of a known kind need no new rule.
 */
export interface PersonalMatch {
  attribute: string;
  value: string;
  cardinality: "one" | "many";
  kind: "attribute" | "relation";
  /** The statement negates the value itself ("I quit Deloitte": employer "not Deloitte"). */
  negated: boolean;
  /** No sentence template fits: the clause, in the third person, is the text. */
  clauseText: boolean;
}

const ADV = String.raw`(?:(?:really|also|actually|currently|now|still|just|recently|finally|absolutely|totally|definitely|truly|usually|often|sometimes|regularly|originally|already|even|mostly|kind\s+of|sort\s+of|try\s+to|tend\s+to)\s+)*`;
const IM = String.raw`I(?:'m|\s+am)`;
const HAVE = String.raw`(?:have|'ve\s+got|have\s+got|own|got)`;
const COUNT = String.raw`(?:any|no|a|an|one|two|three|four|five|six|seven|eight|nine|ten|\d+|several|a\s+couple\s+of)`;
/** A capitalised name of up to three words, not a sentence-initial function word. */
const NAME = String.raw`(\p{Lu}[\p{Ll}'’-]+(?:\s+\p{Lu}[\p{Ll}'’-]+){0,2})`;
/** An organisation's name: a NAME, or an acronym ("HSBC", "the BBC", "H&M"). */
const ORG = String.raw`(?:the\s+)?(\p{Lu}(?:[\p{Ll}'’-]+|[\p{Lu}&]+)(?:\s+\p{Lu}(?:[\p{Ll}'’-]+|[\p{Lu}&]+)){0,2})`;

const alternation = (items: ReadonlySet<string>) =>
  [...items].sort((a, b) => b.length - a.length).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
const FAMILY_RE = alternation(FAMILY);
const PETS_RE = alternation(PETS);
const DIETS_RE = alternation(DIETS);
const STATES_RE = alternation(HEALTH_STATES);
const MARITAL_RE = alternation(MARITAL);

function re(source: string): RegExp {
  // A pattern that reads a name must see capitals: only its opening word may be either case.
  return new RegExp(source, /\\p\{Lu\}/.test(source) ? "u" : "iu");
}

function match(
  attribute: string,
  value: string,
  options: { kind?: "attribute" | "relation"; negated?: boolean; clauseText?: boolean } = {},
): PersonalMatch[] {
  const v = possessiveToThird(trimPunctuation(value)).replace(/^(?:a|an|the)\s+/i, "");
  if (!v || isEmptyPhrase(v) || isReferring(v)) return [];
  return [
    {
      attribute,
      value: v,
      cardinality: MANY_VALUED.has(attribute) ? "many" : "one",
      kind: options.kind ?? "attribute",
      negated: options.negated ?? false,
      clauseText: options.clauseText ?? false,
    },
  ];
}

const g = (m: RegExpExecArray, i = 1) => m[i] ?? "";

/** "two kids", "a twin brother named Sam" → "two kids", "twin brother Sam". */
function counted(phrase: string, name: string): string {
  const body = trimPunctuation(phrase).replace(/^(?:a|an|one)\s+/i, "");
  return name ? `${body} ${name}` : body;
}

/**
 * A condition phrase worth keeping: its last word is a condition ("type 2 diabetes", "a bad knee", "migraines")
 * or it names a device lived with ("a pacemaker"). What follows a condition and only says for how long or since
 * when is dropped: "eczema my whole life", "asthma all my life", "migraines most of my life".
 */
function condition(raw: string): string {
  const phrase = takePhrase(raw, BREAKS.place, 6).replace(/^(?:a|an|the|some|my|our)\s+/i, "");
  const tokens = phrase.split(/\s+/);
  for (let end = tokens.length; end > 0; end--) {
    const head = tokens.slice(0, end).join(" ");
    const last = (words(head).pop() ?? "").toLowerCase();
    const rest = tokens.slice(end).join(" ");
    if (rest && !DURATION_TAIL.test(rest)) continue;
    if (CONDITIONS.has(last) || DEVICES.test(head) || CONDITION_PHRASES.test(head)) return head;
  }
  return "";
}

/** The tail of "eczema my whole life", "asthma all my life", "migraines most of my adult life". */
const DURATION_TAIL = /^(?:(?:for\s+)?(?:my|all\s+my|most\s+of\s+my|half\s+my)\s+(?:whole\s+|entire\s+|adult\s+)?life|forever|for\s+(?:years|ages|decades|a\s+long\s+time)|as\s+long\s+as\s+I\s+can\s+remember)$/i;

/** What a medicine taken over time says: the condition it is for when named, else the medicine itself. */
function medication(raw: string): PersonalMatch[] {
  const phrase = takePhrase(raw, BREAKS.place, 4).replace(/^(?:a|an|the|some|my|daily)\s+/i, "");
  const last = (words(phrase).pop() ?? "").toLowerCase();
  if (!MEDICATIONS.has(last)) return [];
  const purpose = /^\s*(?:for|to\s+(?:treat|manage|control))\s+(.+)/i.exec(raw.slice(raw.indexOf(phrase) + phrase.length));
  const treated = purpose ? condition(purpose[1] ?? "") : "";
  if (treated) return match("health", treated);
  // "I take medication" alone names nothing; "I'm on blood thinners" does.
  return /^(?:medications?|medicines?|meds|pills|tablets)$/i.test(phrase) ? [] : match("health", phrase, { clauseText: true });
}

/** "I gave up alcohol", "I quit sugar": something consumed, given up for good. */
function givenUp(raw: string): PersonalMatch[] {
  return splitList(takePhrase(raw, BREAKS.place, 3).replace(/(?:\s+\p{L}+ly)+$/u, ""))
    .filter((item) => CONSUMABLES.has((words(item).pop() ?? "").toLowerCase()))
    .flatMap((item) => match("avoids", item));
}

/** Ages said in words: "twenty-nine", "forty", "eighteen". */
const AGE_WORDS = String.raw`(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)`;
/** What may follow a number that is not an age: "I'm 20 minutes away", "I'm twenty minutes late". */
const NOT_AN_AGE = String.raw`(?!\s*(?:percent|minutes?|mins?|hours?|km|miles?|kg|kilos?|lbs?|pounds|feet|ft|cm|dollars|euros|times|days?|weeks?|months?|th|st|nd|rd|am|pm|a\.m|p\.m|o'clock|%|of\b|out\b|minutes|k\b|m\b)\b)`;

interface Pattern {
  re: RegExp;
  build: (m: RegExpExecArray) => PersonalMatch[];
}

const PATTERNS: readonly Pattern[] = [
  // age
  {
    re: re(String.raw`\b${IM}\s+(?:now\s+|almost\s+|nearly\s+|turning\s+|about\s+to\s+turn\s+)?(\d{1,3})(?:\s*(?:years?\s+old|yo|y/o))?(?![\d:%']|[.,]\d)${NOT_AN_AGE}`),
    build: (m) => (Number(g(m)) > 0 && Number(g(m)) < 120 ? match("age", g(m)) : []),
  },
  {
    re: re(String.raw`\b(?:${IM}\s+(?:now\s+|almost\s+|nearly\s+|turning\s+|about\s+to\s+turn\s+)?|I\s+${ADV}turned\s+)(${AGE_WORDS})\b(?:\s+years?\s+old)?(?![\w-])${NOT_AN_AGE}`),
    build: (m) => match("age", g(m).toLowerCase()),
  },
  { re: re(String.raw`\bI\s+${ADV}turned\s+(\d{1,3})\b`), build: (m) => match("age", g(m)) },
  { re: re(String.raw`\bI(?:'ll|\s+will)?\s+${ADV}turn\s+(\d{1,3})\b${NOT_AN_AGE}`), build: (m) => (Number(g(m)) > 0 && Number(g(m)) < 120 ? match("age", g(m)) : []) },
  { re: re(String.raw`\b${IM}\s+in\s+my\s+((?:early|mid|late)[\s-]+)?(teens|twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties|\d0s)\b`), build: (m) => match("age", `${g(m)}${g(m, 2)}`) },
  { re: re(String.raw`\b${IM}\s+an?\s+(\d{1,3})[\s-]years?[\s-]old\b`), build: (m) => match("age", g(m)) },
  // diet
  { re: re(String.raw`\b${IM}\s+${ADV}(?:a\s+|an\s+)?(?:strict\s+|strictly\s+|fully\s+|full\s+|mostly\s+|lifelong\s+|life-long\s+|long-?time\s+|committed\s+|devout\s+|practi[cs]ing\s+|ethical\s+)?(${DIETS_RE})\b(?!\s+(?:food|restaurant|recipe|dish|meal|option)s?\b)`), build: (m) => match("diet", g(m).toLowerCase()) },
  {
    re: re(String.raw`\b(?:I|[Ww]e)\s+${ADV}(?:eat|follow|keep|have|stick\s+to|'m\s+on|am\s+on|do)\s+(?:a|an)\s+(?:(?:mostly|mainly|largely|strict|strictly|fully|very)\s+)?([\p{L}-]+(?:\s+[\p{L}-]+)?)\s+diet\b`),
    build: (m) => match("diet", g(m).toLowerCase()),
  },
  { re: re(String.raw`\b${IM}\s+on\s+(?:a|an)\s+([\p{L}-]+(?:\s+[\p{L}-]+)?)\s+diet\b`), build: (m) => match("diet", g(m).toLowerCase()) },
  { re: re(String.raw`\bI(?:'ve|\s+have)?\s+${ADV}(?:gone|become|became|went|turned)\s+(?:fully\s+|completely\s+)?(${DIETS_RE})\b`), build: (m) => match("diet", g(m).toLowerCase()) },
  // "I eat halal", "we keep kosher", "I only eat vegan food": a diet as the object of eating.
  { re: re(String.raw`\b(?:I|[Ww]e)\s+${ADV}(?:only\s+)?(?:eat|keep|cook|buy)\s+(?:only\s+|strictly\s+)?(${DIETS_RE})\b`), build: (m) => match("diet", g(m).toLowerCase()) },
  // food avoided
  { re: re(String.raw`\bI\s+${ADV}(?:don't|do\s+not|never|no\s+longer|can't|cannot)\s+(?:eat|drink|touch)\s+(.+)`), build: (m) => splitList(takePhrase(g(m), BREAKS.place, 4)).flatMap((v) => match("avoids", v)) },
  {
    re: re(String.raw`\bI(?:'ve|\s+have)?\s+${ADV}(?:stopped|quit|gave\s+up|given\s+up|cut\s+out)\s+(?:eating|drinking)\s+(.+)`),
    build: (m) => splitList(takePhrase(g(m), BREAKS.place, 4)).flatMap((v) => match("avoids", v)),
  },
  // "I don't smoke", "I no longer drink": a habit kept off.
  {
    re: re(String.raw`\bI\s+${ADV}(?:don't|do\s+not|no\s+longer|never)\s+(smoke|drink|vape)\b(?!\s+\p{L})`),
    build: (m) => match("avoids", ({ smoke: "smoking", drink: "alcohol", vape: "vaping" } as Record<string, string>)[g(m).toLowerCase()] ?? g(m)),
  },
  { re: re(String.raw`\bI\s+${ADV}(?:avoid|steer\s+clear\s+of)\s+(.+)`), build: (m) => splitList(takePhrase(g(m), BREAKS.place, 4)).flatMap((v) => match("avoids", v)) },
  { re: re(String.raw`\bI(?:'ve|\s+have)?\s+${ADV}(?:stopped|quit|gave\s+up|given\s+up|cut\s+out|kicked|ditched)\s+(.+)`), build: (m) => givenUp(g(m)) },
  // allergies
  { re: re(String.raw`\b${IM}\s+(?:\p{L}+\s+){0,2}?allergic\s+to\s+(.+)`), build: (m) => splitList(takePhrase(g(m), BREAKS.place, 6)).flatMap((v) => match("allergy", v)) },
  {
    re: re(String.raw`\bI\s*${ADV}${HAVE}\s+(?:a|an|some)\s+(?:(?:severe|mild|bad|serious|slight|terrible|life-threatening|minor)\s+)*(?:([\p{L}-]+)\s+)?allergy(?:\s+to\s+(.+))?`),
    build: (m) => (g(m, 2) ? splitList(takePhrase(g(m, 2), BREAKS.place, 6)).flatMap((v) => match("allergy", v)) : match("allergy", g(m))),
  },
  // health: medicines and what they are for, devices, then conditions
  { re: re(String.raw`\bI(?:\s+${ADV}(?:take|use|need)|(?:'m|\s+am)\s+${ADV}(?:on|taking))\s+(.+)`), build: (m) => medication(g(m)) },
  { re: re(String.raw`\bI\s+${ADV}(?:use|wear|rely\s+on|live\s+with)\s+(?:(?:a|an|two)\s+)?(.+)`), build: (m) => (DEVICES.test(takePhrase(g(m), BREAKS.place, 3)) ? match("health", takePhrase(g(m), BREAKS.place, 3)) : []) },
  {
    re: re(String.raw`\bI\s*${ADV}(?:have|'ve\s+got|have\s+got|suffer\s+from|live\s+with|struggle\s+with|get|(?:was|got|'ve\s+been|have\s+been)\s+diagnosed\s+with|'ve\s+had|have\s+had|'ve\s+always\s+had)\s+(.+)`),
    build: (m) => match("health", condition(g(m))),
  },
  { re: re(String.raw`\b(?:${IM}|we(?:'re|\s+are))\s+${ADV}expecting\s+(?:a\s+baby|a\s+child|twins|triplets|our\s+first|a\s+little|a\s+boy|a\s+girl|baby)`), build: () => match("health", "pregnant") },
  {
    // "I'm diabetic", "I'm lactose intolerant", "I'm lactose-intolerant", "I'm deaf in one ear"; "intolerant to lactose" reads "lactose intolerant".
    re: re(String.raw`\b${IM}\s+${ADV}((?:[\p{L}]+[\s-]+)?(?:${STATES_RE}))\b((?:\s+in\s+(?:one|both|my|the)\s+\p{L}+)?)(?:\s+to\s+([\p{L}-]+))?`),
    build: (m) => {
      const state = `${g(m)}${g(m, 2)}`.replace(/^(?:very|so|pretty|quite|a\s+bit)\s+/i, "");
      return match("health", g(m, 3) && /^intolerant$/i.test(state) ? `${g(m, 3)} intolerant` : state);
    },
  },
  // family
  {
    re: re(String.raw`\b(?:I|[Ww]e)\s*${ADV}(?:have|'ve\s+got|have\s+got)\s+(${COUNT}\s+(?:[\p{L}-]+\s+){0,2}?(?:${FAMILY_RE}))\b(?:\s+(?:named|called)\s+${NAME}|,\s+${NAME})?`),
    build: (m) => match("family", counted(g(m), g(m, 2) || g(m, 3)), { kind: "relation" }),
  },
  { re: re(String.raw`\b${IM}\s+(?:happily\s+)?married\s+to\s+${NAME}`), build: (m) => [...match("family", `spouse ${g(m)}`, { kind: "relation" }), ...match("marital_status", "married")] },
  { re: re(String.raw`\bI\s+${ADV}got\s+engaged\s+to\s+${NAME}`), build: (m) => [...match("family", `fiancé ${g(m)}`, { kind: "relation" }), ...match("marital_status", "engaged")] },
  { re: re(String.raw`\b${IM}\s+an?\s+(only\s+child|only\s+son|only\s+daughter|twin)\b`), build: (m) => match("family", g(m), { kind: "relation" }) },
  {
    re: re(String.raw`\b(?:my\s+(${FAMILY_RE})\s+and\s+I|I)\s+(?:just\s+|finally\s+)?(?:broke|split)\s+up(?:\s+with\s+my\s+(${FAMILY_RE}))?`),
    build: (m) => (g(m) || g(m, 2) ? match("family", g(m) || g(m, 2), { kind: "relation", negated: true }) : []),
  },
  // marital status
  { re: re(String.raw`\b${IM}\s+(?:happily\s+|recently\s+|newly\s+|now\s+)?(${MARITAL_RE})\b(?!\s+to\b)`), build: (m) => match("marital_status", g(m).toLowerCase()) },
  { re: re(String.raw`\b(?:I|[Ww]e)\s+${ADV}got\s+(married|divorced|engaged|separated)\b(?!\s+to\b)`), build: (m) => match("marital_status", g(m).toLowerCase()) },
  {
    re: re(String.raw`\b(?:[Ww]e|I|[Mm]y\s+(?:wife|husband|partner|spouse)\s+and\s+I)\s+${ADV}(?:have\s+|'ve\s+)?(separated|divorced)\b`),
    build: (m) => match("marital_status", g(m).toLowerCase()),
  },
  { re: re(String.raw`\bwe(?:'ve|\s+have)\s+been\s+(married|together)\s+for\b`), build: (m) => match("marital_status", g(m).toLowerCase() === "together" ? "in a relationship" : "married") },
  { re: re(String.raw`\b${IM}\s+${ADV}an?\s+single\s+(?:mum|mom|mother|dad|father|parent)\b`), build: () => match("marital_status", "single") },
  // pets
  {
    re: re(String.raw`\b(?:I|[Ww]e)\s*${ADV}(?:${HAVE}|adopted|rescued|bought|took\s+in|brought\s+home)\s+(${COUNT}\s+(?:[\p{L}-]+\s+){0,2}?(?:${PETS_RE}))\b(?:\s+(?:named|called)\s+${NAME}|,\s+${NAME})?`),
    build: (m) => match("pet", counted(g(m), g(m, 2) || g(m, 3))),
  },
  // languages
  {
    re: re(String.raw`\bI\s+${ADV}speak\s+(?:fluent\s+|some\s+|a\s+little\s+|basic\s+|decent\s+|native\s+)?(\p{Lu}\p{Ll}+(?:(?:\s*,\s*|\s+and\s+|\s+or\s+)\p{Lu}\p{Ll}+)*)`),
    build: (m) => splitList(g(m)).filter((l) => LANGUAGES.has(l.toLowerCase())).flatMap((l) => match("language", l)),
  },
  { re: re(String.raw`\bmy\s+(?:native|first|mother|home)\s+(?:language|tongue)\s+is\s+(\p{L}+)`), build: (m) => match("language", g(m)) },
  { re: re(String.raw`\b${IM}\s+(?:fluent|bilingual|native)\s+in\s+(\p{Lu}\p{Ll}+(?:\s+and\s+\p{Lu}\p{Ll}+)?)`), build: (m) => splitList(g(m)).flatMap((l) => match("language", l)) },
  // education
  { re: re(String.raw`\bI\s+${ADV}(?:study|majored\s+in|major\s+in|studied)\s+(.+)`), build: (m) => match("education", takePhrase(g(m), BREAKS.place, 4), { clauseText: true }) },
  { re: re(String.raw`\b${IM}\s+${ADV}(?:studying|majoring\s+in|doing\s+(?:a|an|my)\s+(?:PhD|doctorate|masters?|master's|degree|bachelor's|MBA)\s+in)\s+(.+)`), build: (m) => match("education", takePhrase(g(m), BREAKS.place, 4), { clauseText: true }) },
  { re: re(String.raw`\bI\s+${ADV}graduated\s+from\s+(.+)`), build: (m) => match("education", takePhrase(g(m), BREAKS.place, 5), { clauseText: true }) },
  {
    re: re(String.raw`\bI\s*${ADV}(?:have|'ve\s+got|hold|earned|got)\s+(?:a|an|my)\s+((?:PhD|doctorate|master's|masters?|MBA|MSc|BSc|BA|MA|degree|bachelor's|diploma|law\s+degree)(?:\s+degree)?(?:\s+in\s+[\p{L}\s]+)?)`),
    build: (m) => match("education", takePhrase(g(m), new Set([...BREAKS.activity, "from", "at"]), 6), { clauseText: true }),
  },
  // how one works
  {
    re: re(String.raw`\bI\s+${ADV}work\s+(remotely|from\s+home|part[\s-]time|full[\s-]time|nights|night\s+shifts?|shifts|weekends|freelance|hybrid)\b`),
    build: (m) => match("work_mode", g(m).toLowerCase()),
  },
  // occupation, beyond "I'm a …" and "I work as …"
  { re: re(String.raw`\bI\s+${ADV}(?:got\s+|was\s+|have\s+been\s+|'ve\s+been\s+)?promoted\s+to\s+(.+)`), build: (m) => match("occupation", takePhrase(g(m), BREAKS.place, 4)) },
  { re: re(String.raw`\b(?:${IM}\s+(?:\d+\s+and\s+)?|I\s+${ADV})retired\b`), build: () => match("occupation", "retired") },
  { re: re(String.raw`\b${IM}\s+${ADV}(self-employed|unemployed|between\s+jobs|out\s+of\s+work|a\s+freelancer)\b`), build: (m) => match("occupation", g(m)) },
  { re: re(String.raw`\bI\s+.*?\bto\s+become\s+(?:a|an)\s+(.+)`), build: (m) => match("occupation", takePhrase(g(m), BREAKS.place, 4)) },
  { re: re(String.raw`\b(?:hired|employed|job)\s+as\s+(?:a|an)\s+(.+)`), build: (m) => match("occupation", takePhrase(g(m), BREAKS.place, 4)) },
  {
    re: re(String.raw`\bI\s+${ADV}teach(?:\s+(?!at\b|in\b|for\b|my\b|a\b|the\b)(\p{L}+))?`),
    build: (m) => match("occupation", g(m) ? `${g(m)} teacher` : "teacher"),
  },
  {
    // "I run my own bakery", "I own a small coffee shop in Lisbon": a business, by its head noun (see BUSINESSES).
    re: re(String.raw`\bI\s+${ADV}(run|own|manage|co-own)\s+(?:my\s+own|a|an|our\s+own|our|the)\s+(?:(?:small|little|family|local|tiny|new)\s+)*(.+)`),
    build: (m) => {
      const business = takePhrase(g(m, 2), BREAKS.place, 3);
      if (!BUSINESSES.has((words(business).pop() ?? "").toLowerCase())) return [];
      return match("occupation", `${g(m).toLowerCase() === "manage" ? "manages" : "owns"} ${article(business)} ${business}`);
    },
  },
  // employer, beyond "I work at …" and "I joined …"
  {
    re: re(String.raw`\bI\s+${ADV}(?:started|began|got|landed|accepted|took|have|'ve\s+got)\s+(?:a|an|my|the)\s+(?:new\s+|first\s+|full-time\s+|part-time\s+)?(?:job|position|role|internship|gig|contract|placement)\s+(?:at|with)\s+(.+)`),
    build: (m) => match("employer", takePhrase(g(m), BREAKS.place, 5)),
  },
  { re: re(String.raw`\bI\s+${ADV}started\s+working\s+(?:at|for)\s+(.+)`), build: (m) => match("employer", takePhrase(g(m), BREAKS.place, 5)) },
  { re: re(String.raw`\bI\s+(?:was|got|'ve\s+been|have\s+been)\s+(?:just\s+)?(?:hired|recruited|headhunted|taken\s+on)\s+(?:by|at)\s+${ORG}`), build: (m) => match("employer", g(m)) },
  { re: re(String.raw`\bI\s+(?:work|worked)\s+(?:in|on)\s+[\p{Ll}\s-]{2,40}?\s+(?:at|for)\s+${ORG}`), build: (m) => match("employer", g(m)) },
  { re: re(String.raw`\b${IM}\s+(?:now\s+|currently\s+)?at\s+${NAME}\s*(?:now|these\s+days|nowadays)?\s*[.!]?$`), build: (m) => match("employer", g(m)) },
  {
    re: re(String.raw`\bI\s+${ADV}(?:quit|left|resigned\s+from|stepped\s+down\s+from|handed\s+in\s+my\s+notice\s+(?:at|to)|gave\s+(?:my\s+)?notice\s+(?:at|to)|was\s+(?:laid\s+off|fired|let\s+go|made\s+redundant)\s+(?:from|by|at)|got\s+(?:laid\s+off|fired)\s+(?:from|at))\s+(my\s+(?:job|position|role)\s+(?:at|with)\s+(.+)|${ORG})`),
    build: (m) => match("employer", g(m, 2) ? takePhrase(g(m, 2), BREAKS.place, 5) : g(m, 3), { negated: true }),
  },
  // what one does for a living is an occupation; in one's free time, a hobby
  {
    re: re(String.raw`\bI\s+${ADV}(\p{Ll}+)\s+(.+?)\s+(?:for\s+a\s+living|for\s+work|professionally)\b`),
    build: (m) => match("occupation", `${g(m)} ${takePhrase(g(m, 2), BREAKS.place, 4)}`, { clauseText: true }),
  },
  {
    re: re(String.raw`\bI\s+${ADV}(\p{Ll}+)\s+(.+?)\s+(?:in\s+my\s+(?:spare|free|own|down)\s+time|for\s+fun|as\s+a\s+hobby|on\s+the\s+side|at\s+weekends|on\s+weekends)\b`),
    build: (m) => (/^(?:am|was|have|had|do|did|get|got|go|went|work|worked)$/i.test(g(m)) ? [] : match("hobby", `${g(m)} ${takePhrase(g(m, 2), BREAKS.place, 4)}`, { clauseText: true })),
  },
  // hobbies
  { re: re(String.raw`\bI\s+${ADV}go\s+(\p{L}+ing)\b`), build: (m) => (HOBBY_VERBS.has(toBare(g(m)).toLowerCase()) || /^(?:swimming|running|hiking|climbing|bowling|camping|skating|sailing|fishing|hunting|dancing)$/i.test(g(m)) ? match("hobby", g(m)) : []) },
  { re: re(String.raw`\b(?:${IM}|I(?:'ve|\s+have)\s+been)\s+${ADV}learning\s+(.+)`), build: (m) => match("hobby", takePhrase(g(m), BREAKS.place, 4), { clauseText: true }) },
  {
    re: re(String.raw`\bI(?:'ve|\s+have)\s+been\s+${ADV}(\p{L}+ing)\s+(.+?)(?:\s+(?:for|since)\s+.+)?$`),
    build: (m) => (HOBBY_VERBS.has(toBare(g(m)).toLowerCase()) ? match("hobby", `${g(m)} ${takePhrase(g(m, 2), BREAKS.place, 4)}`, { clauseText: true }) : []),
  },
  {
    re: re(String.raw`\bI\s+${ADV}do\s+(yoga|pilates|karate|judo|taekwondo|kung\s+fu|jiu[\s-]jitsu|crossfit|tai\s+chi|martial\s+arts|gymnastics|aerobics|zumba|ballet|archery|parkour|triathlons?|marathons?|woodwork|pottery|calligraphy|photography|embroidery|origami)\b`),
    build: (m) => match("hobby", g(m).toLowerCase(), { clauseText: true }),
  },
  { re: re(String.raw`\bI\s+${ADV}joined\s+(?:a|an|the)\s+(?:local\s+)?([\p{L}-]+(?:\s+[\p{L}-]+)?)\s+(?:gym|club|team|class|group|choir|band|league|society)\b`), build: (m) => match("hobby", g(m), { clauseText: true }) },
  {
    re: re(String.raw`\bI\s+${ADV}(\p{Ll}+)\b(.*)$`),
    build: (m) => {
      const verb = g(m).toLowerCase();
      if (!HOBBY_VERBS.has(verb)) return [];
      const rest = g(m, 2).trim();
      if (/^(?:my|a|an|the|our|it|that|this|to|into|out|away|late|home|back|up)\b/i.test(rest) && verb !== "play") return [];
      const object = takePhrase(rest, BREAKS.place, 4).replace(/^the\s+/i, "");
      if (verb === "play" || verb === "plays" || verb === "practice" || verb === "practise") return object ? match("hobby", object, { clauseText: true }) : [];
      return match("hobby", object && !/^(?:every|on|at|in|with)\b/i.test(object) ? `${verb} ${object}` : verb, { clauseText: true });
    },
  },
];

/** Every personal fact one clause states, in pattern order, de-duplicated by attribute and value. */
export function matchPersonal(clause: string): PersonalMatch[] {
  const out: PersonalMatch[] = [];
  const seen = new Set<string>();
  for (const pattern of PATTERNS) {
    const m = pattern.re.exec(clause);
    if (!m) continue;
    for (const found of pattern.build(m)) {
      const key = `${found.attribute}\u0000${found.value.toLowerCase()}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(found);
      }
    }
  }
  return out;
}
