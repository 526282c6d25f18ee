/**
 * A fake OpenAI + Anthropic HTTP server on 127.0.0.1 for tests that drive the real SDKs. It answers
 * `POST /v1/chat/completions`, `POST /v1/embeddings` (OpenAI; the `/v1` prefix is optional, so the OpenAI
 * SDK may be given either `server.url` or `server.openaiURL`) and `POST /v1/messages` (Anthropic, base URL
 * `server.url`). Replies come from a script of steps, one per request, then from a default responder.
 *
 * @example
 * const server = await startFakeProvider([{ status: 429, retryAfter: 1 }, { json: { facts: [] } }]);
 * const model = createOpenAILanguageModel("gpt-4o-mini", { apiKey: "sk-test", baseURL: server.openaiURL }, {});
 * ...
 * await server.close();
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One scripted reply. Fields combine: `{ delayMs: 50, json: {...} }` is a slow valid reply. */
export interface FakeStep {
  /** The structured value the model "returns": chat content JSON (OpenAI) or tool input (Anthropic). */
  json?: unknown;
  /** Raw chat content (OpenAI) or a text block instead of a tool call (Anthropic): for malformed replies. */
  content?: string;
  /** An HTTP error status, answered with the provider's error body. */
  status?: number;
  /** `retry-after` header: seconds, or an HTTP date string. */
  retryAfter?: number | string;
  /** `retry-after-ms` header. */
  retryAfterMs?: number;
  /** Error body message (default: one per status; a 401 echoes the key received, as some providers do). */
  errorMessage?: string;
  /** An error body `type`/`code` override, e.g. "insufficient_quota". */
  errorCode?: string;
  /** Latency before replying; alone, a delayed default reply. */
  delayMs?: number;
  /** Never answer (until `close()`). */
  hang?: boolean;
  /** Send headers and half the body of the normal reply, then destroy the socket. */
  truncate?: boolean;
  /** Send headers and half the body of the normal reply, then nothing more (until `close()`). */
  stall?: boolean;
  /** Embeddings of this dimension instead of the model's. */
  dimensions?: number;
  /** A raw response body (any JSON), sent with `status` (default 200). */
  body?: unknown;
}

export type FakeProviderName = "openai" | "anthropic";

export interface FakeRequestInfo {
  provider: FakeProviderName;
  path: string;
  body: any;
  /** `response_format.json_schema.name` (OpenAI) or the forced tool's name (Anthropic). */
  promptName: string | undefined;
}

/** Answers a chat/messages request when no step is queued: the structured value to return. */
export type FakeResponder = (request: FakeRequestInfo) => unknown;

export interface FakeRequest extends FakeRequestInfo {
  method: string;
  /** Request headers without `authorization` and `x-api-key`. */
  headers: Record<string, string>;
  /** Whether a key was sent (and, when `apiKey` was given, whether it matched). */
  authorized: boolean;
  /** The last four characters of the key received, for assertions that never hold the whole key. */
  keyLast4: string | undefined;
  /** The scripted step that answered it, if any. */
  step: FakeStep | undefined;
}

export interface FakeProviderOptions {
  steps?: FakeStep[];
  respond?: FakeResponder;
  /** When set, any other key gets a 401 whose message echoes the key received. */
  apiKey?: string;
  /** Accept requests that carry no key at all, as a local Ollama does (a wrong `apiKey` still gets a 401). */
  keyless?: boolean;
}

export interface FakeProvider {
  /** `http://127.0.0.1:<port>`: the Anthropic SDK's baseURL. */
  readonly url: string;
  /** `${url}/v1`: the OpenAI SDK's baseURL. */
  readonly openaiURL: string;
  readonly requests: FakeRequest[];
  /** Appends steps to the queue. */
  script(...steps: FakeStep[]): void;
  /** Steps not yet consumed. */
  pending(): number;
  /** Forgets recorded requests and drops unconsumed steps (between tests sharing one server). */
  reset(): void;
  /** Stops the server and destroys open sockets, so hung requests end. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const EMBEDDING_DIMENSIONS: Record<string, number> = {
  // What an Ollama serves under this name.
  "nomic-embed-text": 768,
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};

export async function startFakeProvider(script?: FakeStep[] | FakeProviderOptions): Promise<FakeProvider> {
  const options: FakeProviderOptions = Array.isArray(script) ? { steps: script } : (script ?? {});
  const queue: FakeStep[] = [...(options.steps ?? [])];
  const respond = options.respond ?? ((r: FakeRequestInfo) => sampleReply(r.promptName));
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let counter = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
      const route = rawPath.replace(/^\/v1(?=\/)/, "");
      const provider: FakeProviderName = route === "/messages" ? "anthropic" : "openai";
      let body: any;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
      } catch {
        body = undefined;
      }
      const key = keyOf(req, provider);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (name === "authorization" || name === "x-api-key" || value === undefined) continue;
        headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      const promptName: string | undefined =
        provider === "anthropic" ? (body?.tool_choice?.name ?? body?.tools?.[0]?.name) : body?.response_format?.json_schema?.name;
      const authorized = key === undefined ? options.keyless === true : options.apiKey === undefined || key === options.apiKey;
      const step = route === "/chat/completions" || route === "/embeddings" || route === "/messages" ? queue.shift() : undefined;
      requests.push({ provider, method: req.method ?? "", path: rawPath, headers, authorized, keyLast4: key?.slice(-4), body, promptName, step });

      const reply = () => {
        if (closed || res.destroyed) return;
        if (route !== "/chat/completions" && route !== "/embeddings" && route !== "/messages") {
          return sendError(res, provider, 404, `Unknown path ${rawPath}`);
        }
        if (!authorized && step?.status === undefined) {
          return sendError(res, provider, 401, `Incorrect API key provided: ${key ?? "(none)"}.`);
        }
        if (step?.hang) return;
        if (step?.status !== undefined && step.status >= 400) {
          const extra: Record<string, string> = {};
          if (step.retryAfter !== undefined) extra["retry-after"] = String(step.retryAfter);
          if (step.retryAfterMs !== undefined) extra["retry-after-ms"] = String(step.retryAfterMs);
          const message = step.errorMessage ?? (step.status === 401 ? `Incorrect API key provided: ${key ?? "(none)"}.` : `Fake ${step.status} error.`);
          return sendError(res, provider, step.status, message, extra, step.errorCode);
        }
        if (body === undefined) return sendError(res, provider, 400, "Request body is not JSON.");
        const info: FakeRequestInfo = { provider, path: rawPath, body, promptName };
        const id = ++counter;
        const payload =
          step?.body !== undefined
            ? step.body
            : route === "/embeddings"
              ? embeddingsReply(body, step)
              : route === "/messages"
                ? messagesReply(body, step, info, respond, id)
                : chatReply(body, step, info, respond, id);
        const text = JSON.stringify(payload);
        if (step?.stall) {
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
          res.write(text.slice(0, Math.floor(text.length / 2)));
          return;
        }
        if (step?.truncate) {
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
          res.write(text.slice(0, Math.floor(text.length / 2)), () => {
            const t = setTimeout(() => req.socket.destroy(), 10);
            timers.add(t);
          });
          return;
        }
        res.writeHead(step?.status ?? 200, { "content-type": "application/json", "x-request-id": `req_fake_${id}` });
        res.end(text);
      };
      if (step?.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          reply();
        }, step.delayMs);
        timers.add(t);
      } else reply();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url,
    openaiURL: `${url}/v1`,
    requests,
    script: (...steps) => void queue.push(...steps),
    pending: () => queue.length,
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A reply that satisfies each Spectron prompt's schema, for the default responder. Unknown prompts get `{}`.
 */
export function sampleReply(promptName: string | undefined): unknown {
  switch (promptName) {
    case "extraction":
      return {
        facts: [
          {
            kind: "attribute",
            memory_category: "identity",
            subject: "user",
            attribute: "plan",
            value: "enterprise",
            cardinality: "one",
            text: "The user is on the Enterprise plan.",
            confidence: 0.9,
            entities: ["Enterprise"],
          },
        ],
      };
    case "query_understanding":
      return { type: "fact", subjects: ["user"], attributes: ["plan"], keywords: ["plan"] };
    case "response":
      return { answer: "You are on the Enterprise plan.", used: [] };
    case "reflection":
      return { decisions: [] };
    case "synthesis":
      return { answer: "You like tea.", used: [], insights: [{ text: "The user often drinks tea.", confidence: 0.7 }] };
    case "background":
      return { observation: "The records describe the user's plan.", confidence: 0.8 };
    default:
      return {};
  }
}

/** The deterministic unit vector the fake returns for `text` at `dimensions`. */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const seed = createHash("sha256").update(text).digest().readUInt32LE(0);
  let state = seed || 1;
  const next = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const v = Array.from({ length: dimensions }, () => next() * 2 - 1);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

function keyOf(req: http.IncomingMessage, provider: FakeProviderName): string | undefined {
  if (provider === "anthropic") {
    const key = req.headers["x-api-key"];
    if (typeof key === "string" && key) return key;
  }
  const auth = req.headers.authorization;
  const m = typeof auth === "string" ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  return m?.[1];
}

function tokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? "").length / 4));
}

function chatReply(body: any, step: FakeStep | undefined, info: FakeRequestInfo, respond: FakeResponder, id: number) {
  const content = step?.content !== undefined ? step.content : JSON.stringify(step?.json !== undefined ? step.json : respond(info));
  const prompt = tokens(body.messages);
  const completion = tokens(content);
  return {
    id: `chatcmpl-fake-${id}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

function messagesReply(body: any, step: FakeStep | undefined, info: FakeRequestInfo, respond: FakeResponder, id: number) {
  const toolName: string = info.promptName ?? "tool";
  const block =
    step?.content !== undefined
      ? { type: "text", text: step.content }
      : { type: "tool_use", id: `toolu_fake_${id}`, name: toolName, input: step?.json !== undefined ? step.json : respond(info) };
  return {
    id: `msg_fake_${id}`,
    type: "message",
    role: "assistant",
    model: body.model,
    content: [block],
    stop_reason: block.type === "tool_use" ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: tokens([body.system, body.messages]), output_tokens: tokens(block), cache_creation_input_tokens: null, cache_read_input_tokens: null },
  };
}

function embeddingsReply(body: any, step: FakeStep | undefined) {
  const inputs: string[] = Array.isArray(body.input) ? body.input.map(String) : [String(body.input)];
  const dimensions = step?.dimensions ?? (typeof body.dimensions === "number" ? body.dimensions : (EMBEDDING_DIMENSIONS[body.model] ?? 1536));
  // Listed in reverse so that clients must order by `index`, as the API does not promise input order.
  const data = inputs.map((text, index) => ({ object: "embedding", index, embedding: fakeEmbedding(text, dimensions) })).reverse();
  const promptTokens = inputs.reduce((s, t) => s + tokens(t), 0);
  return { object: "list", data, model: body.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}

function sendError(res: http.ServerResponse, provider: FakeProviderName, status: number, message: string, headers: Record<string, string> = {}, code?: string) {
  const type =
    code ??
    (provider === "anthropic"
      ? ({ 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error" } as Record<number, string>)[status] ??
        (status >= 500 ? "api_error" : "invalid_request_error")
      : ({ 401: "invalid_request_error", 429: "requests" } as Record<number, string>)[status] ?? (status >= 500 ? "server_error" : "invalid_request_error"));
  const body =
    provider === "anthropic"
      ? { type: "error", error: { type, message } }
      : { error: { message, type, param: null, code: code ?? (status === 401 ? "invalid_api_key" : null) } };
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
