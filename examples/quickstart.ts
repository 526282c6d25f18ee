// Offline quick start: no key, no network. Run with `npm run demo`.
import { Spectron } from "../src/index.js";

const DAY = 86_400_000;
let now = Date.parse("2026-06-01T09:00:00Z");

// `providers: {}`: offline whatever keys are in the environment (the local:* models need none).
await using memory = new Spectron({ context: "quickstart", clock: () => now, providers: {} });

// The offline hash embedder scores paraphrases lower than a neural embedder does (about 0.7 rather than
// 0.95+), so the tier-2 threshold is lowered for this demo. With text-embedding-3-small keep the 0.95 default.
await memory.config.cache({ similarity: 0.6 });

const alice = { user: "alice" };
const bob = { user: "bob" };

console.log("— Ingest a few turns for two users");
for (const [scope, content] of [
  [alice, "Hi! My name is Alice and I live in Lisbon."],
  [alice, "I'm on the Pro plan. Always answer in British English."],
  [bob, "I work at Initech and I'm on the Starter plan."],
  [bob, "I think I might move to Berlin next year."],
] as const) {
  const turn = await memory.ingest({ role: "user", content, scope });
  for (const r of turn.records) console.log(`  ${scope.user.padEnd(5)} ${r.outcome.padEnd(10)} ${r.id.padEnd(7)} ${r.text}`);
}

console.log("\n— Recall (tier 3: retrieval + the local response model)");
const first = await memory.recall("Which plan am I on?", { scope: alice });
console.log(`  alice asks "Which plan am I on?" → ${first.answer}  [tier ${first.tier}]`);
const bobs = await memory.recall("Which plan am I on?", { scope: bob });
console.log(`  bob asks the same            → ${bobs.answer}  [tier ${bobs.tier}, never alice's cached answer]`);

console.log("\n— The same question again: answered with no model call");
const again = await memory.recall("which plan am I on", { scope: alice });
console.log(`  → ${again.answer}  [tier ${again.tier}, cached: ${again.cached}]`);
const paraphrase = await memory.recall("Which plan am I on right now?", { scope: alice });
console.log(`  a paraphrase → ${paraphrase.answer}  [tier ${paraphrase.tier}${paraphrase.similarity ? `, similarity ${paraphrase.similarity}` : ""}]`);

now += 3 * DAY;
console.log("\n— Three days later alice upgrades: the old fact is superseded and the cached answer evicted");
const upgrade = await memory.ingest({ role: "user", content: "We upgraded to the Enterprise plan.", scope: alice });
for (const r of upgrade.records) console.log(`  ${r.outcome.padEnd(10)} ${r.id.padEnd(7)} ${r.text}${r.superseded_by ? ` (superseded by ${r.superseded_by})` : ""}`);
const after = await memory.recall("Which plan am I on?", { scope: alice });
console.log(`  alice asks again → ${after.answer}  [tier ${after.tier}]`);

const old = upgrade.records.find((r) => r.outcome === "superseded");
if (old) {
  const fact = await memory.state.get(old.id);
  console.log(`  state.get(${old.id}) → status ${fact.status}, superseded_by ${fact.superseded_by}, history: ${fact.history.map((h) => h.event).join(" → ")}`);
}

console.log("\n— The decision trace of that write");
const trace = await memory.traces.get(upgrade.traceId);
console.log(`  ${trace.id} ${trace.kind} at ${trace.created_at}`);
if (trace.kind === "decision_trace") {
  // `kind` narrows the payload: a decision's outcomes are typed, no cast.
  for (const o of trace.payload.outcomes) console.log(`    ${o.outcome.padEnd(10)} ${o.record_id} ${o.text}`);
  console.log(`    evicted cached answers: ${trace.payload.evicted_cache_entries ?? 0}`);
}
for (const e of trace.edges) console.log(`    edge ${e.direction === "out" ? "→" : "←"} ${e.kind} ${e.node.id}`);

console.log("\n— Model calls per stage in this run (all local)");
for (const [stage, u] of Object.entries(memory.usage())) console.log(`  ${stage.padEnd(20)} ${u.calls} calls`);
