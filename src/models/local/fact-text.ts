import { DEVICES, DIETS, HEALTH_STATES } from "./lexicon.js";
import { article, capitaliseFirst } from "./text.js";

/** How a fact was stated: hedged ("I might be…"), negated ("I'm not…"), both, or neither. */
export interface Mode {
  hedged: boolean;
  negated: boolean;
}

/** A predicate as [bare form, third-person form]: ["live in Lisbon", "lives in Lisbon"]. */
type Predicate = readonly [bare: string, third: string];

const be = (rest: string): Predicate => [`be ${rest}`, `is ${rest}`];
const verb = (bare: string, third: string, rest: string): Predicate => [`${bare} ${rest}`, `${third} ${rest}`];

/** "sister Anna" → "a sister named Anna"; "two kids" → "two kids"; "dog" → "a dog". */
function something(value: string): string {
  const named = /^(.*?)\s+(\p{Lu}[\p{L}'-]*(?:\s+\p{Lu}[\p{L}'-]*)*)$/u.exec(value);
  const [thing, name] = named ? [named[1] ?? "", named[2] ?? ""] : [value, ""];
  const counted = /^(?:\d+|two|three|four|five|six|seven|eight|nine|ten|several|many|some|a|an|no|any)\b/i.test(thing) || /s$/.test(thing);
  const head = counted ? thing : `${article(thing)} ${thing}`;
  return name ? `${head} named ${name}` : head;
}

/** Predicates by attribute; `undefined` means the clause itself, in the third person, is the best text. */
const PREDICATES: Readonly<Record<string, (value: string) => Predicate | undefined>> = {
  plan: (v) => be(`on the ${v} plan`),
  location: (v) => verb("live", "lives", `in ${v}`),
  origin: (v) => be(`from ${v}`),
  employer: (v) => verb("work", "works", `at ${v}`),
  occupation: (v) => {
    const owner = /^(owns|manages)\s+(.+)$/i.exec(v);
    if (owner) return verb(owner[1]!.toLowerCase() === "owns" ? "own" : "manage", owner[1]!.toLowerCase(), owner[2]!);
    return be(/^(?:retired|self-employed|unemployed|freelance|between jobs|out of work)$/i.test(v) ? v : `${article(v)} ${v}`);
  },
  likes: (v) => verb("like", "likes", v),
  dislikes: (v) => verb("dislike", "dislikes", v),
  allergy: (v) => be(`allergic to ${v}`),
  health: (v) =>
    HEALTH_STATES.has(v.toLowerCase().split(/\s+/)[0] ?? "") || /\b(?:intolerant|deaf|blind|pregnant)\b/i.test(v)
      ? be(v)
      : verb("have", "has", DEVICES.test(v) && !/s$/i.test(v) ? `${article(v)} ${v}` : v),
  // "User keeps kosher.", "User eats halal.", "User is vegan.", "User follows a keto diet."
  diet: (v) =>
    /^kosher$/i.test(v) ? verb("keep", "keeps", v) : /^halal$/i.test(v) ? verb("eat", "eats", v) : DIETS.has(v.toLowerCase()) ? be(v) : verb("follow", "follows", `${article(v)} ${v} diet`),
  avoids: (v) => verb("avoid", "avoids", v),
  age: (v) => be(/(?:teens|ties|\d0s)$/i.test(v) ? `in their ${v}` : `${v} years old`),
  family: (v) => verb("have", "has", something(v)),
  pet: (v) => verb("have", "has", something(v)),
  language: (v) => verb("speak", "speaks", v),
  marital_status: (v) => be(v),
  work_mode: (v) => verb("work", "works", v),
  intends: (v) => verb("plan to", "plans to", v),
};

/**
 * The third-person sentence for a fact about `subject` ("User", "Anna"), or undefined when the attribute has no
 * template (the caller then rewrites the clause itself). Negated values ("not peanuts") are read as negations.
 */
export function factText(subject: string, attribute: string, value: string, mode: Mode): string | undefined {
  if (attribute === "name") {
    return `${subject}'s name ${mode.hedged ? (mode.negated ? "may not be" : "may be") : mode.negated ? "is not" : "is"} ${value}.`;
  }
  if (attribute === "intends") return `${subject} ${mode.hedged ? "might" : "plans to"} ${value}.`;
  const predicate = PREDICATES[attribute]?.(value);
  if (!predicate) return undefined;
  const [bare, third] = predicate;
  let body: string;
  if (mode.hedged) body = `may ${mode.negated ? "not " : ""}${bare}`;
  else if (!mode.negated) body = third;
  else if (third.startsWith("is ")) body = `is not ${third.slice(3)}`;
  else body = `does not ${bare}`;
  return `${capitaliseFirst(subject)} ${body}.`;
}
