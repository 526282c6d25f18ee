import { describe, expect, it } from "vitest";
import { DAY, makeMemory, mulberry32 } from "./helpers.js";


const PLANS = ["Free", "Starter", "Pro", "Team", "Enterprise", "Premium"];
const CITIES = ["Lisbon", "Porto", "Berlin", "Madrid", "Oslo"];
const LIKES = ["hiking", "chess", "jazz", "sushi", "tennis"];
const ALICE = { user: "alice" };
const BOB = { user: "bob" };
const ALICE_PROJECT = { user: "alice", project: "x" }; // sees alice's records too
const SCOPES = [ALICE, BOB, ALICE_PROJECT];
const QUESTIONS = ["Which plan am I on?", "which plan am i on", "What plan am I on now?", "Where do I live?", "where do I live", "What do I like?"];

describe("property: the response cache never serves a stale or cross-scope answer", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`random writes, forgets, expiry and recalls across scopes (seed ${seed})`, async () => {
      const rand = mulberry32(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
      const { memory, clock } = makeMemory();
      // A low threshold makes tier 2 fire often, which is what this property must survive.
      await memory.config.cache({ similarity: 0.5 });
      const truth = new Map<string, { plan?: string; city?: string }>([
        ["alice", {}],
        ["bob", {}],
      ]);
      const owner = (scope: Record<string, string>) => truth.get(scope.user!)!;
      const tiers = { 1: 0, 2: 0, 3: 0 };

      for (let step = 0; step < 150; step++) {
        const r = rand();
        if (r < 0.3) {
          const scope = pick([ALICE, BOB]);
          if (rand() < 0.5) {
            const plan = pick(PLANS);
            await memory.ingest({ content: `I'm on the ${plan} plan.`, scope });
            owner(scope).plan = plan;
          } else {
            const city = pick(CITIES);
            await memory.ingest({ content: `I live in ${city}.`, scope });
            owner(scope).city = city;
          }
        } else if (r < 0.4) {
          await memory.ingest({ content: pick([`I love ${pick(LIKES)}.`, "I'm tired today.", "I'm hungry right now."]), scope: pick(SCOPES) });
        } else if (r < 0.45) {
          // Forget the current plan of someone: the truth becomes "unknown".
          const scope = pick([ALICE, BOB]);
          const current = (await memory.state.list({ scope, limit: 1000 })).records.find((x) => x.attribute === "plan" && x.scope.user === scope.user && !x.scope.project);
          if (current) {
            await memory.state.forget(current.id);
            delete owner(scope).plan;
          }
        } else if (r < 0.5) {
          clock.advance(Math.floor(rand() * 5) * DAY);
          await memory.lifecycle.expire();
        } else if (r < 0.52) {
          await memory.cache.flush();
        } else {
          const scope = pick(SCOPES);
          const question = pick(QUESTIONS);
          const result = await memory.recall(question, { scope });
          tiers[result.tier] += 1;
          const t = owner(scope);
          if (result.tier !== 3) {
            // Every cited record is current, unexpired and visible to exactly this scope's reader.
            for (const rec of result.records) {
              const state = await memory.state.get(rec.id);
              expect(state.status, `${question} @ ${JSON.stringify(scope)}`).toBe("current");
              if (state.expires_at) expect(Date.parse(state.expires_at)).toBeGreaterThan(clock.now());
              expect(Object.entries(state.scope).every(([k, v]) => scope[k as keyof typeof scope] === v)).toBe(true);
            }
            const original = await memory.traces.get(result.traceId);
            const from = original.edges.find((e) => e.kind === "reused_from");
            if (from) expect((await memory.traces.get(from.node.id)).scope).toEqual(scope);
          }
          // Whatever the tier, the answer carries the current value and none of the others.
          if (/plan/i.test(question)) {
            if (t.plan) expect(result.answer, `${question} @ ${JSON.stringify(scope)} tier ${result.tier}`).toContain(t.plan);
            for (const other of PLANS.filter((p) => p !== t.plan)) expect(result.answer).not.toMatch(new RegExp(`\\b${other}\\b`));
          } else if (/live/i.test(question)) {
            if (t.city) expect(result.answer).toContain(t.city);
            for (const other of CITIES.filter((c) => c !== t.city)) expect(result.answer).not.toContain(other);
          }
        }
      }
      // The run exercised the cache, not only tier 3.
      expect(tiers[1] + tiers[2]).toBeGreaterThan(5);
      expect(tiers[3]).toBeGreaterThan(5);
      await memory.close();
    });
  }
});
