import { asSentence, capitaliseFirst, lowerFirst, trimPunctuation } from "./text.js";

/** A standing order to the agent, as the value (the order itself) and a third-person sentence. */
export interface Instruction {
  value: string;
  text: string;
}

const POLITE = /^(?:please\s+|(?:and|also|oh|ok|okay|so)\s*,?\s+)+/i;
const TRAILING_POLITE = /[\s,]+(?:please|thanks|thank you)$/i;
const FROM_NOW_ON = /\b(?:from\s+now\s+on|going\s+forward|in\s+(?:the\s+)?future|for\s+future\s+reference)\b\s*,?\s*/i;
const YOU_MODAL = /^you\s+(?:should|must|need\s+to|have\s+to)\s+/i;

/**
 * True for imperatives that set a rule: "always …", "never …", "don't …", "remember to …", "make sure
 * to …", "from now on …", "you should always …". A statement such as "I never eat meat" is not one.
 */
export function isInstruction(clause: string): boolean {
  const body = clause.replace(POLITE, "");
  if (FROM_NOW_ON.test(body)) return true;
  if (/^(?:always|never|don't|do\s+not|remember\s+to|make\s+sure\s+(?:to|that|you)|be\s+sure\s+to|stop)\b/i.test(body)) return true;
  return YOU_MODAL.test(body) || /^you\s+(?:should|must)\s+(?:always|never)\b/i.test(body);
}

/** Rewrites the order for a sentence about it: "me" is the user, "my" the user's. */
function aboutUser(directive: string): string {
  return directive
    .replace(/\bme\b/g, "the user")
    .replace(/\b[Mm]y\b/g, "the user's")
    .replace(/\b[Mm]ine\b/g, "the user's")
    .replace(/\bI'm\b|\bI\s+am\b/g, "the user is")
    .replace(/\bI\b/g, "the user");
}

/**
 * "Please always answer in French." → value "Always answer in French", text "User instructs the
 * assistant to always answer in French." The value keeps the user's wording; the text is what retrieval
 * and the response stage read.
 */
export function parseInstruction(clause: string): Instruction {
  let body = trimPunctuation(clause.replace(POLITE, "").replace(TRAILING_POLITE, ""));
  const value = capitaliseFirst(body);
  let suffix = "";
  if (FROM_NOW_ON.test(body)) {
    body = trimPunctuation(body.replace(FROM_NOW_ON, " ").replace(/\s+/g, " "));
    suffix = " from now on";
  }
  body = body.replace(YOU_MODAL, "");
  let phrase: string;
  const negative = /^(?:don't|do\s+not)\s+(.+)$/i.exec(body);
  const remember = /^(?:remember\s+to|make\s+sure\s+(?:to|that\s+you|you)|be\s+sure\s+to)\s+(.+)$/i.exec(body);
  if (negative) phrase = `not to ${negative[1] ?? ""}`;
  else if (remember) phrase = `to ${remember[1] ?? ""}`;
  else phrase = `to ${lowerFirst(body)}`;
  return { value, text: asSentence(`User instructs the assistant ${aboutUser(phrase)}${suffix}`) };
}
