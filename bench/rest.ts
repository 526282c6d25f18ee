// The REST API's cost over the SDK: `npm run bench -- --only=rest`. One instance served on 127.0.0.1 with a
// bearer token; each operation timed in process (memory.as(principal)) and over HTTP (fetch, keep-alive), the
// same number of times, alternating, on the same store. The difference is what HTTP, JSON, auth and the
// route add per call.

import { createServer, hashToken, Spectron } from "../src/index.js";
import { Progress } from "./progress.js";
import { latency, round, type Latency } from "./stats.js";

export interface RestReport {
  calls: number;
  operations: { name: string; sdk: Latency; http: Latency; overheadP50Ms: number }[];
}

const SCOPE = { user: "ana" };
const TOKEN = "bench-token-0123456789";

export async function runRest({ quick }: { quick: boolean }): Promise<RestReport> {
  const calls = quick ? 100 : 500;
  const memory = new Spectron({ context: "bench-rest", providers: {}, schedule: false });
  const principal = { id: "ana", grants: [{ scope: SCOPE, permissions: ["read" as const, "write" as const] }] };
  const server = createServer(memory, { auth: { tokens: [{ sha256: hashToken(TOKEN), principal }] } });
  const { url } = await server.listen();
  const view = memory.as(principal);
  const base = `${url}/api/v1/bench-rest`;
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  try {
    for (const content of ["I live in Lisbon.", "I work at Globex.", "My cat is called Luna.", "I'm on the Pro plan."]) await view.ingest({ content, scope: SCOPE });
    await view.recall("Where do I live?", { scope: SCOPE }); // cached: the timed recalls are tier 1
    let n = 0;
    const ops: { name: string; sdk: () => Promise<unknown>; http: () => Promise<unknown> }[] = [
      { name: "recall (tier 1)", sdk: () => view.recall("Where do I live?", { scope: SCOPE }), http: () => post("/recall", { query: "Where do I live?", scope: SCOPE }) },
      { name: "query (no LLM)", sdk: () => view.query("cat Luna", { scope: SCOPE }), http: () => post("/query", { query: "cat Luna", scope: SCOPE }) },
      { name: "state.list", sdk: () => view.state.list({ scope: SCOPE, limit: 20 }), http: () => get("/state?scope.user=ana&limit=20") },
      { name: "ingest (local extraction)", sdk: () => view.ingest({ content: `I visited city ${n++} last week.`, scope: SCOPE }), http: () => post("/turns", { content: `I visited city ${n++} last week.`, scope: SCOPE }) },
    ];
    const operations: RestReport["operations"] = [];
    const progress = new Progress("rest", ops.length * calls);
    let done = 0;
    for (const op of ops) {
      const sdk: number[] = [];
      const http: number[] = [];
      for (let i = 0; i < calls; i++) {
        let t = performance.now();
        await op.sdk();
        sdk.push(performance.now() - t);
        t = performance.now();
        await op.http();
        http.push(performance.now() - t);
        progress.tick(++done);
      }
      const s = latency(sdk);
      const h = latency(http);
      operations.push({ name: op.name, sdk: s, http: h, overheadP50Ms: round(h.p50 - s.p50, 3) });
    }
    return { calls, operations };
  } finally {
    await server.close();
  }
}

export function renderRest(r: RestReport): string[] {
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  return [
    `## REST API overhead (${r.calls} calls per operation, 127.0.0.1, bearer token, keep-alive)`,
    "",
    "| operation | SDK p50 | SDK p95 | HTTP p50 | HTTP p95 | HTTP − SDK (p50) |",
    "|---|---|---|---|---|---|",
    ...r.operations.map((o) => `| ${o.name} | ${ms(o.sdk.p50)} | ${ms(o.sdk.p95)} | ${ms(o.http.p50)} | ${ms(o.http.p95)} | ${ms(o.overheadP50Ms)} |`),
  ];
}
