import type { Background, BackgroundInput } from "../prompts/background.js";
import { normaliseForComparison } from "./text.js";

const MAX_CHARS = 400;
/** A summary that only concatenates is no better than its weakest record. */
const CONFIDENCE = 0.6;

/**
 * The background consolidation task without a model: the distinct record texts joined into one
 * observation, "Observed: <text1>; <text2>; …", kept under ~400 characters at a record boundary.
 */
export function consolidate(input: BackgroundInput): Background {
  const seen = new Set<string>();
  const texts: string[] = [];
  for (const record of input.records) {
    const text = record.text.trim().replace(/[.!?;]+$/, "");
    const key = normaliseForComparison(text);
    if (!text || seen.has(key)) continue;
    seen.add(key);
    texts.push(text);
  }
  if (texts.length === 0) return { observation: "Observed: nothing.", confidence: CONFIDENCE };
  let observation = "Observed:";
  let included = 0;
  for (const text of texts) {
    const next = `${observation}${included === 0 ? " " : "; "}${text}`;
    if (next.length > MAX_CHARS - 2) break;
    observation = next;
    included++;
  }
  if (included === 0) observation = `Observed: ${(texts[0] ?? "").slice(0, MAX_CHARS - 13).trimEnd()}…`;
  else if (included < texts.length) observation += "; …";
  else observation += ".";
  return { observation, confidence: CONFIDENCE };
}
