/**
 * Hedged statements. A hedge lowers confidence and turns the fact into an uncertainty, but the statement inside
 * is still read: "I think I might be allergic to peanuts" is an uncertain allergy. ("I'll", a plain future, is
 * no hedge; plans, hedged or not, are read by plans.ts before this.)
 */

// "may" only lower-case, so that the month ("in May") is no hedge.
const HEDGE =
  /\b(?:I\s+think|I\s+believe|I\s+guess|I\s+suppose|I\s+reckon|I\s+feel\s+like|maybe|perhaps|probably|possibly|might|not\s+sure|unsure|I'm\s+considering|I'm\s+thinking\s+(?:of|about)|I\s+am\s+thinking\s+(?:of|about)|I\s+(?:plan|hope|want|intend)\s+to|I'd\s+like\s+to|I\s+would\s+like\s+to|I(?:'m|\s+am)\s+(?:going|planning|hoping)\s+to\s+(?!the\b|a\b|an\b|my\b|bed\b|work\b|school\b|church\b|class\b|sleep\b))\b|\bmay\b/i;

export function isHedged(clause: string): boolean {
  return HEDGE.test(clause.replace(/\bMay\b/g, ""));
}

/**
 * Removes the hedge so that the identity patterns can read the statement: "I think I might be on the Pro
 * plan" → "I'm on the Pro plan"; "maybe I'll move to Berlin" → "I move to Berlin".
 */
export function stripHedges(clause: string): string {
  return clause
    .replace(/\b(?:I\s+think|I\s+believe|I\s+guess|I\s+suppose|I\s+reckon|I\s+feel\s+like)\b(?:\s+that\b)?\s*,?\s*/gi, "")
    .replace(/\bI(?:'m|\s+am)\s+not\s+sure\b(?:\s+(?:if|whether|that)\b)?\s*,?\s*/gi, "")
    .replace(/\bnot\s+sure\b(?:\s+(?:if|whether|that)\b)?\s*,?\s*/gi, "")
    .replace(/\b(?:maybe|perhaps|probably|possibly)\b\s*,?\s*/gi, "")
    .replace(/\bI(?:'m|\s+am)\s+(?:considering|thinking\s+(?:of|about))\s+/gi, "I'm ")
    .replace(/\bI(?:'d|\s+(?:might|may|could|would|should))\s+not\s+be\s+/gi, "I'm not ")
    .replace(/\bI(?:'ll|'d|\s+(?:might|may|could|would|will|should))\s+be\s+/gi, "I'm ")
    .replace(/\bI(?:'ll|\s+(?:might|may|could|would|will|should))\s+/gi, "I ")
    .replace(/\bI(?:'m|\s+am)\s+(?:going|planning|hoping)\s+to\s+be\s+/gi, "I'm ")
    .replace(/\bI(?:'m|\s+am)\s+(?:going|planning|hoping)\s+to\s+/gi, "I ")
    .replace(/\bI(?:'d|\s+would)\s+like\s+to\s+/gi, "I ")
    .replace(/\bI\s+(?:plan|hope|want|intend)\s+to\s+/gi, "I ")
    .replace(/\s+/g, " ")
    .trim();
}
