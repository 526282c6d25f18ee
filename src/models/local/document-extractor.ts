import type { ExtractedFact } from "../prompts/extraction.js";
import { findEntities } from "./entities.js";
import { asSentence, contentWords, splitSentences, words } from "./text.js";

const LIST_MARKER = /^(?:[-*•]\s+|\d+[.)]\s+|[a-z][.)]\s+)/;

/**
 * A document passage as knowledge: every declarative sentence with content becomes one fact about the
 * first name it mentions (or "document"). Questions, headings and fragments of fewer than four words
 * without a full stop are skipped, since they state nothing on their own.
 */
export function extractDocument(content: string): ExtractedFact[] {
  const facts: ExtractedFact[] = [];
  const seen = new Set<string>();
  for (const raw of splitSentences(content)) {
    if (/^#/.test(raw)) continue;
    const sentence = raw.replace(LIST_MARKER, "").trim();
    if (!sentence || sentence.endsWith("?")) continue;
    if (!/[.!]$/.test(sentence) && words(sentence).length < 4) continue;
    if (contentWords(sentence).length === 0) continue;
    const text = asSentence(sentence);
    if (seen.has(text)) continue;
    seen.add(text);
    const entities = findEntities(sentence);
    facts.push({
      kind: "attribute",
      memory_category: "knowledge",
      subject: entities[0]?.toLowerCase() ?? "document",
      attribute: null,
      value: null,
      cardinality: "many",
      text,
      confidence: 0.8,
      entities,
    });
  }
  return facts;
}
