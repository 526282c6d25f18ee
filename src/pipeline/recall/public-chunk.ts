import { toId } from "../../store/ids.js";
import type { RecalledChunk } from "./recall-types.js";

/** A document chunk as callers see it. */
export function publicChunk(row: { id: number; document_id: number; title: string; text: string }): RecalledChunk {
  return { id: toId("chunk", row.id), document_id: toId("document", row.document_id), title: row.title, text: row.text };
}
