import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono, type Context as HonoContext } from "hono";
import { z } from "zod";
import { integer, loggerSchema, parseInput, type Logger, type Principal } from "../../config/schemas.js";
import type { Spectron } from "../../spectron.js";
import { TokenAuth, type AuthOptions, type Caller } from "./auth.js";
import { readJson } from "./body.js";
import { ContextRegistry, unknownContext, type Memories } from "./contexts.js";
import { JobRegistry } from "./jobs.js";
import { openApiDocument } from "./openapi.js";
import { HttpProblem, problem, problemResponse, toProblem } from "./problem.js";
import { ownerView, ROUTES } from "./routes.js";

export const API_PREFIX = "/api/v1";

const serverOptionsSchema = z.strictObject({
  auth: z.unknown(),
  /** Largest request body in bytes. @default 1_048_576 (1 MiB) */
  bodyLimit: integer(1, 1_073_741_824).optional(),
  /** Largest body of `POST /knowledge` and `POST /turns/batch`, in bytes. @default 16_777_216 (16 MiB) */
  largeBodyLimit: integer(1, 1_073_741_824).optional(),
  /** Close the served instances in `close()`. @default true */
  closeMemories: z.boolean().optional(),
  /** How long `close()` lets responses still being written (streams) finish before cutting them. @default 10_000 */
  drainTimeoutMs: integer(0, 3_600_000).optional(),
  logger: loggerSchema.optional(),
  clock: z.function().optional(),
});

export interface ServerOptions {
  /**
   * Bearer tokens mapped to principals, as SHA-256 digests (`hashToken(token)`): `{ tokens: [{ sha256, principal,
   * contexts? }] }`, or `{ file }` naming a JSON file `{ "tokens": [...] }`. `false` serves every request as the
   * application itself (full access): it must be said explicitly.
   */
  auth: AuthOptions;
  /** Largest request body in bytes. @default 1_048_576 (1 MiB) */
  bodyLimit?: number;
  /** Largest body of `POST /knowledge` and `POST /turns/batch`, in bytes. @default 16_777_216 (16 MiB) */
  largeBodyLimit?: number;
  /** Close the served instances in `close()`. @default true */
  closeMemories?: boolean;
  /** How long `close()` lets responses still being written (streams) finish before cutting them. @default 10_000 */
  drainTimeoutMs?: number;
  /** Where internal errors are reported (their messages never reach a client). No-op by default. */
  logger?: Logger;
  /** Time of job timestamps. @default Date.now */
  clock?: () => number;
}

/** What a handler mounted with `server.mount()` is told about the request. */
export interface MountedRequest {
  /** The token's principal; undefined on a server started with `auth: false` (the application). */
  principal: Principal | undefined;
  /** The instance of a Context this caller reaches (a 404 problem, thrown, otherwise). */
  memory(context: string): Promise<Spectron>;
}

export interface ListeningServer {
  /** `http://host:port`, the port being the one bound (an ephemeral one for port 0). */
  url: string;
  host: string;
  port: number;
  /** Same as `SpectronServer.close()`. */
  close(): Promise<void>;
}

export interface SpectronServer {
  /** The Hono app with every route (requests through it directly are not counted by `close()`: prefer `fetch`). */
  readonly app: Hono;
  /** Handles one request, counted as in flight until its response is returned: hand it to an existing server. */
  fetch(request: Request): Promise<Response>;
  /** The OpenAPI 3.1 document, also served at `GET /api/v1/openapi.json`. */
  readonly openapi: Record<string, unknown>;
  /** Listens on `host:port` (127.0.0.1 and an ephemeral port by default). */
  listen(options?: { port?: number; host?: string }): Promise<ListeningServer>;
  /**
   * Mounts another handler (the MCP streamable HTTP transport) at `path` and below, outside `/api/v1`, behind
   * the same bearer tokens: the handler is called only for an authenticated request, with its principal.
   */
  mount(path: string, handler: (request: Request, caller: MountedRequest) => Response | Promise<Response>): void;
  /**
   * Graceful shutdown: stops accepting connections, answers new requests on open ones with a 503 `closed`
   * problem, waits for requests and jobs in flight and for their responses to be written (streams get
   * `drainTimeoutMs`), closes the connections, then closes the served instances
   * (unless `closeMemories: false`). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The REST API over one or more Spectron instances, one per Context: everything under `/api/v1/{ctx}/…`,
 * each request run as `memory.as(principal)` for the principal its bearer token maps to. Errors are
 * `application/problem+json` with the SpectronError `code`.
 *
 * @example
 * const server = createServer(memory, { auth: { tokens: [{ sha256: hashToken(process.env.ALICE_TOKEN!), principal: alice }] } });
 * const { url } = await server.listen({ port: 8787 });
 * process.once("SIGTERM", () => void server.close());
 */
export function createServer(memories: Memories, options: ServerOptions): SpectronServer {
  const o = parseInput(serverOptionsSchema, options, "options", new Set(["logger"]));
  const auth = TokenAuth.from(o.auth);
  const registry = new ContextRegistry(memories);
  const logger: Logger = o.logger ?? { debug() {}, info() {}, warn() {}, error() {} };
  const clock = (o.clock as (() => number) | undefined) ?? Date.now;
  const bodyLimit = o.bodyLimit ?? 1_048_576;
  const drainTimeoutMs = o.drainTimeoutMs ?? 10_000;
  const largeBodyLimit = o.largeBodyLimit ?? 16_777_216;
  const jobs = new JobRegistry(clock);
  const document = openApiDocument(ROUTES, API_PREFIX);

  let closing: Promise<void> | undefined;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const http: Server[] = [];

  /** The caller's instance of a Context: 404 for an unknown one and for one the token does not reach. */
  const memoryOf = async (caller: Caller, name: string) => {
    if (caller.contexts && !caller.contexts.includes(name)) throw unknownContext(name);
    return registry.get(name);
  };

  const app = new Hono();
  app.onError((error, c) => {
    const p = toProblem(error);
    if (p.code === "internal") logger.error("REST request failed", { method: c.req.method, path: c.req.path, error: error instanceof Error ? error.message : String(error) });
    return problemResponse(p);
  });
  app.notFound((c) => problemResponse(problem("not_found", `No route ${c.req.method} ${c.req.path.slice(0, 200)}.`)));
  app.get(`${API_PREFIX}/openapi.json`, (c) => c.json(document));

  for (const route of ROUTES) {
    app.on(route.method.toUpperCase(), `${API_PREFIX}/:ctx${route.path}`, async (c: HonoContext) => {
      const caller = auth.authenticate(c.req.header("authorization"));
      const context = c.req.param("ctx")!;
      const memory = await memoryOf(caller, context);
      const hasBody = route.method === "post" || route.method === "put";
      const body = hasBody ? await readJson(c.req.raw, route.largeBody ? largeBodyLimit : bodyLimit) : undefined;
      const result = await route.handle({
        memory,
        view: caller.principal ? memory.as(caller.principal) : ownerView(memory),
        principal: caller.principal,
        context,
        params: c.req.param() as Record<string, string>,
        body,
        query: queryOptions(new URL(c.req.url).searchParams),
        jobs,
      });
      return c.json(result.body as object, (result.status ?? 200) as 200, result.headers);
    });
  }

  const fetch = async (request: Request): Promise<Response> => {
    if (closing) return problemResponse(problem("closed", "The server is shutting down; retry against another instance."), { connection: "close" });
    inFlight += 1;
    try {
      const response = await app.fetch(request);
      if (!closing) return response;
      // Shutting down: the connection closes once this response is written, so that the server can finish.
      const headers = new Headers(response.headers);
      headers.set("connection", "close");
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    } finally {
      inFlight -= 1;
      if (inFlight === 0) drained?.();
    }
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = http.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of http) s.closeIdleConnections();
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      await jobs.drain();
      // Responses still being written (a stream from a mounted handler) get `drainTimeoutMs`, then are cut.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(stopped), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs).unref()))]);
      clearTimeout(timer);
      for (const s of http) s.closeAllConnections();
      if (o.closeMemories ?? true) await Promise.all((await registry.all()).map((m) => m.close()));
    })();
    return closing;
  };

  return {
    app,
    fetch,
    openapi: document,
    async listen({ port = 0, host = "127.0.0.1" } = {}) {
      if (closing) throw new HttpProblem("closed", "Cannot listen: this server is closed.");
      const info = await new Promise<AddressInfo>((resolve, reject) => {
        const s = serve({ fetch, port, hostname: host }, (address) => resolve(address)) as Server;
        s.once("error", reject);
        http.push(s);
      });
      const shown = info.family === "IPv6" ? `[${info.address}]` : info.address;
      return { url: `http://${shown}:${info.port}`, host: info.address, port: info.port, close };
    },
    mount(path, handler) {
      if (!/^\/[A-Za-z0-9._~\/-]*$/.test(path) || path.startsWith(API_PREFIX)) {
        throw new TypeError(`mount(path): expected a path such as "/mcp" outside ${API_PREFIX}, received ${JSON.stringify(path)}`);
      }
      const run = async (c: HonoContext) => {
        const caller = auth.authenticate(c.req.header("authorization"));
        return handler(c.req.raw, { principal: caller.principal, memory: (name) => memoryOf(caller, name) });
      };
      const base = path.replace(/\/+$/, "");
      app.all(base, run);
      app.all(`${base}/*`, run);
    },
    close,
  };
}

/** Query parameters as SDK options: `scope.<dimension>=value` (or `scope[<dimension>]=value`) into `scope`, `limit` as a number when it is one. */
function queryOptions(params: URLSearchParams): Record<string, unknown> {
  // Object.fromEntries defines own properties: a `__proto__` key stays a key (and the SDK refuses it).
  const entries: [string, unknown][] = [];
  const scope: [string, string][] = [];
  for (const [key, value] of params) {
    const dimension = /^scope(?:\.([^[\]]+)|\[([^[\]]+)\])$/.exec(key);
    if (dimension) scope.push([dimension[1] ?? dimension[2]!, value]);
    else entries.push([key, key === "limit" && /^-?\d{1,15}$/.test(value) ? Number(value) : value]);
  }
  if (scope.length > 0) entries.push(["scope", Object.fromEntries(scope)]);
  return Object.fromEntries(entries);
}
