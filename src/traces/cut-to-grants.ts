import type { Principal } from "../config/schemas.js";
import { can, canReadRecord } from "../access/access.js";
import { sql, type Db } from "../store/database.js";
import type { EdgeRow } from "../store/graph.js";
import { ID_PREFIX, type IdKind } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import type { TraceRow } from "../store/traces.js";

/*
 * What a trace shows a principal is cut to what its grants read (issue 11, finding 6). A trace is visible by
 * its request scope, but the request may have read more than the principal may: the application recalled at
 * { org: "globex", user: "alice" } and read globex's org facts; alice, granted { user: "alice" }, sees that
 * trace and must not read globex's facts in it. The rules:
 *
 * - An id is readable when the principal may read the node: a record, chunk, document or turn whose scope is
 *   inside or above one of its read grants (the by-id rule of state.get), a trace it may see. A node that no
 *   longer exists (a removed document's chunks) is not readable.
 * - Payload entries that cite an unreadable id are removed: an element of a list (a candidate, an outcome, a
 *   returned id) goes; a field that is one (`reused_from`, `source`) becomes null.
 * - Text written from the trace's inputs (`prompt`, `answer` or a reuse's `response`, `insights`, `extraction`) becomes null when any
 *   input is unreadable: the ids the trace cites, its out-edges, and, through `used_retrieval`, `reused_from`
 *   and `parent_trace`, the inputs of the traces it was written from. A model's answer cannot be cut by the
 *   sentence, so it is withheld whole.
 * - Edges to unreadable nodes are removed.
 * - `redacted` is true when anything was cut. That one bit (this trace drew on something outside your grants)
 *   is all a principal learns; no id, text, score or scope of what it may not read.
 *
 * The application (no principal) and principals that read the whole Context see traces whole.
 */

type NodeKind = IdKind;

const BY_PREFIX = new Map<string, NodeKind>(Object.entries(ID_PREFIX).map(([kind, prefix]) => [prefix.slice(0, -1), kind as NodeKind]));
const TABLE: Record<NodeKind, string> = { record: "records", chunk: "chunks", document: "documents", turn: "turns", trace: "traces" };

/** An id as a payload writes it: "rec_12", or inside a source key or a query such as "document:doc_3", "fact:rec_2". */
const PAYLOAD_ID = /^(?:[A-Za-z_]+:)?(rec|chk|doc|turn|trc)_(\d+)$/;
/** Payload fields written from the trace's inputs. */
const DERIVED = ["prompt", "answer", "response", "insights", "extraction"] as const;
/**
 * Links to the traces a trace's text was written from: a response's retrieval, the answer a reuse repeats, the
 * response whose insights a reflect decision stored (its parent).
 */
const DRAWS_ON = new Set(["used_retrieval", "reused_from", "parent_trace"]);
/** How far `DRAWS_ON` links are followed (a tier-2 reuse → the answer it repeats → that answer's retrieval). */
const MAX_DEPTH = 4;

export interface CutTrace {
  payload: Record<string, unknown>;
  edges: { out: EdgeRow[]; in: EdgeRow[] } | undefined;
  redacted: boolean;
}

type Cut = { value: unknown; tainted: boolean; changed: boolean };

/** Ids per look-up: SQLite's default limit on bound parameters is far above; this keeps statements few and reused. */
const BATCH = 200;

/**
 * Cuts traces for one principal; made per call. `prepare` reads, in a few batched queries, everything the
 * cuts of a page of traces will ask about (their out-edges, the traces they draw on, the scopes of every node
 * they name); readability is then decided once per node and once per distinct scope.
 */
export class TraceCutter {
  readonly #whole: boolean;
  /** Readability per node ("record:12"). */
  readonly #nodes = new Map<string, boolean>();
  /** Readability per scope key. */
  readonly #byScope = new Map<string, boolean>();
  readonly #edges = new Map<number, EdgeRow[]>();
  readonly #traces = new Map<number, { row: TraceRow; payload: unknown } | null>();

  constructor(
    private readonly db: Db,
    private readonly context: string,
    private readonly principal: Principal | undefined,
    private readonly seesTrace: (row: TraceRow) => boolean,
  ) {
    // A read grant on the whole Context reads every node: nothing to cut.
    this.#whole = !principal || can(principal, "read", {});
  }

  /** Reads ahead, in batches, what cutting `rows` needs. Optional: `cut` looks up anything not read ahead. */
  prepare(rows: readonly TraceRow[]): void {
    if (this.#whole) return;
    for (const row of rows) this.#traces.set(row.id, { row, payload: JSON.parse(row.payload) });
    let frontier = rows.map((r) => r.id);
    for (let depth = 0; depth <= MAX_DEPTH && frontier.length > 0; depth++) {
      this.#loadEdges(frontier);
      const next = new Set<number>();
      for (const id of frontier) {
        for (const e of this.#edges.get(id)!) if (DRAWS_ON.has(e.kind) && e.dst_type === "trace" && !this.#traces.has(Number(e.dst_id))) next.add(Number(e.dst_id));
      }
      this.#loadTraces([...next]);
      frontier = [...next].filter((id) => this.#traces.get(id));
    }
    const wanted = new Map<NodeKind, Set<number>>();
    const want = (kind: NodeKind, n: number) => {
      if (!this.#nodes.has(`${kind}:${n}`)) (wanted.get(kind) ?? wanted.set(kind, new Set()).get(kind)!).add(n);
    };
    for (const [id, trace] of this.#traces) {
      if (trace) this.#eachId(trace.payload, want);
      for (const e of this.#edges.get(id) ?? []) if (e.dst_type in TABLE) want(e.dst_type as NodeKind, Number(e.dst_id));
    }
    for (const [kind, ids] of wanted) this.#resolve(kind, [...ids]);
  }

  cut(row: TraceRow, edges?: { out: EdgeRow[]; in: EdgeRow[] }): CutTrace {
    const payload = (this.#traces.get(row.id)?.payload ?? JSON.parse(row.payload)) as Record<string, unknown>;
    if (this.#whole) return { payload, edges, redacted: false };
    if (!this.#traces.has(row.id)) this.prepare([row]);
    let redacted = false;
    const out: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(payload)) {
      const c = this.#cutValue(value);
      out[field] = c.tainted ? null : c.value;
      redacted ||= c.tainted || c.changed;
    }
    // Only text written from the inputs depends on them (retrieval traces have none).
    if (DERIVED.some((field) => out[field] !== undefined && out[field] !== null) && !this.#inputsReadable(row.id, 0, new Set())) {
      for (const field of DERIVED) {
        if (out[field] !== undefined && out[field] !== null) {
          out[field] = null;
          redacted = true;
        }
      }
    }
    let cutEdges = edges;
    if (edges) {
      const keep = (type: string, id: string) => this.#readableNode(type, id);
      cutEdges = { out: edges.out.filter((e) => keep(e.dst_type, e.dst_id)), in: edges.in.filter((e) => keep(e.src_type, String(e.src_id))) };
      redacted ||= cutEdges.out.length < edges.out.length || cutEdges.in.length < edges.in.length;
    }
    return { payload: out, edges: cutEdges, redacted };
  }

  /** Lists drop the elements that cite an unreadable id; objects and ids report it (`tainted`) to their container. */
  #cutValue(value: unknown): Cut {
    if (typeof value === "string") return { value, tainted: !this.#readableId(value), changed: false };
    if (Array.isArray(value)) {
      const kept: unknown[] = [];
      let changed = false;
      for (const item of value) {
        const c = this.#cutValue(item);
        if (c.tainted) changed = true;
        else {
          kept.push(c.value);
          changed ||= c.changed;
        }
      }
      return { value: changed ? kept : value, tainted: false, changed };
    }
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      let tainted = false;
      let changed = false;
      for (const [k, v] of Object.entries(value)) {
        const c = this.#cutValue(v);
        out[k] = c.value;
        tainted ||= c.tainted;
        changed ||= c.changed;
      }
      return { value: changed ? out : value, tainted, changed };
    }
    return { value, tainted: false, changed: false };
  }

  /** Whether every input of a trace is readable: the ids it cites, its out-edges, the traces it was written from. */
  #inputsReadable(traceId: number, depth: number, seen: Set<number>): boolean {
    seen.add(traceId);
    const trace = this.#trace(traceId);
    if (!trace) return false;
    let ok = true;
    this.#eachId(trace.payload, (kind, n) => (ok &&= this.#readable(kind, n)));
    if (!ok) return false;
    for (const e of this.#outEdges(traceId)) {
      if (!this.#readableNode(e.dst_type, e.dst_id)) return false;
      if (!DRAWS_ON.has(e.kind) || e.dst_type !== "trace" || seen.has(Number(e.dst_id))) continue;
      if (depth + 1 > MAX_DEPTH || !this.#inputsReadable(Number(e.dst_id), depth + 1, seen)) return false;
    }
    return true;
  }

  /** Calls `fn` for every id a payload names. */
  #eachId(value: unknown, fn: (kind: NodeKind, n: number) => void): void {
    if (typeof value === "string") {
      const m = PAYLOAD_ID.exec(value);
      if (m) fn(BY_PREFIX.get(m[1]!)!, Number(m[2]));
    } else if (Array.isArray(value)) {
      for (const v of value) this.#eachId(v, fn);
    } else if (value !== null && typeof value === "object") {
      for (const v of Object.values(value)) this.#eachId(v, fn);
    }
  }

  /** A string that is no id is readable (it is the trace's own content); an id, when its node is. */
  #readableId(text: string): boolean {
    const m = PAYLOAD_ID.exec(text);
    return !m || this.#readable(BY_PREFIX.get(m[1]!)!, Number(m[2]));
  }

  /** Edge endpoints: nodes with a scope (or a trace) are checked; entities and sessions carry none. */
  #readableNode(type: string, id: string): boolean {
    return !(type in TABLE) || this.#readable(type as NodeKind, Number(id));
  }

  #readable(kind: NodeKind, n: number): boolean {
    const key = `${kind}:${n}`;
    if (!this.#nodes.has(key)) this.#resolve(kind, [n]);
    return this.#nodes.get(key)!;
  }

  /** Looks up whether the principal may read each node, in batches. A node that no longer exists is not readable. */
  #resolve(kind: NodeKind, ids: readonly number[]): void {
    if (kind === "trace") {
      this.#loadTraces(ids.filter((n) => !this.#traces.has(n)));
      for (const n of ids) {
        const trace = this.#traces.get(n);
        this.#nodes.set(`trace:${n}`, !!trace && this.seesTrace(trace.row));
      }
      return;
    }
    for (const n of ids) this.#nodes.set(`${kind}:${n}`, false);
    for (let i = 0; i < ids.length; i += BATCH) {
      const part = ids.slice(i, i + BATCH);
      const rows = sql(this.db, `SELECT id, scope_key FROM ${TABLE[kind]} WHERE context = ? AND id IN (${part.map(() => "?").join(",")})`).all(
        this.context,
        ...part,
      ) as { id: number; scope_key: string }[];
      for (const row of rows) this.#nodes.set(`${kind}:${row.id}`, this.#readsScope(row.scope_key));
    }
  }

  #readsScope(key: string): boolean {
    let ok = this.#byScope.get(key);
    if (ok === undefined) this.#byScope.set(key, (ok = canReadRecord(this.principal, parseScopeKey(key))));
    return ok;
  }

  #trace(id: number): { row: TraceRow; payload: unknown } | null {
    if (!this.#traces.has(id)) this.#loadTraces([id]);
    return this.#traces.get(id)!;
  }

  #loadTraces(ids: readonly number[]): void {
    for (const n of ids) this.#traces.set(n, null);
    for (let i = 0; i < ids.length; i += BATCH) {
      const part = ids.slice(i, i + BATCH);
      const rows = sql(this.db, `SELECT * FROM traces WHERE context = ? AND id IN (${part.map(() => "?").join(",")})`).all(this.context, ...part) as TraceRow[];
      for (const row of rows) this.#traces.set(row.id, { row, payload: JSON.parse(row.payload) });
    }
  }

  #outEdges(id: number): EdgeRow[] {
    if (!this.#edges.has(id)) this.#loadEdges([id]);
    return this.#edges.get(id)!;
  }

  #loadEdges(ids: readonly number[]): void {
    const missing = ids.filter((n) => !this.#edges.has(n));
    for (const n of missing) this.#edges.set(n, []);
    for (let i = 0; i < missing.length; i += BATCH) {
      const part = missing.slice(i, i + BATCH);
      const rows = sql(this.db, `SELECT * FROM edges WHERE src_type = 'trace' AND src_id IN (${part.map(() => "?").join(",")}) ORDER BY id`).all(...part) as EdgeRow[];
      for (const e of rows) this.#edges.get(e.src_id)!.push(e);
    }
  }
}
