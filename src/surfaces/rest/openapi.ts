import { z } from "zod";
import { scopeSchema } from "../../config/schemas.js";
import type { Route } from "./routes.js";
import { schemas } from "./routes.js";
import { STATUS_OF_CODE } from "./problem.js";

type Json = Record<string, unknown>;

/** The scope as JSON Schema: its input side is a refinement zod cannot express, its output side is the record. */
const SCOPE_JSON = (() => {
  const { $schema: _, ...rest } = z.toJSONSchema(scopeSchema, { io: "output" }) as Json;
  return rest;
})();

/**
 * A zod schema as a JSON Schema 2020-12 component (OpenAPI 3.1 uses JSON Schema as is). Its own `$defs` become
 * components named after it, so that every `$ref` resolves in the document.
 */
function component(name: string, schema: z.ZodType, components: Record<string, Json>): Json {
  const json = z.toJSONSchema(schema, {
    io: "input",
    target: "draft-2020-12",
    // Values JSON cannot carry (a Date among a date's accepted forms) are left open; the SDK validates them.
    unrepresentable: "any",
    override: (ctx) => {
      if ((ctx.zodSchema as unknown) === scopeSchema) {
        for (const k of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[k];
        Object.assign(ctx.jsonSchema, structuredClone(SCOPE_JSON));
      }
    },
  }) as Json;
  const { $schema: _, $defs, ...rest } = json;
  const rename = (text: string) => text.replaceAll('"#/$defs/', `"#/components/schemas/${name}_`);
  for (const [def, body] of Object.entries(($defs ?? {}) as Record<string, Json>)) components[`${name}_${def}`] = JSON.parse(rename(JSON.stringify(body))) as Json;
  components[name] = JSON.parse(rename(JSON.stringify(rest))) as Json;
  return { $ref: `#/components/schemas/${name}` };
}

const PROBLEM_SCHEMA: Json = {
  type: "object",
  description: "RFC 9457 problem details; `code` is the SpectronError code.",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string", enum: Object.keys(STATUS_OF_CODE) },
    field: { type: "string", description: "The invalid field, for `validation`." },
    retryable: { type: "boolean" },
  },
};

const JOB_SCHEMA: Json = {
  type: "object",
  required: ["id", "kind", "context", "status", "progress", "result", "error", "created_at", "updated_at"],
  properties: {
    id: { type: "string" },
    kind: { type: "string", enum: ["ingest", "reindex"] },
    context: { type: "string" },
    status: { type: "string", enum: ["running", "succeeded", "failed"] },
    progress: {
      type: "object",
      required: ["done", "total", "failed"],
      properties: { done: { type: "integer" }, total: { type: "integer" }, failed: { type: "integer" } },
    },
    result: {},
    error: { anyOf: [{ $ref: "#/components/schemas/Problem" }, { type: "null" }] },
    created_at: { type: "string", format: "date-time" },
    updated_at: { type: "string", format: "date-time" },
  },
};

/** Query parameters from a list schema's properties; `scope` becomes a deepObject-like `scope.<dimension>`. */
function queryParameters(name: string, schema: z.ZodType, components: Record<string, Json>): Json[] {
  component(name, schema, components);
  const props = (components[name]!.properties ?? {}) as Record<string, Json>;
  return Object.entries(props).map(([key, s]) =>
    key === "scope"
      ? { name: "scope", in: "query", required: false, style: "deepObject", explode: true, description: "The request scope, one `scope.<dimension>=value` per dimension (e.g. `scope.user=alice`).", schema: s }
      : { name: key, in: "query", required: false, schema: s },
  );
}

/** The OpenAPI 3.1 document of the routes, their bodies and query parameters from the SDK's zod schemas. */
export function openApiDocument(routes: readonly Route[], prefix: string): Json {
  const components: Record<string, Json> = { Problem: PROBLEM_SCHEMA, Job: JOB_SCHEMA };
  const names = new Map<z.ZodType, string>(Object.entries(schemas).map(([n, s]) => [s as z.ZodType, n]));
  const problemRef = { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } };
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = `${prefix}/{ctx}${route.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`;
    const parameters: Json[] = [{ name: "ctx", in: "path", required: true, description: "The Context (one Spectron instance).", schema: { type: "string" } }];
    for (const m of route.path.matchAll(/:([A-Za-z_]+)/g)) parameters.push({ name: m[1], in: "path", required: true, schema: { type: "string" } });
    if (route.query) parameters.push(...queryParameters(names.get(route.query) ?? `${route.operationId}Query`, route.query, components));
    const status = String(route.status ?? 200);
    const success = route.status === 202
      ? { description: "Accepted: a job to poll at `Location`.", headers: { Location: { schema: { type: "string" } } }, content: { "application/json": { schema: { $ref: "#/components/schemas/Job" } } } }
      : { description: route.summary, content: { "application/json": { schema: { type: "object" } } } };
    const op: Json = {
      operationId: route.operationId,
      summary: route.summary,
      parameters,
      responses: {
        [status]: success,
        "400": { description: "Invalid input (the SDK's validation) or a body that is not JSON.", content: problemRef },
        "401": { description: "No valid bearer token.", content: problemRef },
        "403": { description: "The principal lacks a permission on the scope.", content: problemRef },
        "404": { description: "Unknown Context, or an id not found (or outside the caller's scope).", content: problemRef },
        ...(route.method === "post" || route.method === "put" ? { "413": { description: "The body is larger than the limit.", content: problemRef } } : {}),
        default: { description: "Another problem (busy 503, provider 502, not_implemented 501, …).", content: problemRef },
      },
    };
    if (route.body) {
      op.requestBody = { required: true, content: { "application/json": { schema: component(names.get(route.body) ?? `${route.operationId}Body`, route.body, components) } } };
    }
    (paths[path] ??= {})[route.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Spectron REST API", version: "1", description: "Memory for LLM agents: every route is a thin layer over the Spectron SDK." },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A token mapped to a principal by the server." } } },
  };
}
