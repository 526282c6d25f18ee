import { MANY_VALUED } from "../attributes.js";
import { CONDITIONS, FAMILY, FAMILY_MODIFIERS, PEOPLE, PETS } from "./lexicon.js";
import type { PersonalMatch } from "./personal-patterns.js";

/**
 * What a possessive reveals in passing, in statements and questions alike: "…for my cat Luna?" (a pet), "my
 * sister Anna lives in Berlin" (a sister), "a physio for my bad knee" (a health matter). Such facts are lasting
 * even when the sentence around them is not.
 */

/** Capitalised words after a noun that are not names: "my sister Monday", "my dog I …". */
const NOT_NAMES = new Set(
  "I I'm I've I'd I'll Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August September October November December Christmas Easter".split(
    " ",
  ),
);

/** Body parts count as a health matter only with a word that says so ("my bad knee", not "my knee"). */
const BODY = new Set("knee knees back hip hips shoulder ankle wrist neck".split(" "));
const BODY_MODIFIER = /^(?:bad|chronic|dodgy|sore|injured|weak|arthritic|broken)$/i;

const WORD = /[\p{L}][\p{L}'’-]*/gu;

function nameAt(tokens: readonly string[], i: number): string {
  const out: string[] = [];
  for (let k = i; k < tokens.length && out.length < 2; k++) {
    const t = (tokens[k] ?? "").replace(/['’]s$/, "");
    if (!/^\p{Lu}\p{Ll}/u.test(t) || NOT_NAMES.has(t)) break;
    out.push(t);
    if (t !== tokens[k]) break;
  }
  return out.join(" ");
}

function mention(attribute: string, value: string, kind: "attribute" | "relation"): PersonalMatch {
  return { attribute, value, cardinality: MANY_VALUED.has(attribute) ? "many" : "one", kind, negated: false, clauseText: false };
}

/** A named person the clause introduces ("my sister Anna", "my friend Tom"), with the rest of the clause. */
export interface NamedPerson {
  name: string;
  /** What follows the name: "lives in Berlin". */
  rest: string;
}

/** Family, pets and health matters named after "my"/"our" anywhere in the clause. */
export function findMentions(clause: string): { facts: PersonalMatch[]; people: NamedPerson[] } {
  const tokens = clause.match(WORD) ?? [];
  const facts: PersonalMatch[] = [];
  const people: NamedPerson[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const owner = (tokens[i] ?? "").toLowerCase();
    if (owner !== "my" && owner !== "our") continue;
    const modifiers: string[] = [];
    let j = i + 1;
    while (j < tokens.length && modifiers.length < 2 && FAMILY_MODIFIERS.has((tokens[j] ?? "").toLowerCase())) modifiers.push(tokens[j++] ?? "");
    const raw = tokens[j] ?? "";
    const noun = raw.replace(/['’]s$/, "");
    const lower = noun.toLowerCase();
    const name = raw === noun ? nameAt(tokens, j + 1) : "";
    const phrase = [...modifiers, noun].join(" ");
    if (FAMILY.has(lower)) facts.push(mention("family", name ? `${phrase} ${name}` : phrase, "relation"));
    else if (PETS.has(lower) || (modifiers.length === 0 && PETS.has((tokens[j + 1] ?? "").toLowerCase()) && /^(?:rescue|old|new|little|big|senior|adopted|pet|baby)$/i.test(noun))) {
      const pet = PETS.has(lower) ? noun : `${noun} ${tokens[j + 1] ?? ""}`;
      const petName = PETS.has(lower) ? name : nameAt(tokens, j + 2);
      facts.push(mention("pet", petName ? `${pet} ${petName}` : pet, "attribute"));
    } else if (CONDITIONS.has(lower) && !BODY.has(lower)) facts.push(mention("health", noun, "attribute"));
    else if (BODY_MODIFIER.test(noun) && CONDITIONS.has((tokens[j + 1] ?? "").toLowerCase())) facts.push(mention("health", `${noun} ${tokens[j + 1] ?? ""}`, "attribute"));
    if (name && (FAMILY.has(lower) || PEOPLE.has(lower))) {
      const after = clause.slice(clause.indexOf(name, clause.toLowerCase().indexOf(noun.toLowerCase())) + name.length).replace(/^[\s,]+/, "");
      people.push({ name, rest: after });
    }
  }
  return { facts, people };
}
