import type { Principal } from "../config/schemas.js";
import { can, canReadRecord } from "../access/access.js";
import { sql, type Db } from "../store/database.js";
import { edgesFrom, type EdgeRow } from "../store/graph.js";
import { ID_PREFIX, type IdKind } from "../store/ids.js";
import { parseScopeKey } from "../store/scope.js";
import { getTrace, type TraceRow } from "../store/traces.js";

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
 * - Text written from the trace's inputs (`prompt`, `answer`, `insights`, `extraction`) becomes null when any
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
const DERIVED = ["prompt", "answer", "insights", "extraction"] as const;
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

/** Cuts traces for one principal; made per call, so that each node's readability is looked up once. */
export class TraceCutter {
  readonly #memo = new Map<string, boolean>();
  readonly #whole: boolean;

  constructor(
    private readonly db: Db,
    private readonly context: string,
    private readonly principal: Principal | undefined,
    private readonly seesTrace: (row: TraceRow) => boolean,
  ) {
    // A read grant on the whole Context reads every node: nothing to cut.
    this.#whole = !principal || can(principal, "read", {});
  }

  cut(row: TraceRow, edges?: { out: EdgeRow[]; in: EdgeRow[] }): CutTrace {
    const payload = JSON.parse(row.payload) as Record<string, unknown>;
    if (this.#whole) return { payload, edges, redacted: false };
    let redacted = false;
    const out: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(payload)) {
      const c = this.#cutValue(value);
      out[field] = c.tainted ? null : c.value;
      redacted ||= c.tainted || c.changed;
    }
    if (!this.#inputsReadable(row.id, payload, 0, new Set())) {
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
  #inputsReadable(traceId: number, payload: unknown, depth: number, seen: Set<number>): boolean {
    seen.add(traceId);
    if (!this.#idsReadable(payload)) return false;
    for (const e of edgesFrom(this.db, "trace", traceId)) {
      if (!this.#readableNode(e.dst_type, e.dst_id)) return false;
      if (!DRAWS_ON.has(e.kind) || e.dst_type !== "trace") continue;
      const linked = Number(e.dst_id);
      if (seen.has(linked)) continue;
      const row = getTrace(this.db, this.context, linked);
      if (!row || depth + 1 > MAX_DEPTH || !this.#inputsReadable(linked, JSON.parse(row.payload), depth + 1, seen)) return false;
    }
    return true;
  }

  #idsReadable(value: unknown): boolean {
    if (typeof value === "string") return this.#readableId(value);
    if (Array.isArray(value)) return value.every((v) => this.#idsReadable(v));
    if (value !== null && typeof value === "object") return Object.values(value).every((v) => this.#idsReadable(v));
    return true;
  }

  /** A string that is no id is readable (it is the trace's own content); an id, when its node is. */
  #readableId(text: string): boolean {
    const m = PAYLOAD_ID.exec(text);
    if (!m) return true;
    return this.#readable(BY_PREFIX.get(m[1]!)!, Number(m[2]));
  }

  /** Edge endpoints: nodes with a scope (or a trace) are checked; entities and sessions carry none. */
  #readableNode(type: string, id: string): boolean {
    if (!(type in TABLE)) return true;
    return this.#readable(type as NodeKind, Number(id));
  }

  #readable(kind: NodeKind, n: number): boolean {
    const key = `${kind}:${n}`;
    let ok = this.#memo.get(key);
    if (ok === undefined) {
      if (kind === "trace") {
        const row = getTrace(this.db, this.context, n);
        ok = !!row && this.seesTrace(row);
      } else {
        const row = sql(this.db, `SELECT scope_key FROM ${TABLE[kind]} WHERE id = ? AND context = ?`).get(n, this.context) as
          | { scope_key: string }
          | undefined;
        ok = !!row && canReadRecord(this.principal, parseScopeKey(row.scope_key));
      }
      this.#memo.set(key, ok);
    }
    return ok;
  }
}
