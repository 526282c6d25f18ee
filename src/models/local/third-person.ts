import { asSentence, capitaliseFirst } from "./text.js";

/** Past forms and modals that take no third-person "-s". */
const UNINFLECTED: ReadonlySet<string> = new Set(
  (
    "went saw got had made took came ate did said knew thought felt found gave told left bought brought met " +
    "ran read wrote spent sent lost won began became kept slept paid heard built caught taught drove flew " +
    "forgot sat stood understood chose fell held meant sold spoke swam woke wore broke grew drew drank sang " +
    "hid rode led let put set cut hit hurt quit shut cost could would should might must may can will shall " +
    "was were is has does"
  ).split(" "),
);

const IRREGULAR: Readonly<Record<string, string>> = {
  am: "is",
  are: "is",
  have: "has",
  do: "does",
  go: "goes",
  "don't": "doesn't",
  "haven't": "hasn't",
  "aren't": "isn't",
};

/** Adverbs that may sit between the subject and its verb ("I really like", "I no longer work"). */
const ADVERBS: ReadonlySet<string> = new Set(
  "also just still often never always really actually usually sometimes already even now then no longer only mostly rarely finally first".split(
    " ",
  ),
);

/** Stands for "User" in object position ("staying with me" → "staying with User") until agreement is done. */
const OBJECT_MARK = "\u0002";

function inflect(verb: string): string {
  const lower = verb.toLowerCase();
  const irregular = IRREGULAR[lower];
  if (irregular !== undefined) return irregular;
  if (!isBareVerb(lower)) return verb;
  if (/(?:s|sh|ch|x|z|o)$/.test(lower)) return `${verb}es`;
  if (/[^aeiou]y$/.test(lower)) return `${verb.slice(0, -1)}ies`;
  return `${verb}s`;
}

/**
 * A word that can be a verb in its bare form: not a past form, a participle, an adverb or a function word
 * ("User recently splurged", "User for nine" stay as they are).
 */
function isBareVerb(lower: string): boolean {
  if (!/^[a-z]+$/.test(lower) || UNINFLECTED.has(lower) || FUNCTION_WORDS.has(lower)) return false;
  if (/(?:ing|ly)$/.test(lower) || (/ed$/.test(lower) && !/eed$/.test(lower) && lower.length > 3)) return false;
  return !lower.endsWith("s") || /(?:ss|us|is)$/.test(lower);
}

/** Words that are never verbs: after "User" they mean "User" is not a subject here ("with User for nine"). */
const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    "a an the and or but if then so because as of at by for with about against between into through during before " +
    "after above below to from up down in out on off over under again once here there all any both each few more " +
    "most other some such no nor not only same than too very this that these those who whom which what when " +
    "where why how it its his her their our your my me him them us we they he she you i"
  ).split(" "),
);

/** "Anna and User", "User's partner and User": a compound subject, whose verb takes no "-s". */
function isCompoundSubject(tokens: readonly string[], i: number, subjects: readonly string[]): boolean {
  if ((tokens[i - 2] ?? "").toLowerCase() !== "and") return false;
  const before: string[] = [];
  for (let k = i - 4; k >= 0; k -= 2) {
    const t = tokens[k] ?? "";
    if (/[,;:.!?]$/.test(t)) break;
    before.unshift(t);
  }
  return before.length > 0 && before.length <= 3 && !subjects.includes(before[0] ?? "");
}

/**
 * Makes the verb after each occurrence of `subject` agree with a third-person singular subject. Only a subject
 * is followed by its verb: "Anna and User live" (a plural subject) and an object ("with User") are left alone.
 */
function agree(text: string, subject: string, others: readonly string[] = []): string {
  const tokens = text.split(/(\s+)/);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] !== subject || isCompoundSubject(tokens, i, [subject, ...others])) continue;
    let j = i + 2;
    while (j < tokens.length && (ADVERBS.has((tokens[j] ?? "").toLowerCase()) || /^\p{Ll}+ly$/u.test(tokens[j] ?? ""))) j += 2;
    const verb = tokens[j];
    if (verb === undefined) continue;
    const bare = verb.replace(/[^\p{L}']+$/u, "");
    if (bare && /^\p{Ll}/u.test(bare)) tokens[j] = inflect(bare) + verb.slice(bare.length);
  }
  return tokens.join("");
}

/**
 * Rewrites a first-person sentence about the speaker into the third person: "I'm tired today" →
 * "User is tired today."; "my" → "User's". With `addressee`, second-person words ("you", "your") are
 * rewritten too, which is how an assistant's sentence about the user reads ("your plan" → "User's plan").
 * The result is a clean sentence in the simple cases and a readable one in the rest.
 */
export function toThirdPerson(sentence: string, speaker: string, addressee?: string): string {
  let text = sentence
    .replace(/\bI\s+(?:think|believe|guess|suppose|reckon)\s+(?:that\s+)?(?=I\b|I')/g, "")
    .replace(/\bI'm\b|\bI am\b/g, `${speaker} is`)
    .replace(/\bI've\b/g, `${speaker} has`)
    .replace(/\bI'll\b/g, `${speaker} will`)
    .replace(/\bI'd\b/g, `${speaker} would`)
    .replace(/\bI was\b/g, `${speaker} was`)
    .replace(/\b[Mm]yself\b/g, "themselves")
    .replace(/\b[Mm]ine\b/g, `${speaker}'s`)
    .replace(/\b[Mm]y\b/g, `${speaker}'s`)
    .replace(/(?<=\s)me\b/g, OBJECT_MARK)
    .replace(/\bI\b/g, speaker);
  if (addressee !== undefined) {
    text = text
      .replace(/\b[Yy]ou're\b|\b[Yy]ou are\b/g, `${addressee} is`)
      .replace(/\b[Yy]ou've\b/g, `${addressee} has`)
      .replace(/\b[Yy]ou'll\b/g, `${addressee} will`)
      .replace(/\b[Yy]ou'd\b/g, `${addressee} would`)
      .replace(/\b[Yy]ou were\b/g, `${addressee} was`)
      .replace(/\b[Yy]ours\b/g, `${addressee}'s`)
      .replace(/\b[Yy]our\b/g, `${addressee}'s`)
      .replace(/\b[Yy]ourself\b/g, "themselves")
      .replace(/\b[Yy]ou\b/g, addressee);
    text = agree(text, addressee, [speaker]);
  }
  return asSentence(capitaliseFirst(agree(text, speaker, addressee === undefined ? [] : [addressee]).replaceAll(OBJECT_MARK, speaker)));
}
