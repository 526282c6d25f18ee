import { tryParseId } from "../../store/ids.js";
import type { Retrieval } from "./hybrid.js";

/** The records and document chunks an answer used: the answering model's `used` ids that it was given. */
export interface UsedSet {
  records: number[];
  chunks: number[];
}

/**
 * The model's `used` list kept to the ids it was shown (a model may invent or repeat ids), each once, in its
 * order.
 */
export function usedOf(used: readonly string[], retrieval: Retrieval): UsedSet {
  const records = new Set(retrieval.records.map((r) => r.id));
  const chunks = new Set(retrieval.chunks.map((c) => c.row.id));
  const out: UsedSet = { records: [], chunks: [] };
  for (const id of new Set(used)) {
    const record = tryParseId("record", id);
    if (record !== undefined && records.has(record)) out.records.push(record);
    const chunk = tryParseId("chunk", id);
    if (chunk !== undefined && chunks.has(chunk)) out.chunks.push(chunk);
  }
  return out;
}
