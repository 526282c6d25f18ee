import type { ResponseInput } from "../../models/prompts/response.js";
import { toId } from "../../store/ids.js";
import { iso } from "../../state/public-record.js";
import { turnOf, type Retrieval } from "./hybrid.js";

/**
 * What the response (or synthesis) model is shown: the ranked records, then document chunks as kind "chunk".
 * `entitiesOf` adds the names each record is linked to (the local composer checks them against the question's),
 * and each record extracted from a turn with a speaker carries that speaker.
 */
export function promptRecords(retrieval: Retrieval, now: number, entitiesOf?: (recordId: number) => string[]): ResponseInput["records"][number][] {
  const speakerOf = (r: Retrieval["records"][number]) => retrieval.turns.get(turnOf(r) ?? -1)?.speaker;
  const records = retrieval.records.map((r) => ({
      id: toId("record", r.id),
      text: r.text,
      kind: r.kind,
      status: r.status,
      subject: r.subject,
      attribute: r.attribute,
      value: r.value,
      created_at: iso(r.created_at),
      ...(entitiesOf ? { entities: entitiesOf(r.id) } : {}),
      ...(speakerOf(r) ? { speaker: speakerOf(r)! } : {}),
    }));
  const chunks = retrieval.chunks.map(({ row }) => ({
      id: toId("chunk", row.id),
      text: row.text,
      kind: "chunk",
      status: "current",
      subject: null,
      attribute: null,
      value: null,
      created_at: iso(now),
    }));
  // Query-type dispatch (dispatch.ts): a question about documents reads them first.
  return retrieval.chunksFirst ? [...chunks, ...records] : [...records, ...chunks];
}

