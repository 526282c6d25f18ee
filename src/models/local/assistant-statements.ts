import { findEntities } from "./entities.js";
import { words } from "./text.js";

/**
 * Which assistant sentences are worth a record. Most facts worth remembering about a user are in the user's
 * turns; an assistant reply mostly restates them, cheers, advises or asks. What it says of its own — an action
 * it took, a statement about named things or figures — is kept, a little of it per turn.
 */

/** Openings of an assistant sentence that address or cheer the user rather than state something. */
const SMALL_TALK =
  /^(?:congratulations|congrats|sorry|I'm\s+sorry|I\s+hope|I'm\s+glad|glad|happy|great|wonderful|awesome|amazing|nice|good|sounds|that\s+sounds|that's|it\s+sounds|what\s+a|of\s+course|sure|absolutely|certainly|thanks|thank\s+you|you're\s+welcome|here\s+(?:are|is)|here's|let's|let\s+me|first|second|third|finally|also|next|lastly)\b/i;
/** An assistant sentence that reports what the user said. */
export const RESTATES_USER = /\byou\s+(?:told|mentioned|said|shared|wrote|noted)\b|\bas\s+you\s+(?:said|mentioned)\b/i;
/** An assistant turn is mostly about the user or advice to them; at most this many of its sentences are kept. */
export const MAX_ASSISTANT_RECORDS = 2;

/**
 * Assistant sentences kept as records: what the assistant did ("I've updated your plan to Pro") and statements
 * about named things or figures ("The museum is closed on Mondays"); never a restatement of what the user
 * said (second person), small talk, advice or a question.
 */
export function assistantStatement(clause: string): boolean {
  if (SMALL_TALK.test(clause)) return false;
  // Something the assistant did ("I've updated your plan to Pro", "I booked …") is news, even about the user.
  if (/^I(?:'ve|\s+have)?\s+(?:just\s+|now\s+|already\s+)?\p{Ll}+ed\b/u.test(clause)) return true;
  if (/\b(?:you|your|yours|you're|you've|you'll|you'd|yourself)\b/i.test(clause)) return false;
  const first = (words(clause)[0] ?? "").toLowerCase();
  // An imperative ("Try stretching daily") opens with a bare verb: a lower-case word that is no determiner or noun phrase.
  if (/^\p{Ll}/u.test(clause) || /^(?:try|drink|get|make|consider|remember|take|keep|avoid|use|check|start|go|add|eat|book|visit|bring|ask|look|call|contact|see)$/.test(first)) return false;
  return findEntities(clause).length > 0 || /\d/.test(clause);
}
