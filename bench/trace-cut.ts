// `npx tsx bench/trace-cut.ts` — the cost of cutting traces to a principal's grants (traces/cut-to-grants.ts):
// traces.list (pages of 50) and traces.get for the application (nothing to cut) and for a principal whose
// grant ({ user }) reads less than the requests it sees ({ org, user }) read. Standalone: not a run.ts section.

import { Spectron } from "../src/index.js";

const USERS = ["alice", "bob", "carol", "dan"];
const ROUNDS = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

const memory = new Spectron({ context: "bench-cut", providers: {}, schedule: { decay: false, expire: false, retry: false } });
try {
  // 400 facts (a fifth at org level) and 100 recalls by the application at { org, user }: 100 response and
  // 100 retrieval traces, each naming ~60-150 records, some at the org level that a { user } grant cannot read.
  for (let i = 0; i < 400; i++) {
    await memory.ingest({ content: `I love hobby${i}.`, scope: i % 5 === 0 ? { org: "acme" } : { org: "acme", user: USERS[i % 4]! } });
  }
  for (let i = 0; i < 100; i++) await memory.recall(`What do I love ${i}?`, { scope: { org: "acme", user: USERS[i % 4]! } });
  const narrow = { id: "alice", grants: [{ scope: { user: "alice" }, permissions: ["read" as const] }] };
  const ids = (await memory.traces.list({ limit: 50, principal: narrow })).traces.map((t) => t.id);
  const cut = (await memory.traces.list({ limit: 50, principal: narrow })).traces.filter((t) => t.redacted).length;
  const rows = [
    ["traces.list (50), application", await timed(() => memory.traces.list({ limit: 50 }))],
    ["traces.list (50), { user } grant", await timed(() => memory.traces.list({ limit: 50, principal: narrow }))],
    ["traces.get, application", (await timed(async () => { for (const id of ids) await memory.traces.get(id); })) / ids.length],
    ["traces.get, { user } grant", (await timed(async () => { for (const id of ids) await memory.traces.get(id, { principal: narrow }); })) / ids.length],
  ] as const;
  console.log(`| call | median ms |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v.toFixed(2)} |`).join("\n")}`);
  console.log(`\n${cut} of the ${ids.length} traces listed for the { user } grant were cut.`);
} finally {
  await memory.close();
}
