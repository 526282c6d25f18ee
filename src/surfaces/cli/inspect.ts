import type { Spectron } from "../../spectron.js";
import type { MemoryRecord } from "../../state/public-record.js";
import type { Trace, TraceEdge } from "../../traces/traces-api.js";
import { NotFoundError, SpectronValidationError } from "../../errors.js";
import { clip, formatScope, renderTree, valueNodes, type TreeNode } from "./render-tree.js";

/** Pages of `state.list` an inspection reads at most (supersession and entity scans), 1,000 records each. */
const MAX_PAGES = 20;

export type Inspected =
  | { kind: "trace"; trace: Trace & { edges: TraceEdge[] }; nodes: Record<string, string> }
  | { kind: "fact"; record: MemoryRecord; supersededBy: MemoryRecord[]; supersedes: MemoryRecord[] }
  | { kind: "entity"; name: string; records: MemoryRecord[]; scanned: number; complete: boolean };

/** `trace:<id>`, `fact:<id>` or `entity:<name>`: what to inspect. */
export function parseTarget(target: string): { kind: "trace" | "fact" | "entity"; value: string } {
  const m = /^(trace|fact|entity):(.+)$/s.exec(target);
  if (!m) throw new SpectronValidationError("target", "trace:<id>, fact:<id> or entity:<name>", target);
  return { kind: m[1] as "trace" | "fact" | "entity", value: m[2]! };
}

/** `scope`: where to look for an entity's facts (those visible to it). */
export async function inspect(memory: Spectron, target: string, scope: Record<string, string> = {}): Promise<Inspected> {
  const { kind, value } = parseTarget(target);
  if (kind === "trace") {
    const trace = await memory.traces.get(value);
    // The text of the records the trace's edges name, so that the tree reads without a second command.
    const nodes: Record<string, string> = {};
    for (const edge of trace.edges) {
      if (edge.node.type !== "record" || edge.node.id in nodes) continue;
      nodes[edge.node.id] = await memory.state.get(edge.node.id).then(
        (r) => r.text,
        (error: unknown) => {
          if (error instanceof NotFoundError) return "(not readable)";
          throw error;
        },
      );
    }
    return { kind, trace, nodes };
  }
  if (kind === "fact") {
    const record = await memory.state.get(value);
    const supersededBy: MemoryRecord[] = [];
    const seen = new Set([record.id]);
    for (let next = record.superseded_by; next && !seen.has(next) && supersededBy.length < 50; ) {
      seen.add(next);
      const r = await memory.state.get(next);
      supersededBy.push(r);
      next = r.superseded_by;
    }
    const supersedes = (await scan(memory, { scope: record.scope, status: "superseded" }, (r) => r.superseded_by === record.id)).records;
    return { kind, record, supersededBy, supersedes };
  }
  const norm = normalize(value);
  if (!norm) throw new SpectronValidationError("entity", "a non-empty name", value);
  const mention = new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(norm)}($|[^\\p{L}\\p{N}])`, "u");
  const found = await scan(memory, { scope }, (r) => (r.subject !== null && normalize(r.subject) === norm) || mention.test(normalize(r.text)));
  if (found.records.length === 0 && found.complete) throw new NotFoundError("entity", value);
  // Records whose subject is the entity first, then those that mention it.
  const records = [...found.records].sort((a, b) => Number(normalize(b.subject ?? "") === norm) - Number(normalize(a.subject ?? "") === norm));
  return { kind, name: value, records, scanned: found.scanned, complete: found.complete };
}

async function scan(memory: Spectron, filter: { scope: Record<string, string>; status?: "superseded" }, keep: (r: MemoryRecord) => boolean) {
  const records: MemoryRecord[] = [];
  let cursor: string | null = null;
  let scanned = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const list: Awaited<ReturnType<Spectron["state"]["list"]>> = await memory.state.list({ ...filter, limit: 1000, ...(cursor ? { cursor } : {}) });
    scanned += list.records.length;
    records.push(...list.records.filter(keep));
    cursor = list.cursor;
    if (!cursor) return { records, scanned, complete: true };
  }
  return { records, scanned, complete: false };
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\s+/g, " ").trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function recordLine(r: MemoryRecord): string {
  return `${r.id} [${r.memory_category}/${r.kind}, ${r.status}] ${clip(r.text, 120)}`;
}

/** The inspection as a readable tree. */
export function renderInspected(i: Inspected): string {
  if (i.kind === "trace") {
    const t = i.trace;
    const edges = new Map<string, TreeNode[]>();
    for (const e of t.edges) {
      const key = `${e.direction === "out" ? "→" : "←"} ${e.kind}`;
      const text = i.nodes[e.node.id];
      const list = edges.get(key) ?? [];
      list.push({ label: `${e.node.type} ${e.node.id}${text !== undefined ? `  ${JSON.stringify(clip(text, 100))}` : ""}` });
      edges.set(key, list);
    }
    return renderTree({
      label: `${t.id}  ${t.kind}  ${t.created_at}${t.redacted ? "  (redacted)" : ""}`,
      children: [
        { label: `scope: ${formatScope(t.scope)}` },
        { label: `principal: ${t.principal ?? "—"}${t.on_behalf_of ? ` on behalf of ${t.on_behalf_of}` : ""}  session: ${t.session ?? "—"}` },
        { label: "payload", children: valueNodes(t.payload) },
        { label: `edges (${t.edges.length})`, children: [...edges].map(([label, children]) => ({ label: `${label} (${children.length})`, children })) },
      ],
    });
  }
  if (i.kind === "fact") {
    const r = i.record;
    return renderTree({
      label: `${r.id}  ${JSON.stringify(clip(r.text))}`,
      children: [
        { label: `status: ${r.status}  kind: ${r.kind}  category: ${r.memory_category}  scope: ${formatScope(r.scope)}` },
        ...(r.subject ? [{ label: `subject: ${r.subject}  attribute: ${r.attribute ?? "—"}  value: ${r.value ?? "—"}` }] : []),
        { label: `importance: ${r.importance.toFixed(3)}  confidence: ${r.confidence.toFixed(2)}  trust: ${r.trust.toFixed(2)}  proofs: ${r.proof_count}` },
        { label: `created: ${r.created_at}  updated: ${r.updated_at}  expires: ${r.expires_at ?? "never"}` },
        {
          label: `history (${r.history.length})`,
          children: r.history.map((h) => ({
            label: `${h.at}  ${h.event}${h.count !== undefined ? ` ×${h.count}` : ""}${h.last_at ? ` (last ${h.last_at})` : ""}${h.detail ? `  ${clip(h.detail, 100)}` : ""}`,
          })),
        },
        {
          label: "lineage",
          children: [
            { label: `source: ${r.source.kind}${r.source.id ? ` ${r.source.id}` : ""}${r.source.key ? ` (asserted by ${r.source.key})` : ""}` },
            { label: `supersedes (${i.supersedes.length})`, children: i.supersedes.map((s) => ({ label: recordLine(s) })) },
            { label: `superseded by (${i.supersededBy.length})`, children: i.supersededBy.map((s) => ({ label: recordLine(s) })) },
          ],
        },
      ],
    });
  }
  return renderTree({
    label: `entity ${JSON.stringify(i.name)}: ${i.records.length} fact${i.records.length === 1 ? "" : "s"}${i.complete ? "" : ` (first ${i.scanned} records scanned)`}`,
    children: i.records.map((r) => ({ label: recordLine(r), children: [{ label: `scope: ${formatScope(r.scope)}  importance: ${r.importance.toFixed(3)}` }] })),
  });
}
