/**
 * Negated statements about the speaker: "I'm not allergic to peanuts", "I don't live in Paris anymore", "I'm
 * no longer vegetarian". The negation is taken out so that the ordinary patterns can read the statement,
 * and the facts they find are then stored with a negated value ("not peanuts"; see models/attributes.ts).
 */
export interface Polarity {
  /** The clause without its negation: "I'm allergic to peanuts". */
  positive: string;
  negated: boolean;
}

const RULES: readonly (readonly [RegExp, string])[] = [
  [/\bI(?:'m|\s+am)\s+(?:not|no\s+longer)\s+/i, "I'm "],
  [/\bI(?:'ve|\s+have)\s+never\s+been\s+/i, "I'm "],
  [/\b(I|we)\s+(?:don't|do\s+not|no\s+longer|never)\s+/i, "$1 "],
  [/\b(I|we)\s+(?:haven't|have\s+not)\s+got\s+/i, "$1 have "],
  [/\b(I|we)(?:'re|\s+are)\s+(?:not|no\s+longer)\s+/i, "$1're "],
];

const ANYMORE = /\s*\b(?:any\s?more|any\s+longer|after\s+all)\b/gi;

export function polarity(clause: string): Polarity {
  for (const [re, replacement] of RULES) {
    if (re.test(clause)) {
      return { positive: clause.replace(re, replacement).replace(ANYMORE, "").replace(/\s+/g, " ").trim(), negated: true };
    }
  }
  return { positive: clause, negated: false };
}
