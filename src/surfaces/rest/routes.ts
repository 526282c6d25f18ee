import { z } from "zod";
import {
  cacheConfigSchema,
  ingestSchema,
  modelsSchema,
  providersSchema,
  queryOptionsSchema,
  querySchema,
  recallOptionsSchema,
  retentionSchema,
  stateListSchema,
  tracesListSchema,
  turnsListSchema,
  type Principal,
} from "../../config/schemas.js";
import { knowledgeAddSchema, knowledgeListSchema } from "../../knowledge/knowledge-api.js";
import { chatMessageSchema, chatOptionsSchema } from "../../pipeline/chat.js";
import type { Spectron } from "../../spectron.js";
import { preview } from "../../errors.js";
import { HttpProblem, toProblem } from "./problem.js";
import type { JobRegistry } from "./jobs.js";

/** What a route handler is given: the Context's instance, the caller, the parsed body and query. */
export interface RouteRequest {
  memory: Spectron;
  /** The instance as the caller: `memory.as(principal)`, or the instance itself on a server without auth. */
  view: View;
  principal: Principal | undefined;
  context: string;
  params: Record<string, string>;
  /** The JSON body, or `{}` when there is none. */
  body: unknown;
  /** Query parameters as SDK options: `scope.<dimension>=value` gathered into `scope`, integers as numbers. */
  query: Record<string, unknown>;
  jobs: JobRegistry;
}

export interface RouteResult {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: "get" | "post" | "put" | "delete";
  /** Under `/api/v1/{ctx}`. */
  path: string;
  operationId: string;
  summary: string;
  /** Request body (JSON), as the SDK's own zod schema. */
  body?: z.ZodType;
  /** Query parameters, as the SDK's own zod schema (`scope` as `scope.<dimension>`). */
  query?: z.ZodType;
  /** Success status. @default 200 */
  status?: number;
  /** Larger bodies than the server's default are accepted (knowledge documents, batches). */
  largeBody?: boolean;
  handle(r: RouteRequest): Promise<RouteResult>;
}

/** The methods routes call, as `memory.as(principal)` offers them. */
export type View = Omit<ReturnType<Spectron["as"]>, "principal">;

/** A view of the instance as the application itself (a server started with `auth: false`). */
export function ownerView(m: Spectron): View {
  return {
    // ingest is overloaded (one input, or a batch); the instance dispatches on the value.
    ingest: ((i: never) => m.ingest(i)) as unknown as View["ingest"],
    recall: (q, o) => m.recall(q, o),
    reflect: (q, o) => m.reflect(q, o),
    chat: (q, o) => m.chat(q, o),
    query: (q, o) => m.query(q, o),
    search: (q, o) => m.search(q, o),
    state: { get: (id) => m.state.get(id), list: (o) => m.state.list(o), update: (id, p) => m.state.update(id, p), forget: (id) => m.state.forget(id) },
    traces: { list: ((o?: never) => m.traces.list(o)) as unknown as View["traces"]["list"], get: (id) => m.traces.get(id) },
    turns: { list: (o) => m.turns.list(o), retry: () => m.turns.retry() },
    knowledge: {
      add: (i) => m.knowledge.add(i),
      remove: (id) => m.knowledge.remove(id),
      list: (o) => m.knowledge.list(o),
      retry: () => m.knowledge.retry(),
      reindex: () => m.knowledge.reindex(),
      reindexStatus: () => m.knowledge.reindexStatus(),
    },
    config: {
      models: (x) => m.config.models(x),
      providers: (x) => m.config.providers(x),
      retention: (x) => m.config.retention(x),
      cache: (x) => m.config.cache(x),
      get: () => m.config.get(),
    },
    lifecycle: { decay: () => m.lifecycle.decay(), expire: () => m.lifecycle.expire() },
    cache: { flush: () => m.cache.flush() },
  } as View;
}

/** Request bodies: the SDK's input schemas without the fields the bearer token decides. */
const noCaller = { principal: true, signal: true } as const;
export const schemas = {
  IngestBody: ingestSchema.omit(noCaller),
  IngestBatchBody: z.strictObject({ turns: z.array(ingestSchema.omit(noCaller)).min(1).max(1000) }),
  RecallBody: recallOptionsSchema.omit(noCaller).extend({ query: querySchema }),
  QueryBody: queryOptionsSchema.omit(noCaller).extend({ query: querySchema }),
  ReflectBody: recallOptionsSchema.omit(noCaller).extend({ question: querySchema }),
  ChatBody: chatOptionsSchema.omit(noCaller).extend({ message: chatMessageSchema }),
  KnowledgeAddBody: knowledgeAddSchema.omit(noCaller),
  ModelsBody: modelsSchema,
  ProvidersBody: providersSchema,
  RetentionBody: retentionSchema,
  CacheBody: cacheConfigSchema,
  TurnsListQuery: turnsListSchema.omit(noCaller),
  StateListQuery: stateListSchema.omit(noCaller),
  TracesListQuery: tracesListSchema.omit(noCaller),
  KnowledgeListQuery: knowledgeListSchema.omit(noCaller),
};

/** The body as an object of options; `principal` is refused: the bearer token alone says who calls. */
function options(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpProblem("validation", `Invalid \`body\`: expected a JSON object, received ${preview(body)}.`);
  }
  if (Object.prototype.hasOwnProperty.call(body, "principal")) {
    throw new HttpProblem("validation", "Invalid `body.principal`: expected no principal, received one. The bearer token names who calls.");
  }
  return body as Record<string, unknown>;
}

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });

/**
 * The handler of an SDK method called as `(first, options)`: the body `{ [key], ...options }` split, the first
 * argument left for the SDK to validate.
 */
function positional(key: string, call: (view: View, first: string, options: never) => Promise<unknown>): Route["handle"] {
  return async (r) => {
    const { [key]: first, ...rest } = options(r.body);
    return ok(await call(r.view, first as string, rest as never));
  };
}

export const ROUTES: Route[] = [
  {
    method: "post", path: "/turns", operationId: "ingest", summary: "Ingest a turn: stored first, facts extracted and reconciled (memory.ingest)",
    body: schemas.IngestBody, status: 201,
    handle: async (r) => ok(await r.view.ingest(options(r.body) as never), 201),
  },
  {
    method: "post", path: "/turns/batch", operationId: "ingestBatch", summary: "Ingest up to 1,000 turns as a job to poll (202 + Location)",
    body: schemas.IngestBatchBody, status: 202, largeBody: true,
    handle: async (r) => {
      const { turns } = options(r.body);
      if (!Array.isArray(turns) || turns.length < 1 || turns.length > 1000) {
        throw new HttpProblem("validation", `Invalid \`body.turns\`: expected an array of 1 to 1,000 turns, received ${Array.isArray(turns) ? `${turns.length} items` : preview(turns)}.`);
      }
      for (const [i, t] of turns.entries()) {
        if (typeof t === "object" && t !== null && Object.prototype.hasOwnProperty.call(t, "principal")) {
          throw new HttpProblem("validation", `Invalid \`body.turns[${i}].principal\`: expected no principal, received one. The bearer token names who calls.`);
        }
      }
      const job = r.jobs.start("ingest", r.context, r.principal?.id ?? null, turns.length, async (job) => {
        // Each turn through the SDK, one after another; a turn that fails is reported and the batch goes on.
        const results: unknown[] = [];
        for (const turn of turns) {
          try {
            results.push(await r.view.ingest(turn as never));
          } catch (error) {
            results.push({ error: toProblem(error) });
            job.progress.failed += 1;
          }
          job.progress.done += 1;
        }
        return results;
      });
      return { status: 202, body: job, headers: { location: `/api/v1/${encodeURIComponent(r.context)}/jobs/${job.id}` } };
    },
  },
  {
    method: "get", path: "/turns", operationId: "listTurns", summary: "Stored turns, by status and scope (memory.turns.list)",
    query: schemas.TurnsListQuery,
    handle: async (r) => ok(await r.view.turns.list(r.query as never)),
  },
  {
    method: "post", path: "/recall", operationId: "recall", summary: "Answer from memory through the three tiers (memory.recall)",
    body: schemas.RecallBody,
    handle: positional("query", (view, q, o) => view.recall(q, o)),
  },
  {
    method: "post", path: "/query", operationId: "query", summary: "Ranked records, no language-model call (memory.query)",
    body: schemas.QueryBody,
    handle: positional("query", (view, q, o) => view.query(q, o)),
  },
  {
    method: "post", path: "/search", operationId: "search", summary: "Records and passages, fused and ranked, no language-model call (memory.search)",
    body: schemas.QueryBody,
    handle: positional("query", (view, q, o) => view.search(q, o)),
  },
  {
    method: "post", path: "/chat", operationId: "chat", summary: "Recall against a message, answer it, ingest both turns (memory.chat)",
    body: schemas.ChatBody,
    handle: positional("message", (view, m, o) => view.chat(m, o)),
  },
  {
    method: "post", path: "/reflect", operationId: "reflect", summary: "Answer a synthesis question and keep what it shows (memory.reflect)",
    body: schemas.ReflectBody,
    handle: positional("question", (view, q, o) => view.reflect(q, o)),
  },
  {
    method: "get", path: "/state", operationId: "listState", summary: "Records visible to a scope (memory.state.list)",
    query: schemas.StateListQuery,
    handle: async (r) => ok(await r.view.state.list(r.query as never)),
  },
  {
    method: "get", path: "/state/:id", operationId: "getState", summary: "One record with its lifecycle and lineage (memory.state.get)",
    handle: async (r) => ok(await r.view.state.get(r.params.id!)),
  },
  {
    method: "delete", path: "/state/:id", operationId: "forget", summary: "Forget a record: traced, gone from every read path (memory.state.forget)",
    handle: async (r) => ok(await r.view.state.forget(r.params.id!)),
  },
  {
    method: "get", path: "/traces", operationId: "listTraces", summary: "Traces the caller may see, newest first (memory.traces.list)",
    query: schemas.TracesListQuery,
    handle: async (r) => ok(await r.view.traces.list(r.query as never)),
  },
  {
    method: "get", path: "/traces/:id", operationId: "getTrace", summary: "One trace with its edges (memory.traces.get)",
    handle: async (r) => ok(await r.view.traces.get(r.params.id!)),
  },
  {
    method: "get", path: "/config", operationId: "getConfig", summary: "Models, configured providers (never their keys), retention, cache (memory.config.get)",
    handle: async (r) => ok(await r.view.config.get()),
  },
  {
    method: "put", path: "/config/models", operationId: "setModels", summary: "Assign models to stages (memory.config.models)",
    body: schemas.ModelsBody,
    handle: async (r) => ok(await r.view.config.models(options(r.body) as never)),
  },
  {
    method: "put", path: "/config/providers", operationId: "setProviders", summary: "Set provider keys: write-only, answered with the configured provider names only",
    body: schemas.ProvidersBody,
    handle: async (r) => ok(await r.view.config.providers(options(r.body) as never)),
  },
  {
    method: "put", path: "/config/retention", operationId: "setRetention", summary: "Retention rules, first match wins (memory.config.retention)",
    body: schemas.RetentionBody,
    handle: async (r) => ok(await r.view.config.retention((r.body ?? []) as never)),
  },
  {
    method: "put", path: "/config/cache", operationId: "setCache", summary: "Tier-2 cache thresholds (memory.config.cache)",
    body: schemas.CacheBody,
    handle: async (r) => ok(await r.view.config.cache(options(r.body) as never)),
  },
  {
    method: "post", path: "/cache/flush", operationId: "flushCache", summary: "Evict every cached answer of the Context (memory.cache.flush)",
    handle: async (r) => ok(await r.view.cache.flush()),
  },
  {
    method: "post", path: "/lifecycle/decay", operationId: "decay", summary: "Run the decay sweep now (memory.lifecycle.decay)",
    handle: async (r) => ok(await r.view.lifecycle.decay()),
  },
  {
    method: "post", path: "/lifecycle/expire", operationId: "expire", summary: "Run the expiry sweep now (memory.lifecycle.expire)",
    handle: async (r) => ok(await r.view.lifecycle.expire()),
  },
  {
    method: "post", path: "/lifecycle/consolidate", operationId: "consolidate", summary: "Run consolidation now (memory.lifecycle.consolidate), where the SDK has it",
    handle: async (r) => ok(await sdkSweep(r, "consolidate")),
  },
  {
    method: "post", path: "/lifecycle/elaborate", operationId: "elaborate", summary: "Run elaboration now (memory.lifecycle.elaborate), where the SDK has it",
    handle: async (r) => ok(await sdkSweep(r, "elaborate")),
  },
  {
    method: "get", path: "/knowledge", operationId: "listKnowledge", summary: "Stored documents and their indexing status (memory.knowledge.list)",
    query: schemas.KnowledgeListQuery,
    handle: async (r) => ok(await r.view.knowledge.list(r.query as never)),
  },
  {
    method: "post", path: "/knowledge", operationId: "addKnowledge", summary: "Add a document: chunked, embedded, indexed, facts extracted (memory.knowledge.add)",
    body: schemas.KnowledgeAddBody, status: 201, largeBody: true,
    handle: async (r) => ok(await r.view.knowledge.add(options(r.body) as never), 201),
  },
  {
    method: "delete", path: "/knowledge/:id", operationId: "removeKnowledge", summary: "Remove a document and its chunks (memory.knowledge.remove)",
    handle: async (r) => ok(await r.view.knowledge.remove(r.params.id!)),
  },
  {
    method: "get", path: "/knowledge/reindex", operationId: "reindexStatus", summary: "The reindex state (memory.knowledge.reindexStatus)",
    handle: async (r) => ok(await r.view.knowledge.reindexStatus()),
  },
  {
    method: "post", path: "/knowledge/reindex", operationId: "reindex", summary: "Re-embed with the configured embedding model, as a job to poll (202 + Location)",
    status: 202,
    handle: async (r) => {
      const view = r.view;
      const started = await view.knowledge.reindex();
      const refresh = async (job: { progress: { done: number; total: number } }) => {
        const s = await view.knowledge.reindexStatus();
        job.progress.done = s.done;
        job.progress.total = s.total;
      };
      const job = r.jobs.start("reindex", r.context, r.principal?.id ?? null, started.total, async (job) => {
        // The reindex runs on the instance's background queue: idle() resolves once it (and the rest) is done.
        await r.memory.idle();
        const s = await view.knowledge.reindexStatus();
        job.progress.done = s.done;
        job.progress.total = s.total;
        if (s.status === "failed") throw new HttpProblem("internal", `The reindex failed: ${s.error ?? "no reason recorded"}.`);
        return s;
      }, refresh);
      return { status: 202, body: job, headers: { location: `/api/v1/${encodeURIComponent(r.context)}/jobs/${job.id}` } };
    },
  },
  {
    method: "get", path: "/jobs/:id", operationId: "getJob", summary: "A job started by this caller: status, progress, result",
    handle: async (r) => {
      const job = await r.jobs.get(r.params.id!, r.context, r.principal?.id ?? null);
      if (!job) throw new HttpProblem("not_found", `No job \`${r.params.id!.slice(0, 80)}\` started by this caller in this Context.`);
      return ok(job);
    },
  },
];

/**
 * consolidate / elaborate: called when the instance's SDK has them (`memory.lifecycle.consolidate`), with the
 * caller as its trailing call context; a 501 problem otherwise. Nothing is done in their place.
 */
async function sdkSweep(r: RouteRequest, name: "consolidate" | "elaborate"): Promise<unknown> {
  const fn = (r.memory.lifecycle as unknown as Record<string, unknown>)[name];
  if (typeof fn !== "function") {
    throw new HttpProblem("not_implemented", `\`lifecycle.${name}\` is not part of this Spectron build: there is no ${name} sweep to run.`);
  }
  return (fn as (ctx?: { principal: Principal }) => Promise<unknown>).call(r.memory.lifecycle, r.principal ? { principal: r.principal } : undefined);
}
