import { PLAN_PROGRESSIVES } from "./lexicon.js";
import { possessiveToThird } from "./phrases.js";
import { trimPunctuation } from "./text.js";

/**
 * Plans and intentions: "I think I might move to Berlin", "we're planning to move to the countryside", "I'm
 * starting at Microsoft next month". A plan is not the fact it aims at ("might move" is not "lives"): it is
 * an `intends` record whose value is the action ("move to Berlin"), tentative when the wording is.
 */
export interface Plan {
  /** The action in its bare form: "move to Berlin", "get a second cat". */
  value: string;
  /** Wished for or weighed rather than decided ("might", "thinking of", "hope", "I'd love to"). */
  tentative: boolean;
}

/**
 * After a bare "will"/"'ll" only actions that change something are plans: "I'll move to Lyon", not "I'll never
 * forget it" or "I'll keep you posted".
 */
const PLAN_VERBS = new Set(
  (
    "move relocate emigrate start begin join leave quit retire switch change buy sell get adopt visit travel go fly " +
    "learn study apply enrol enroll take marry propose open launch found build renovate try sign register book " +
    "run train compete finish transfer resign"
  ).split(" "),
);

const ADV = String.raw`(?:(?:really|also|actually|definitely|probably|possibly|maybe|perhaps|seriously|finally|still|just|now|soon|even)\s+)*`;
const WE_OR_I = String.raw`\b(?:I|we)`;
const BE = String.raw`(?:'m|'re|\s+am|\s+are)`;

/** Intent phrases followed by a bare verb, with whether each is tentative. */
const INTENT = new RegExp(
  String.raw`${WE_OR_I}(?:${BE}\s+${ADV}(?<ing>going\s+to|gonna|planning\s+(?:to|on)|due\s+to|set\s+to|scheduled\s+to|trying\s+to|hoping\s+to|about\s+to|intending\s+to|aiming\s+to|looking\s+to|thinking\s+(?:of|about)|considering|contemplating)` +
    String.raw`|\s+${ADV}(?<bare>plan\s+to|want\s+to|wanna|intend\s+to|hope\s+to|aim\s+to|have\s+decided\s+to|decided\s+to|might|may|could|will|would\s+(?:love|like)\s+to)` +
    String.raw`|(?<short>'ll|'d\s+(?:love|like)\s+to|'ve\s+decided\s+to))\s+${ADV}(?<rest>.+)`,
  "iu",
);

/** "I'm moving to Berlin", "we're relocating in June": a progressive of a change verb names a plan. */
const PROGRESSIVE = new RegExp(String.raw`${WE_OR_I}${BE}\s+${ADV}(?<rest>(?<verb>\p{L}+ing)\b.*)`, "iu");

const TENTATIVE = /^(?:hoping|thinking|considering|contemplating|hope|might|may|could|would|'d)/i;
/** Hedges around the intent: "I think", "maybe", "probably" make any plan tentative. */
const HEDGE_AROUND = /\b(?:I\s+think|I\s+guess|I\s+suppose|I\s+believe|I\s+reckon|[Mm]aybe|[Pp]erhaps|[Pp]robably|[Pp]ossibly|[Nn]ot\s+sure|might|may)\b/;

/** A time ahead, beyond today: "next spring", "in June", "this summer", "in two weeks" (not "tonight", "tomorrow"). */
const LATER =
  /\b(?:next\s+(?:week|month|year|spring|summer|autumn|fall|winter|january|february|march|april|may|june|july|august|september|october|november|december)|this\s+(?:spring|summer|autumn|fall|winter|year)|in\s+(?:the\s+)?(?:spring|summer|autumn|fall|winter|january|february|march|april|may|june|july|august|september|october|november|december|\d{4}|a\s+(?:few\s+)?(?:weeks|months|years)|(?:two|three|four|five|six|\d+)\s+(?:weeks|months|years)))\b/i;

const NOT_ACTIONS = new Set("expecting feeling waiting wondering hoping thinking looking being".split(" "));

/** Time qualifiers that end the action: "move to Lyon in August" → "move to Lyon". */
const WHEN =
  /\s+(?:(?:next|this|last)\s+\w+|in\s+(?:the\s+)?(?:spring|summer|autumn|fall|winter|january|february|march|april|may|june|july|august|september|october|november|december|\d{4}|a\s+(?:few\s+)?(?:day|week|month|year)s?|\w+\s+(?:days|weeks|months|years))|someday|some\s+day|one\s+day|soon|eventually|at\s+some\s+point|once\b.*|when\b.*|after\b.*|before\b.*|if\b.*|by\s+the\s+end\b.*|tomorrow|tonight|later)\b.*$/i;

/** "getting" → "get", "moving" → "move", "taking" → "take", "buying" → "buy". */
export function toBare(ing: string): string {
  const lower = ing.toLowerCase();
  if (!lower.endsWith("ing") || lower.length <= 4) return ing;
  const stem = ing.slice(0, -3);
  const s = stem.toLowerCase();
  // "getting", "quitting", "stopping": a doubled final consonant.
  if (/([bdgmnprt])\1$/.test(s)) return stem.slice(0, -1);
  if (/(?:v|[^s]s|chang|rang|writ|invit|excit|bit)$/.test(s)) return `${stem}e`;
  // "moving", "taking", "retiring", "relocating", "changing", "having": a silent "e" was dropped.
  if (/(?:[^aeiou][aeiouy][bcdgkmnprstvz]|[^aeiou]at|[^aeiou]it|ut|iz|yz|ng|rg|dg|rs|ns|lv|rv|rc|nc|ss?u|v)$/.test(s) && !/(?:[aeiou]{2}[a-z]|en|er|on|el|it|et|ow|ew|ing|eng|ang|ong|ung)$/.test(s)) {
    return `${stem}e`;
  }
  return stem;
}

function action(rest: string): string {
  const cut = trimPunctuation(rest.split(/[,;:()!?]|\.(?:\s|$)|\s-\s|\s+(?:but|because|so|since|though|although)\s+/)[0] ?? "").replace(WHEN, "");
  const words = cut.trim().split(/\s+/);
  if (words[0] && /ing$/i.test(words[0])) words[0] = toBare(words[0]);
  return possessiveToThird(trimPunctuation(words.join(" ")));
}

/** The plan a clause states, if any. States ("I might be allergic", "I'm going to be 40") are not plans. */
export function matchPlan(clause: string): Plan | undefined {
  const intent = INTENT.exec(clause);
  if (intent?.groups) {
    const rest = intent.groups.rest ?? "";
    const word = (intent.groups.ing ?? intent.groups.bare ?? intent.groups.short ?? "").replace(/\s+/g, " ");
    const progressive = /^be\s+(\p{L}+ing)\b(.*)$/iu.exec(rest);
    // "I might have a wheat allergy" is a possible state; "I want to have kids" is a plan.
    const possibleState = /^(?:might|may|could)$/i.test(word) && /^have\b/i.test(rest);
    const isState = possibleState || (/^(?:be|have\s+been|not)\b/i.test(rest) && !(progressive && PLAN_PROGRESSIVES.has((progressive[1] ?? "").toLowerCase())));
    // "going to the gym" is a destination, not an intention.
    const isDestination = /^going\s+to$/i.test(word) && /^(?:the|a|an|my|our|bed|work|school|church|class|sleep|town|\p{Lu})/u.test(rest);
    const modal = /^(?:will|'ll)$/i.test(word);
    const firstVerb = toBare((progressive ? progressive[1] : rest.split(/\s+/)[0]) ?? "").toLowerCase();
    if (!isState && !isDestination && (!modal || PLAN_VERBS.has(firstVerb))) {
      const value = action(progressive ? `${progressive[1]}${progressive[2]}` : rest);
      if (value && !/^(?:do\s+(?:it|that|this)|it|that|this)$/i.test(value)) {
        return { value, tentative: TENTATIVE.test(word.replace(/^'/, "'")) || /^'d/.test(word) || HEDGE_AROUND.test(clause.slice(0, intent.index + intent[0].length - rest.length)) };
      }
    }
  }
  const progressive = PROGRESSIVE.exec(clause);
  const verb = progressive?.groups?.verb?.toLowerCase();
  // Any progressive with a time ahead that is not today names a plan: "We're buying a house in Valencia next spring".
  // Progressives of states or waiting are not plans, whenever they point: "We're expecting a baby in June".
  if (progressive?.groups && verb && (PLAN_PROGRESSIVES.has(verb) || (LATER.test(progressive.groups.rest ?? "") && !NOT_ACTIONS.has(verb)))) {
    if (/^starting\s+to\b/i.test(progressive.groups.rest ?? "")) return undefined;
    const value = action(progressive.groups.rest ?? "");
    if (value) return { value, tentative: HEDGE_AROUND.test(clause) };
  }
  return undefined;
}
