import { isProperNoun } from "./entities.js";
import { MOVE_VERBS, isJobNoun } from "./lexicon.js";
import {
  BREAKS,
  isEmptyPhrase,
  isReferring,
  possessiveToThird,
  splitList,
  takeName,
  takePhrase,
  toValue,
} from "./phrases.js";
import { article, isStopWord, trimPunctuation, words } from "./text.js";

/** One statement about the speaker, with plain and hedged renderings of the same fact. */
export interface IdentityMatch {
  attribute: string;
  value: string;
  cardinality: "one" | "many";
  /** "User lives in Lisbon." */
  text: string;
  /** "User may live in Lisbon." for hedged and future statements. */
  hedgedText: string;
  /** The statement is about the future ("I'm moving to Berlin"), so it is an uncertainty even unhedged. */
  tentative: boolean;
}

type Build = (match: RegExpExecArray) => IdentityMatch[];

interface Pattern {
  re: RegExp;
  build: Build;
}

/** Adverbs allowed between "I" and the verb: "I really like", "I'm currently based in". */
const ADV = String.raw`(?:(?:really|also|actually|currently|now|still|just|recently|finally|absolutely|totally|definitely|truly|do|kind of|sort of|originally)\s+)*`;
/** A short name-like phrase of up to three words, used before "plan"/"tier". */
const SHORT = String.raw`([\p{L}\p{N}][\p{L}\p{N}+&.'-]*(?:\s+[\p{L}\p{N}][\p{L}\p{N}+&.'-]*){0,2}?)`;
const IM = String.raw`I(?:'m|\s+am)`;
const PLAN_WORD = String.raw`(?:plan|tier|subscription|package|edition)`;
/** How one works, between "work" and where: "I work part-time at …", "I work night shifts for …". */
const WORK_MODE = String.raw`(?:remotely|from\s+home|part[\s-]time|full[\s-]time|nights|night\s+shifts?|day\s+shifts?|shifts|weekends|freelance|(?:two|three|four|five)\s+days\s+a\s+week)`;

function re(source: string): RegExp {
  return new RegExp(source, "iu");
}

type Template = "plan" | "location" | "origin" | "employer" | "occupation" | "name" | "likes" | "dislikes";

const TEMPLATES: Readonly<Record<Template, (v: string) => readonly [plain: string, hedged: string]>> = {
  plan: (v: string) => [`User is on the ${v} plan.`, `User may be on the ${v} plan.`],
  location: (v: string) => [`User lives in ${v}.`, `User may live in ${v}.`],
  origin: (v: string) => [`User is from ${v}.`, `User may be from ${v}.`],
  employer: (v: string) => [`User works at ${v}.`, `User may work at ${v}.`],
  occupation: (v: string) => [`User is ${article(v)} ${v}.`, `User may be ${article(v)} ${v}.`],
  name: (v: string) => [`User's name is ${v}.`, `User's name may be ${v}.`],
  likes: (v: string) => [`User likes ${v}.`, `User may like ${v}.`],
  dislikes: (v: string) => [`User dislikes ${v}.`, `User may dislike ${v}.`],
};

function fact(
  attribute: Template,
  phrase: string,
  options: { as?: string; tentative?: boolean; value?: string } = {},
): IdentityMatch {
  const [text, hedgedText] = TEMPLATES[attribute](phrase);
  return {
    attribute: options.as ?? attribute,
    value: options.value ?? toValue(phrase),
    cardinality: attribute === "likes" || attribute === "dislikes" ? "many" : "one",
    text,
    hedgedText,
    tentative: options.tentative ?? false,
  };
}

function group(match: RegExpExecArray, index = 1): string {
  return match[index] ?? "";
}

const PLAN_SUFFIX = new RegExp(String.raw`\s+${PLAN_WORD}$`, "i");

/** "Enterprise", never "question about my": plan names are short and made of content words. */
function plan(raw: string): IdentityMatch[] {
  const phrase = trimPunctuation(raw.replace(/^(?:the|a|an|our|my)\s+/i, "").replace(PLAN_SUFFIX, ""));
  if (!phrase || words(phrase).some(isStopWord)) return [];
  return [fact("plan", phrase)];
}

function place(
  attribute: "location" | "origin" | "employer",
  raw: string,
  options: { proper?: boolean; tentative?: boolean } = {},
): IdentityMatch[] {
  const phrase = possessiveToThird(takePhrase(raw, BREAKS.place, 5));
  if (isEmptyPhrase(phrase) || isReferring(phrase)) return [];
  if (options.proper && !isProperNoun(toValue(phrase))) return [];
  if (new RegExp(String.raw`\b${PLAN_WORD}\b`, "i").test(phrase)) return [];
  if (attribute === "employer" && /^(?:myself|home|free|remote(?:ly)?)\b/i.test(phrase)) return [];
  return [fact(attribute, phrase, { tentative: options.tentative ?? false })];
}

/**
 * "nurse", "software engineer", "stay-at-home dad": an occupation is a phrase with a job noun in it (see
 * lexicon.ts), so "I'm a bit tired", "I'm a big fan" and "I'm a vegetarian" are not jobs.
 */
function occupation(raw: string): IdentityMatch[] {
  const phrase = takePhrase(raw, BREAKS.place, 4);
  const tokens = [...words(phrase), ...phrase.split(/\s+/)].map((w) => w.toLowerCase());
  if (tokens.length === 0 || isEmptyPhrase(phrase) || !tokens.some((w) => isJobNoun(w))) return [];
  return [fact("occupation", phrase)];
}

/** Where a move ended: the last place after "to", "into" or "in" that is not after "from" or "out of". */
function destination(rest: string): IdentityMatch[] {
  const clause = rest.split(/[;:()!?]|\.(?:\s|$)/)[0] ?? "";
  const PLACE = /\b(to|into|in|from|out\s+of)\s+((?:(?:a|an|the|our|my|new|small|big|little|tiny|nice|lovely|flat|house|apartment|place|home|village|town|city|suburb|part)\s+)*)(\p{Lu}[\p{L}'.-]*(?:\s+(?:\p{Lu}[\p{L}'.-]*|de|do|da|del|upon|on))*)/gu;
  let last: string | undefined;
  for (const m of clause.matchAll(PLACE)) {
    if (m[1] !== "from" && !/^out/.test(m[1] ?? "")) last = m[3];
  }
  if (last === undefined) return [];
  return place("location", last.replace(/\s+(?:de|do|da|del|upon|on)$/, ""), { proper: true });
}

function liking(attribute: "likes" | "dislikes", raw: string, breaks: ReadonlySet<string> = BREAKS.activity): IdentityMatch[] {
  const phrase = takePhrase(raw, breaks, 12);
  return splitList(phrase)
    .filter((item) => !isReferring(item) && words(item).length <= 6)
    .map((item) => fact(attribute, possessiveToThird(item)));
}

/** Capitalised words after "I'm" that are states, nationalities or beliefs rather than names. */
const NOT_A_NAME = new Set(
  (
    "ok okay fine good great happy sad tired hungry sorry sure ready done back here there home busy free " +
    "late early new bored excited glad fine sick ill well alive married single retired not so just also " +
    "american british english french german spanish italian portuguese brazilian canadian mexican chinese " +
    "japanese korean indian irish scottish welsh dutch swiss swedish norwegian danish finnish polish russian " +
    "ukrainian greek turkish australian african european asian catholic christian jewish muslim hindu " +
    "buddhist atheist vegan vegetarian gay straight trans"
  ).split(" "),
);

/** "I'm Ana" / "I'm Ana Sousa, …" / "I'm Ana from Lisbon": a capitalised name ending the clause. */
function introducedName(raw: string): IdentityMatch[] {
  const m = /^(\p{Lu}[\p{Ll}'-]+(?:\s+\p{Lu}[\p{Ll}'-]+){0,2})(.*)$/u.exec(raw.trim());
  if (!m) return [];
  const name = m[1] ?? "";
  const tail = (m[2] ?? "").trim();
  const first = (name.split(/\s+/)[0] ?? "").toLowerCase();
  if (NOT_A_NAME.has(first)) return [];
  if (tail && !/^(?:[,.!;]|from\b|and\b|here\b|by the way\b|btw\b)/i.test(tail)) return [];
  return [fact("name", name, { value: name })];
}

function name(raw: string): IdentityMatch[] {
  const value = takeName(raw);
  if (!value || isStopWord(value)) return [];
  return [fact("name", value, { value })];
}

/**
 * The statements the extractor recognises, tried in order on one clause; a clause may match several
 * ("I'm a nurse at St Mary's" is an occupation and an employer). Each regex is unanchored and starts at a
 * word boundary so that a leading "Yesterday," or "Oh and" does not hide the statement.
 */
const PATTERNS: readonly Pattern[] = [
  // name
  { re: re(String.raw`\bmy\s+name\s+is\s+(.+)`), build: (m) => name(group(m)) },
  { re: re(String.raw`\b(?:call\s+me|people\s+call\s+me|I\s+go\s+by)\s+(.+)`), build: (m) => name(group(m)) },
  { re: new RegExp(String.raw`\b${IM}\s+(.+)`, "u"), build: (m) => introducedName(group(m)) },
  // plan
  { re: re(String.raw`\b(?:${IM}|we're|we\s+are)\s+${ADV}(?:on|using|subscribed\s+to)\s+${SHORT}\s+${PLAN_WORD}\b`), build: (m) => plan(group(m)) },
  {
    re: re(String.raw`\b(?:I|we)(?:\s+have|'ve)?\s+${ADV}(?:upgraded|downgraded|moved|switched|changed|signed\s+up|subscribed)\s+(?:over\s+)?(?:to|for)\s+${SHORT}\s+${PLAN_WORD}\b`),
    build: (m) => plan(group(m)),
  },
  { re: re(String.raw`\b(?:I|we)(?:\s+have|'ve)?\s+${ADV}(?:upgraded|downgraded)\s+to\s+(.+)`), build: (m) => plan(takePhrase(group(m), BREAKS.place, 4)) },
  { re: re(String.raw`\b(?:my|our)\s+(?:current\s+)?${PLAN_WORD}\s+is\s+(?:now\s+)?(.+)`), build: (m) => plan(takePhrase(group(m), BREAKS.place, 4)) },
  { re: re(String.raw`\b(?:I|we)\s+(?:have|'ve\s+got|have\s+got|use|pay\s+for)\s+${SHORT}\s+${PLAN_WORD}\b`), build: (m) => plan(group(m)) },
  // location
  { re: re(String.raw`\b(?:I|we)\s+${ADV}(?:live|reside)\s+in\s+(.+)`), build: (m) => place("location", group(m)) },
  // "I live on a boat in London", "we live with my parents in Leeds": a named place after a few words of how.
  { re: new RegExp(String.raw`\b(?:I|[Ww]e)\s+${ADV}live\s+(?:[\p{Ll}'-]+\s+){1,4}?in\s+(\p{Lu}.*)`, "u"), build: (m) => place("location", group(m), { proper: true }) },
  { re: re(String.raw`\bhome\s+for\s+(?:me|us)\s+is\s+(.+)`), build: (m) => place("location", group(m), { proper: true }) },
  // "I live just outside Cork", "we live near Bath": a named place close by.
  { re: re(String.raw`\b(?:I|we)\s+${ADV}(?:live|reside)\s+(?:just\s+)?(?:outside(?:\s+of)?|near|close\s+to|on\s+the\s+outskirts\s+of)\s+(.+)`), build: (m) => place("location", group(m), { proper: true }) },
  { re: re(String.raw`\b(?:I|we)(?:'ve|\s+have)\s+${ADV}(?:lived|been\s+living|been\s+based)\s+in\s+(.+)`), build: (m) => place("location", group(m)) },
  { re: re(String.raw`\b${IM}\s+${ADV}(?:living|based|located|settled)\s+(?:in|out\s+of)\s+(.+)`), build: (m) => place("location", group(m)) },
  { re: re(String.raw`\b(?:I|we)(?:\s+have|'ve)?\s+${ADV}${MOVE_VERBS}\b(.+)`), build: (m) => destination(group(m)) },
  { re: re(String.raw`\b(?:I|we)\s+${ADV}(?:was|were)\s+born(?:\s+and\s+(?:raised|bred))?\s+in\s+(.+)`), build: (m) => place("origin", group(m)) },
  { re: re(String.raw`\b(?:I|we)\s+${ADV}(?:grew\s+up|was\s+raised|were\s+raised|was\s+brought\s+up)\s+in\s+(.+)`), build: (m) => place("origin", group(m)) },
  { re: re(String.raw`\b${IM}\s+${ADV}from\s+(.+)`), build: (m) => place("origin", group(m), { proper: true }) },
  { re: re(String.raw`\bI\s+${ADV}come\s+from\s+(.+)`), build: (m) => place("origin", group(m), { proper: true }) },
  { re: re(String.raw`\bmy\s+(?:home\s*town|home|city)\s+is\s+(.+)`), build: (m) => place("location", group(m)) },
  // employer
  {
    // "I work at Acme", and with how one works in between: "I work night shifts at the hospital".
    re: re(String.raw`\bI(?:\s+${ADV}work|\s+am\s+${ADV}working|'m\s+${ADV}working|(?:\s+have|'ve)\s+(?:been\s+${ADV}working|${ADV}worked))\s+(?:${WORK_MODE}\s+)?(?:at|for)\s+(.+)`),
    build: (m) => place("employer", group(m)),
  },
  { re: re(String.raw`\bI(?:\s+have|'ve)?\s+${ADV}(?:joined|started\s+at|started\s+working\s+(?:at|for))\s+(.+)`), build: (m) => place("employer", group(m), { proper: true }) },
  { re: re(String.raw`\b${IM}\s+${ADV}(?:employed|hired)\s+(?:at|by)\s+(.+)`), build: (m) => place("employer", group(m)) },
  { re: re(String.raw`\b(?:${IM}|I\s+work\s+as)\s+(?:an?|the)\s+[\p{L}\s-]+?\s+(?:at|for)\s+(.+)`), build: (m) => place("employer", group(m), { proper: true }) },
  { re: re(String.raw`\bmy\s+(?:employer|company)\s+is\s+(.+)`), build: (m) => place("employer", group(m)) },
  // occupation
  // "I'm a nurse", "I'm the head chef at …", "I'm now the CTO": the job noun decides (see occupation()).
  { re: re(String.raw`\b${IM}\s+${ADV}(?:an?|the)\s+(.+)`), build: (m) => occupation(group(m)) },
  { re: re(String.raw`\b(?:I|${IM})\s+${ADV}(?:work|working|employed)\s+as\s+(?:an?\s+)?(.+)`), build: (m) => occupation(group(m)) },
  { re: re(String.raw`\bmy\s+(?:job|role|occupation|profession|job\s+title|title)\s+is\s+(?:an?\s+)?(.+)`), build: (m) => occupation(group(m)) },
  // "My job is in sales", "I work in finance": a field of work, lower-case and without an article (not "in London", "in an office").
  {
    re: new RegExp(String.raw`\b(?:[Mm]y\s+(?:job|work|career)\s+is|I\s+${ADV}work)\s+in\s+(?!(?:a|an|the|my|our|this|that)\b)(\p{Ll}[\p{Ll}-]*(?:\s+\p{Ll}[\p{Ll}-]*)?)\s*[.!]?$`, "u"),
    build: (m) => [fact("occupation", group(m), { value: group(m) })].map((f) => ({ ...f, text: `User works in ${group(m)}.`, hedgedText: `User may work in ${group(m)}.` })),
  },
  // likes and dislikes
  { re: re(String.raw`\bI\s+${ADV}(?:love|like|enjoy|adore)\s+(.+)`), build: (m) => liking("likes", group(m)) },
  { re: re(String.raw`\bI\s+${ADV}prefer\s+(.+)`), build: (m) => liking("likes", group(m), BREAKS.place) },
  { re: re(String.raw`\b${IM}\s+${ADV}(?:an?\s+)?(?:big\s+|huge\s+|great\s+)?fan\s+of\s+(.+)`), build: (m) => liking("likes", group(m)) },
  { re: re(String.raw`\b${IM}\s+${ADV}into\s+(.+)`), build: (m) => liking("likes", group(m)) },
  { re: re(String.raw`\b${IM}\s+${ADV}(?:obsessed\s+with|passionate\s+about|crazy\s+about|mad\s+about|hooked\s+on|addicted\s+to)\s+(.+)`), build: (m) => liking("likes", group(m)) },
  {
    re: re(String.raw`\b${IM}\s+${ADV}(?:a|an)\s+(?:big\s+|huge\s+|massive\s+|real\s+|total\s+|bit\s+of\s+a\s+)?([\p{L}\p{N}-]+(?:\s+[\p{L}\p{N}-]+)?)\s+(?:fan|lover|nerd|geek|buff|enthusiast|addict|snob|fanatic|junkie)\b(?!\s+of\b)`),
    build: (m) => liking("likes", group(m)),
  },
  { re: re(String.raw`^(.+?)\s+(?:is|are)\s+my\s+(?:all[\s-]time\s+)?favou?rite\b`), build: (m) => liking("likes", group(m)) },
  {
    re: re(String.raw`\bmy\s+favou?rite\s+([\p{L}]+(?:\s+[\p{L}]+)?)\s+(?:is|are)\s+(.+)`),
    build: (m) => {
      const thing = group(m, 1);
      return liking("likes", group(m, 2)).map((f) => ({
        ...f,
        text: `User's favourite ${thing} is ${f.value}.`,
        hedgedText: `User's favourite ${thing} may be ${f.value}.`,
      }));
    },
  },
  { re: re(String.raw`\bI\s+${ADV}(?:hate|dislike|detest|loathe|can't\s+stand|cannot\s+stand)\s+(.+)`), build: (m) => liking("dislikes", group(m)) },
  { re: re(String.raw`\bI\s+${ADV}(?:don't|do\s+not)\s+(?:really\s+)?(?:like|enjoy|love)\s+(.+)`), build: (m) => liking("dislikes", group(m)) },
  { re: re(String.raw`\b${IM}\s+not\s+(?:an?\s+)?(?:big\s+|huge\s+)?fan\s+of\s+(.+)`), build: (m) => liking("dislikes", group(m)) },
];

/** Every identity statement in one clause, de-duplicated by attribute and value. */
export function matchIdentity(clause: string): IdentityMatch[] {
  const out: IdentityMatch[] = [];
  const seen = new Set<string>();
  for (const pattern of PATTERNS) {
    const match = pattern.re.exec(clause);
    if (!match) continue;
    for (const found of pattern.build(match)) {
      const key = `${found.attribute}\u0000${found.value.toLowerCase()}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(found);
      }
    }
  }
  return out;
}
